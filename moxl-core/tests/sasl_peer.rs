//! CRAM-MD5 and DIGEST-MD5 against the Cyrus SASL reference server, `sasl-sample-server` (Debian packages
//! `sasl2-bin` and `libsasl2-modules`), run as a child process with a throw-away sasldb.
//!
//! Its stdio protocol: lines `S: <base64>` from the server and `C: <base64>` from the client. The server first
//! lists its mechanisms; the client answers with the mechanism name; then challenges and responses alternate
//! until the server prints `Negotiation complete` (or an error). stdout is block-buffered on a pipe, hence
//! `stdbuf -oL`.

#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use base64::Engine;
use moxl_core::auth::{AuthError, Mechanism, SaslConfig, SaslSession};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const USER: &str = "user";
const PASSWORD: &str = "pencil";
const DOMAIN: &str = "localhost";
const TIMEOUT: Duration = Duration::from_secs(20);

/// Finds a program on `PATH` or in the sbin directories (where Debian puts these two).
fn find(program: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{program}` is not installed; this test needs the Cyrus SASL reference server. \
                 Run `bash scripts/install-test-deps.sh` (Debian: apt-get install sasl2-bin libsasl2-modules)."
            )
        })
}

/// A temporary directory with `sample.conf` and a sasldb holding `user@localhost` / `pencil`; removed on drop.
struct SaslDir(PathBuf);

impl SaslDir {
    fn new() -> SaslDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        // Before creating anything: fail with the install hint if the server is missing.
        find("sasl-sample-server");
        let saslpasswd2 = find("saslpasswd2");
        let dir = std::env::temp_dir().join(format!(
            "moxl-sasl-peer-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("sasldb");
        let mut child = Command::new(saslpasswd2)
            .arg("-f")
            .arg(&db)
            .args(["-c", "-u", DOMAIN, "-p", USER])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(PASSWORD.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success(), "saslpasswd2 failed");
        std::fs::write(
            dir.join("sample.conf"),
            format!(
                "pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: {}\nmech_list: CRAM-MD5 DIGEST-MD5\n",
                db.display()
            ),
        )
        .unwrap();
        SaslDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for SaslDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `sasl-sample-server`, killed on drop.
struct Server {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    transcript: Vec<String>,
}

impl Server {
    fn start(dir: &SaslDir, mechanism: &str, extra: &[&str]) -> Server {
        let server = find("sasl-sample-server");
        // stderr (the error messages) into stdout, so that one reader sees everything in order.
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(r#"exec stdbuf -oL "$0" "$@" 2>&1"#)
            .arg(&server)
            .args(["-s", "xmpp", "-d", DOMAIN, "-u", DOMAIN, "-m", mechanism])
            .args(extra)
            .env("SASL_CONF_PATH", dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Server { child, stdin, lines, transcript: Vec::new() }
    }

    /// The next line, or `None` at end of output.
    fn line(&mut self) -> Option<String> {
        match self.lines.recv_timeout(TIMEOUT) {
            Ok(line) => {
                self.transcript.push(format!("< {line}"));
                Some(line)
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("sasl-sample-server is silent:\n{}", self.transcript.join("\n"))
            }
        }
    }

    fn send(&mut self, data: &[u8]) {
        let line = format!("C: {}\n", B64.encode(data));
        self.transcript.push(format!("> {}", line.trim_end()));
        self.stdin.write_all(line.as_bytes()).unwrap();
        self.stdin.flush().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How an exchange ended.
#[derive(Debug)]
enum Outcome {
    /// The server printed `Negotiation complete`; the value is what our `finish` said.
    Complete(Result<(), AuthError>),
    /// The server refused (its message).
    Refused(String),
}

/// Runs one exchange of `mechanism` with `password` against a fresh server.
fn run(mechanism: Mechanism, password: &str, extra: &[&str]) -> (Outcome, Vec<String>) {
    let dir = SaslDir::new();
    let mut server = Server::start(&dir, mechanism.name(), extra);
    let config = SaslConfig::password(USER, password, DOMAIN);
    let mut session = SaslSession::start(mechanism, &config).unwrap();
    assert_eq!(session.initial_response(), None, "{mechanism} is server-first");

    // The mechanism list, then our choice (no initial response).
    loop {
        match server.line() {
            Some(l) if l.starts_with("S: ") => break,
            Some(_) => {}
            None => panic!("the server ended early:\n{}", server.transcript.join("\n")),
        }
    }
    server.send(mechanism.name().as_bytes());

    let outcome = loop {
        let Some(line) = server.line() else {
            break Outcome::Refused("the server exited".into());
        };
        if let Some(data) = line.strip_prefix("S: ") {
            let challenge = B64.decode(data.trim()).unwrap();
            match session.step(&challenge) {
                Ok(response) => server.send(&response),
                Err(e) => panic!("{mechanism}: our step failed: {e}\n{}", server.transcript.join("\n")),
            }
        } else if line.contains("Negotiation complete") {
            break Outcome::Complete(session.finish(None));
        } else if line.contains("authentication failure") || line.contains("SASL(-") {
            break Outcome::Refused(line);
        }
    };
    (outcome, std::mem::take(&mut server.transcript))
}

#[test]
fn cram_md5_good_password() {
    let (outcome, transcript) = run(Mechanism::CramMd5, PASSWORD, &[]);
    assert!(matches!(outcome, Outcome::Complete(Ok(()))), "{outcome:?}\n{}", transcript.join("\n"));
}

#[test]
fn cram_md5_bad_password() {
    let (outcome, transcript) = run(Mechanism::CramMd5, "not-the-password", &[]);
    assert!(
        matches!(outcome, Outcome::Refused(ref m) if m.contains("authentication failure")),
        "{outcome:?}\n{}",
        transcript.join("\n")
    );
}

/// The server sends `rspauth` as a second challenge, which we check and answer with an empty response.
#[test]
fn digest_md5_good_password() {
    let (outcome, transcript) = run(Mechanism::DigestMd5, PASSWORD, &[]);
    assert!(matches!(outcome, Outcome::Complete(Ok(()))), "{outcome:?}\n{}", transcript.join("\n"));
    // Three client lines: the mechanism, the digest-response, the empty answer to rspauth.
    assert_eq!(transcript.iter().filter(|l| l.starts_with("> C:")).count(), 3, "{}", transcript.join("\n"));
    let response = transcript.iter().filter_map(|l| l.strip_prefix("> C: ")).nth(1).unwrap();
    let response = String::from_utf8(B64.decode(response).unwrap()).unwrap();
    assert!(response.contains(r#"digest-uri="xmpp/localhost""#), "{response}");
    assert!(response.contains(r#"realm="localhost""#), "{response}");
}

#[test]
fn digest_md5_bad_password() {
    let (outcome, transcript) = run(Mechanism::DigestMd5, "not-the-password", &[]);
    assert!(
        matches!(outcome, Outcome::Refused(ref m) if m.contains("authentication failure")),
        "{outcome:?}\n{}",
        transcript.join("\n")
    );
}

/// With `-l` ("server-send-last") the server completes the exchange without sending `rspauth` anywhere
/// (Cyrus 2.1.28 prints no final data): the server never proved it knows the password, so `finish` refuses.
#[test]
fn digest_md5_success_without_rspauth_is_refused() {
    let (outcome, transcript) = run(Mechanism::DigestMd5, PASSWORD, &["-l"]);
    assert!(
        matches!(outcome, Outcome::Complete(Err(AuthError::ServerMisbehaved(_)))),
        "{outcome:?}\n{}",
        transcript.join("\n")
    );
}
