//! Starts a throw-away Prosody for manual testing and prints how to reach it; stops it on Enter (or end of
//! input).
//!
//! ```text
//! cargo run -p moxl-test-support --example serve [-- --mam --upload --debug --print-config]
//! ```

use std::io::BufRead as _;

fn main() -> Result<(), moxl_test_support::TestSupportError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    let server = moxl_test_support::Prosody::builder()
        .account("juliet", "secret")
        .account("romeo", "secret")
        .admin("juliet")
        .mam(has("--mam"))
        .http_upload(has("--upload"))
        .debug_log(has("--debug"))
        .start()?;

    if has("--print-config") {
        let config = std::fs::read_to_string(server.config_file()).unwrap_or_default();
        println!("{config}");
    }
    println!(
        "Prosody {} (pid {}) started in {:?}",
        server.version().unwrap_or("?"),
        server.pid(),
        server.start_duration()
    );
    println!("accounts:      juliet@localhost / secret (admin), romeo@localhost / secret");
    println!("STARTTLS:      127.0.0.1:{}", server.c2s_port());
    println!("direct TLS:    127.0.0.1:{}", server.direct_tls_port());
    println!("WebSocket:     {}", server.websocket_url());
    println!("WebSocket TLS: {}", server.websocket_tls_url());
    println!("anonymous:     {}", server.anon_domain());
    println!("components:    {:?} {:?} {:?}", server.muc_domain(), server.pubsub_domain(), server.upload_domain());
    println!("modules:       {}", server.enabled_modules().join(", "));
    println!("CA:            {}", server.ca_file().display());
    println!("log:           {}", server.log_file().display());
    println!("Press Enter to stop.");
    let _ = std::io::stdin().lock().lines().next();
    Ok(())
}
