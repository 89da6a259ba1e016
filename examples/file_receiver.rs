//! A file drop: accepts every file a contact offers with Jingle file transfer (XEP-0234), over SOCKS5 or in-band
//! bytestreams, saves it into a directory once its hash is checked, and prints its progress.
//!
//! ```text
//! MOXL_JID=drop@example.com MOXL_PASSWORD=secret cargo run --release --example file_receiver -- ./received
//! ```
//!
//! Optional: `MOXL_SERVER=host:port` (instead of resolving the domain), `MOXL_CA_FILE=ca.pem` (a private CA).

use std::path::{Path, PathBuf};

use moxl::client::Client;
use moxl::prelude::*;
use moxl::transport::TlsConfig;
use moxl::xep::xep_0234_file_transfer::{Direction, IncomingFile};

#[tokio::main]
async fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).ok_or("usage: file_receiver DIRECTORY")?);
    let jid = std::env::var("MOXL_JID")?.parse()?;
    let mut builder = Client::builder(jid, std::env::var("MOXL_PASSWORD")?);
    if let Ok(server) = std::env::var("MOXL_SERVER") {
        let (host, port) = server.rsplit_once(':').ok_or("MOXL_SERVER is host:port")?;
        builder = builder.server(host, port.parse()?);
    }
    if let Ok(ca_file) = std::env::var("MOXL_CA_FILE") {
        builder = builder.tls(TlsConfig::with_extra_ca_pem(&std::fs::read_to_string(ca_file)?)?);
    }
    // The typed view of the Jingle sessions peers start for a file (the Packet key "jingle").
    let mut incoming = builder.events::<IncomingFile>();
    let client = builder.connect().await?;
    client.xec().context().send(presence(None, None))?;
    println!("online as {}", client.jid());
    loop {
        tokio::select! {
            file = incoming.recv() => {
                let Some(file) = file else { break };
                tokio::spawn(save(IncomingFile::clone(&file), dir.clone()));
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    client.close().await;
    Ok(())
}

/// Receives one offered file into `NAME.part`, renamed to `NAME` only once its hash matched.
async fn save(file: IncomingFile, dir: PathBuf) -> std::io::Result<()> {
    // the name is the peer's: keep only its last component
    let name = file.file.name.as_deref().map(Path::new).and_then(Path::file_name).map(PathBuf::from);
    let (Direction::Offer, Some(name)) = (file.direction, name) else {
        file.decline().map_err(std::io::Error::other)?;
        return Ok(());
    };
    let (part, done) = (dir.join(format!("{}.part", name.display())), dir.join(&name));
    let transfer = file.receive(tokio::fs::File::create(&part).await?).map_err(std::io::Error::other)?;
    let mut progress = transfer.progress();
    let peer = transfer.peer().to_owned();
    let name = name.display().to_string();
    let printer = tokio::spawn(async move {
        while progress.changed().await.is_ok() {
            let p = *progress.borrow();
            println!("{name}: {} of {} bytes", p.transferred, p.total.unwrap_or(0));
        }
    });
    match transfer.finished().await {
        Ok(completed) if completed.verified.is_some() => {
            tokio::fs::rename(&part, &done).await?;
            println!("saved {} ({} bytes from {peer}, hash checked)", done.display(), completed.bytes);
        }
        Ok(_) => {
            tokio::fs::remove_file(&part).await?;
            println!("dropped {} from {peer}: no hash to check it with", done.display());
        }
        Err(e) => {
            tokio::fs::remove_file(&part).await?;
            println!("failed {} from {peer}: {e}", done.display());
        }
    }
    printer.abort();
    Ok(())
}
