//! The command-line example (`examples/moxl.rs`) logs in with its defaults to both servers of the test support over
//! STARTTLS, direct TLS and WebSocket (`wss://`), given only the account, the address and the test CA.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{servers, Transport};

/// The example's binary, built (incrementally) with the same profile and target dir as this test.
fn example_binary() -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--example", "moxl"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the example failed");
    // target/debug/deps/example_cli-… → target/debug/examples/moxl
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(|deps| deps.parent()).unwrap().join("examples").join("moxl")
}

#[test]
fn the_example_logs_in_with_its_defaults_to_both_servers_over_every_transport() {
    let binary = example_binary();
    for server in servers() {
        let ca = moxl_test_support::TempDir::new("moxl-example-ca").unwrap();
        let ca_file = ca.path().join("ca.pem");
        std::fs::write(&ca_file, server.ca_pem()).unwrap();
        for transport in Transport::ALL {
            let mut command = Command::new(&binary);
            command.args(["--jid", &server.jid("juliet"), "--password", "secret", "--ca-file"]).arg(&ca_file);
            match transport {
                Transport::StartTls => command.args(["--server", &format!("127.0.0.1:{}", server.c2s_port())]),
                Transport::DirectTls => {
                    command.args(["--server", &format!("127.0.0.1:{}", server.direct_tls_port())]).arg("--direct-tls")
                }
                Transport::WebSocket => command.args(["--websocket", &server.websocket_tls_url()]),
            };
            let output = command.arg("login").output().unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            let context = format!(
                "{} over {transport:?}: {}\nstdout: {stdout}\nstderr: {}",
                server.kind(),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
            assert!(output.status.success(), "{context}");
            let line: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap_or_default())
                .unwrap_or_else(|e| panic!("{context}: {e}"));
            assert!(line["jid"].as_str().unwrap().starts_with("juliet@localhost/"), "{context}");
            assert_eq!(line["transport"], transport.name(), "{context}");
            assert!(line["mechanism"].as_str().unwrap().starts_with("SCRAM-SHA-"), "{context}");
        }
    }
}
