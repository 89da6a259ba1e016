//! A Movim-like daemon: many accounts in one process, sessions stored in SQLite (or PostgreSQL) and resumed on
//! restart, every incoming message printed with its account, a status line (logins, then online count and
//! memory); SIGINT/SIGTERM stop it gracefully. `cargo run --release --example daemon -- accounts.txt` (a line:
//! `JID PASSWORD`). `MOXL_STORE`: the store's URL (default `sqlite:moxl-daemon.db`; `postgres://…` needs the
//! `postgres` feature). Optional for every account: `MOXL_SERVER=host:port`, `MOXL_CA_FILE=ca.pem`.

use std::time::Duration;

use moxl::client::Client;
use moxl::client::ConnectionState::{Online, Reestablished, Resumed};
use moxl::prelude::*;
use moxl::session::SessionStore;
use moxl::transport::TlsConfig;
use moxl::xep::rfc6121_message::IncomingMessage;
use tokio::signal::unix::{signal, SignalKind};

#[tokio::main]
async fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    // Listening from the start: a signal during the logins stops the daemon once they are done.
    let (mut interrupt, mut terminate) = (signal(SignalKind::interrupt())?, signal(SignalKind::terminate())?);
    let file = std::env::args().nth(1).ok_or("usage: daemon ACCOUNTS_FILE (one account a line: JID PASSWORD)")?;
    let text = std::fs::read_to_string(file)?;
    let accounts: Vec<_> = text.lines().filter_map(|line| line.trim().split_once(' ')).collect();
    let url = std::env::var("MOXL_STORE").unwrap_or_else(|_| "sqlite:moxl-daemon.db".into());
    let store = SessionStore::open(&url).await?;
    let server = std::env::var("MOXL_SERVER").ok();
    // Built once, shared by every session (a few KiB of roots each otherwise).
    let tls = match std::env::var("MOXL_CA_FILE") {
        Ok(ca_file) => TlsConfig::with_extra_ca_pem(&std::fs::read_to_string(ca_file)?)?,
        Err(_) => TlsConfig::shared()?,
    };
    let mut logins = tokio::task::JoinSet::new();
    for (jid, password) in accounts.iter().copied() {
        // The session's lease is taken as "daemon": a restarted daemon takes its sessions back at once, another
        // owner gets Error::Lease while this one holds them.
        let mut builder =
            Client::builder(jid.parse()?, password).session_store(store.clone(), "daemon").tls(tls.clone());
        if let Some((host, port)) = server.as_deref().and_then(|s| s.rsplit_once(':')) {
            builder = builder.server(host, port.parse()?);
        }
        let messages = builder.events::<IncomingMessage>(); // before connecting: a resumed session's backlog
        let jid = jid.to_owned();
        logins.spawn(async move { (jid, builder.connect().await, messages) });
    }
    let mut clients = Vec::new();
    while let Some(login) = logins.join_next().await {
        let (account, client, mut messages) = login?;
        let Ok(client) = client.inspect_err(|e| println!("[{account}] {e}")) else { continue };
        // A resumed session is still online on the server; a new one announces itself (RFC 6121 §4.2).
        let resumed = matches!(*client.state().borrow(), Resumed(_));
        if !resumed {
            client.xec().context().send(presence(None, None))?;
        }
        println!("[{account}] online as {} ({})", client.jid(), if resumed { "resumed" } else { "new session" });
        tokio::spawn(async move {
            // per-account state lives with the account's task (handlers keep theirs in ctx.session_state)
            for received in 1.. {
                let Some(m) = messages.recv().await else { break };
                let (from, body) = (m.info.from.as_deref().unwrap_or("?"), m.body().unwrap_or(""));
                println!("[{account}] #{received} {from}: {body}");
            }
        });
        clients.push(client);
        status(&format!("logging in: {}/{} done", accounts.len() - logins.len(), accounts.len()));
    }
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut last = String::new();
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let up = |c: &&Client| matches!(*c.state().borrow(), Online(_) | Resumed(_) | Reestablished(_));
                let online = clients.iter().filter(up).count();
                let line = format!("online {online}/{}  memory {} MiB", accounts.len(), rss_mib());
                if line != last { status(&line); last = line; }
            }
            _ = interrupt.recv() => break,
            _ = terminate.recv() => break,
        }
    }
    // Dropping a stored client keeps its session on the server and in the store for the next run to resume
    // (messages that arrive meanwhile wait there); `client.close()` would end the session: log the account out.
    drop(clients);
    store.close().await;
    println!("stopped; sessions kept in {url}");
    Ok(())
}

/// The status line: rewritten in place on a terminal, a line per change elsewhere (logs).
fn status(line: &str) {
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    eprint!("{}{line}{}", if terminal { "\r\x1b[K" } else { "" }, if terminal { "" } else { "\n" });
}

/// The process's resident memory in MiB (Linux; 0 elsewhere).
fn rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status.lines().find_map(|l| l.strip_prefix("VmRSS:")?.trim().strip_suffix(" kB")?.parse().ok());
    kib.unwrap_or(0) / 1024
}
