//! The command-line example (`examples/moxl.rs`) logs in with its defaults to both servers of the test support over
//! STARTTLS, direct TLS and WebSocket (`wss://`), given only the account, the address and the test CA; and over the
//! WebSocket endpoint found in host-meta (XEP-0156) where the server serves one (ejabberd's `mod_host_meta`; the
//! shared Prosody serves none, which is a clear error).

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use common::{example_binary, servers, Transport};
use moxl_test_support::Server;

#[test]
fn the_example_logs_in_with_its_defaults_to_both_servers_over_every_transport() {
    let binary = example_binary("moxl");
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
        // XEP-0156: the endpoint in host-meta, on the server's HTTPS port (the domain resolves to loopback)
        let https = match server {
            Server::Prosody(p) => p.https_port().unwrap(),
            Server::Ejabberd(e) => e.https_port(),
            _ => unreachable!("two kinds"),
        };
        let output = Command::new(&binary)
            .args(["--jid", &server.jid("juliet"), "--password", "secret", "--ca-file"])
            .arg(&ca_file)
            .args(["--host-meta", &format!("https://localhost:{https}"), "login"])
            .output()
            .unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        if matches!(server, Server::Ejabberd(_)) {
            assert!(output.status.success(), "{}: {stdout} {stderr}", server.kind());
            let line: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap_or_default()).unwrap();
            assert_eq!(line["transport"], "wss");
        } else {
            assert_eq!(output.status.code(), Some(1), "{}: {stdout} {stderr}", server.kind());
            assert!(stderr.contains("no usable WebSocket endpoint of localhost") && stderr.contains("404"), "{stderr}");
        }
    }
}

/// Runs the example with `args`; returns its exit code, stdout and stderr.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(example_binary("moxl")).args(args).output().unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.code(), text(&output.stdout), text(&output.stderr))
}

#[test]
fn help_describes_every_option_and_usage_errors_come_before_any_network_work() {
    let (code, help, stderr) = run(&["--help"]);
    assert_eq!((code, stderr.as_str()), (Some(0), ""), "--help exits 0, on stdout");
    for option in [
        "--jid JID",
        "--password PASSWORD",
        "--anonymous DOMAIN",
        "--server HOST:PORT",
        "--direct-tls",
        "--websocket URL",
        "--discover-websocket",
        "--host-meta BASE",
        "--ca-file PEM",
        "--mechanism NAME",
        "--timeout SECONDS",
        "--insecure-cleartext",
        "--help",
    ] {
        let line = help.lines().find(|l| l.trim_start().contains(option)).unwrap_or_else(|| panic!("{option}: {help}"));
        assert!(line.len() > option.len() + 12, "{option} is described: {line:?}");
    }
    for command in ["login", "send TO BODY", "listen", "echo", "roster", "disco JID"] {
        assert!(help.lines().any(|l| l.trim_start().starts_with(command)), "{command}: {help}");
    }
    // 192.0.2.1 (TEST-NET-1) never answers: a usage error that waited for the network would take the connect
    // timeout, not milliseconds.
    let server = ["--server", "192.0.2.1:5222"];
    for (args, error) in [
        (vec!["login"], "give --jid and --password"),
        (vec!["--jid", "a@localhost", "--password", "p"], "no command"),
        (vec!["--jid", "a@localhost", "--password", "p", "fly"], "unknown command \"fly\""),
        (vec!["--jid", "a@localhost", "--password", "p", "send", "b@localhost"], "send takes TO BODY"),
        (vec!["--jid", "a@localhost", "--password", "p", "--mechanism", "X-MAGIC", "login"], "unknown SASL mechanism"),
        (vec!["--jid", "a@localhost", "--password", "p", "--colour", "login"], "unknown option --colour"),
        (vec!["--jid", "a@localhost", "--password", "p", "--timeout", "soon", "login"], "--timeout takes seconds"),
    ] {
        let started = std::time::Instant::now();
        let (code, stdout, stderr) = run(&[&server[..], &args].concat());
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with(&format!("moxl: usage error: {error}")), "{args:?}: {stderr}");
        assert!(stderr.contains("--help"), "{stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{args:?} took {:?}", started.elapsed());
    }
}

#[test]
fn errors_exit_non_zero_and_name_the_option_that_fixes_them() {
    for server in servers() {
        let ca = moxl_test_support::TempDir::new("moxl-example-ca").unwrap();
        let ca_file = ca.path().join("ca.pem");
        std::fs::write(&ca_file, server.ca_pem()).unwrap();
        let address = format!("127.0.0.1:{}", server.c2s_port());
        let account = ["--jid", &server.jid("juliet"), "--password", "secret", "--server", &address];
        let kind = server.kind();

        // The test CA is not trusted by default: the message names --ca-file.
        let (code, _, stderr) = run(&[&account[..], &["login"]].concat());
        assert_eq!(code, Some(1), "{kind}: {stderr}");
        assert!(stderr.contains("not signed by a trusted certificate authority") && stderr.contains("--ca-file PEM"));
        assert!(!stderr.contains("ClientBuilder"), "{kind}: the library's advice is not the user's: {stderr}");

        // An error reply (no such server: remote-server-not-found or alike) exits 1, with the error on stdout too.
        let ca_arg = ["--ca-file", ca_file.to_str().unwrap()];
        let (code, stdout, stderr) = run(&[&account[..], &ca_arg, &["disco", "nowhere.invalid"]].concat());
        assert_eq!(code, Some(1), "{kind}: {stdout} {stderr}");
        let line: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
        assert!(line["error"].is_string(), "{kind}: {line}");
        assert!(stderr.starts_with("moxl: the server answered with an error: "), "{kind}: {stderr}");

        // A refused connection names the address once.
        let (code, _, stderr) = run(&["--jid", "a@localhost", "--password", "p", "--server", "127.0.0.1:1", "login"]);
        assert_eq!(code, Some(1), "{stderr}");
        assert_eq!(stderr.matches("127.0.0.1:1").count(), 1, "{stderr}");
    }
}
