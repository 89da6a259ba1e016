//! The README's examples run as a newcomer runs them (the binary, its environment, its output), against the test
//! support's Prosody, with a peer `Client` driven by the test: the echo bot (which is also the README's quick
//! start, checked to be the same text), the microblog reader, the multi-account daemon and the file receiver.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::BufRead;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use common::{builder, example_binary};
use moxl::prelude::*;
use moxl::xep::rfc6121_message::IncomingMessage;
use moxl::xep::rfc6121_presence::{subscribed, PresenceInfo};
use moxl::xep::xep_0234_file_transfer::{send_file, SendOptions, TransportChoice};
use moxl::xep::xep_0277_microblog::{publish_action, Entry};
use moxl::xep::xep_0446_file_metadata::FileMetadata;
use moxl_test_support::{Prosody, TempDir};

/// One Prosody for this file, with an account per role (the tests run in parallel).
fn prosody() -> &'static Prosody {
    static PROSODY: OnceLock<Prosody> = OnceLock::new();
    PROSODY.get_or_init(|| {
        let mut accounts = Prosody::builder();
        for user in ["bot", "echo-peer", "reader", "poster", "d1", "d2", "daemon-peer", "drop", "drop-peer"] {
            accounts = accounts.account(user, "secret");
        }
        accounts.start().expect("Prosody starts (bash scripts/install-test-deps.sh)")
    })
}

/// A running example: its stdout, line by line, as it comes.
struct Running {
    child: Child,
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
    name: &'static str,
    _ca: TempDir,
}

impl Running {
    /// Starts the example `name` as `user` of [`prosody`], pointed at it by the environment the examples read.
    fn start(name: &'static str, user: &str, args: &[&str], env: &[(&str, &str)]) -> Running {
        let p = prosody();
        let ca = TempDir::new("moxl-examples-ca").unwrap();
        std::fs::write(ca.path().join("ca.pem"), p.ca_pem()).unwrap();
        let mut child = Command::new(example_binary(name))
            .args(args)
            .env("MOXL_JID", p.jid(user))
            .env("MOXL_PASSWORD", "secret")
            .env("MOXL_SERVER", format!("127.0.0.1:{}", p.c2s_port()))
            .env("MOXL_CA_FILE", ca.path().join("ca.pem"))
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(|l| l.ok()) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running { child, lines, name, _ca: ca }
    }

    /// The next line of output, which must satisfy `expected` (within 60 s: a debug build logs in slowly).
    async fn line(&mut self, expected: impl Fn(&str) -> bool) -> String {
        let line = tokio::time::timeout(Duration::from_secs(60), self.lines.recv()).await;
        let line = line.unwrap_or_else(|_| panic!("{}: no output in 60 s", self.name));
        let line = line.unwrap_or_else(|| panic!("{}: ended early: {:?}", self.name, self.child.try_wait()));
        assert!(expected(&line), "{}: unexpected line {line:?}", self.name);
        line
    }

    /// Sends the process `signal` (`INT`, `TERM`) and waits for it to end; returns its status and its last lines.
    async fn stop(mut self, signal: &str) -> (ExitStatus, Vec<String>) {
        let killed = Command::new("kill").args([&format!("-{signal}"), &self.child.id().to_string()]).status();
        assert!(killed.unwrap().success());
        let mut rest = Vec::new();
        while let Ok(Some(line)) = tokio::time::timeout(Duration::from_secs(10), self.lines.recv()).await {
            rest.push(line);
        }
        (self.child.wait().unwrap(), rest)
    }
}

impl Drop for Running {
    /// A test that failed half-way leaves no example running (the daemon would reconnect for ever).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A connected peer that is online (initial presence sent).
async fn peer(user: &str) -> moxl::client::Client {
    let client = builder(prosody(), user, "secret").connect().await.unwrap();
    client.xec().context().send(presence(None, None)).unwrap();
    client
}

#[test]
fn the_quick_start_of_the_readme_is_the_echo_bot_example() {
    let readme = include_str!("../README.md");
    let example = include_str!("../examples/echo_bot.rs");
    let start = readme.find("```rust\n//! An echo bot").expect("the README's quick start shows examples/echo_bot.rs");
    let code = &readme[start + "```rust\n".len()..];
    let code = &code[..=code.find("\n```\n").unwrap()];
    assert_eq!(code, example, "README.md's quick start differs from examples/echo_bot.rs: copy the file into it");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_echo_bot_answers_a_chat_and_closes_its_session_on_ctrl_c() {
    let mut bot = Running::start("echo_bot", "bot", &[], &[]);
    let online = bot.line(|l| l.starts_with("online as bot@localhost/")).await;
    let peer = peer("echo-peer").await;
    let mut replies = peer.xec().events::<IncomingMessage>();
    peer.xec().context().send(message(&prosody().jid("bot"), "chat", Some("Good morrow"))).unwrap();
    bot.line(|l| l.starts_with("echo-peer@localhost/") && l.ends_with(": Good morrow")).await;
    let reply = tokio::time::timeout(Duration::from_secs(10), replies.recv()).await.unwrap().unwrap();
    assert_eq!((reply.info.from.as_deref(), reply.body()), (online.strip_prefix("online as "), Some("Good morrow")));

    let (status, rest) = bot.stop("INT").await;
    assert!(status.success(), "{status}: {rest:?}");
    assert_eq!(rest, ["closed"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_microblog_reader_prints_the_last_ten_posts_then_each_new_one() {
    let poster = peer("poster").await;
    let mut requests = poster.xec().subscribe("subscriptionrequest");
    let ctx = poster.xec().context();
    for n in 1..=12 {
        let entry = Entry::new(&format!("post {n}"), "localhost", &format!("p{n}"));
        ctx.request(publish_action(&entry, Some(&format!("p{n}"))).unwrap()).unwrap().await.unwrap();
    }
    let mut reader = Running::start("microblog_reader", "reader", &[&prosody().jid("poster")], &[]);
    reader.line(|l| l == "following poster@localhost: waiting for their approval").await;
    // The poster approves the reader's request to follow.
    let request = tokio::time::timeout(Duration::from_secs(30), requests.recv()).await.unwrap().unwrap();
    let from = request.content::<PresenceInfo>().unwrap().from.clone().unwrap();
    ctx.send(subscribed(&from)).unwrap();

    let mut titles = Vec::new();
    for _ in 0..10 {
        titles.push(reader.line(|l| l.contains(" post ")).await.split_once(' ').unwrap().1.to_owned());
    }
    titles.sort_by_key(|t| t[5..].parse::<u32>().unwrap());
    assert_eq!(titles, (3..=12).map(|n| format!("post {n}")).collect::<Vec<_>>(), "the last ten");
    reader.line(|l| l.starts_with("-- 10 posts")).await;
    let entry = Entry::new("post 13", "localhost", "p13");
    ctx.request(publish_action(&entry, Some("p13")).unwrap()).unwrap().await.unwrap();
    reader.line(|l| l.ends_with(" post 13")).await;

    let (status, rest) = reader.stop("INT").await;
    assert!(status.success(), "{status}: {rest:?}");
    assert!(rest.is_empty(), "each post once: {rest:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_logs_accounts_in_prints_their_messages_and_resumes_its_sessions_after_a_restart() {
    let p = prosody();
    let dir = TempDir::new("moxl-example-daemon").unwrap();
    let accounts = dir.path().join("accounts.txt");
    std::fs::write(&accounts, format!("{} secret\n{} secret\n", p.jid("d1"), p.jid("d2"))).unwrap();
    let store = format!("sqlite:{}", dir.path().join("sessions.db").display());
    let args = [accounts.to_str().unwrap()];
    let env = [("MOXL_STORE", store.as_str())];

    let mut daemon = Running::start("daemon", "d1", &args, &env);
    let mut online = Vec::new();
    for _ in 0..2 {
        online.push(daemon.line(|l| l.contains("] online as d") && l.ends_with(" (new session)")).await);
    }
    let d1 = online.iter().find(|l| l.starts_with("[d1@localhost]")).expect("d1 online");
    let d1_full = d1.split(' ').nth(3).unwrap().to_owned();
    let peer = peer("daemon-peer").await;
    peer.xec().context().send(message(&p.jid("d2"), "chat", Some("Wherefore art thou?"))).unwrap();
    daemon
        .line(|l| l.starts_with("[d2@localhost] #1 daemon-peer@localhost/") && l.ends_with(": Wherefore art thou?"))
        .await;
    let (status, rest) = daemon.stop("TERM").await;
    assert!(status.success(), "{status}: {rest:?}");
    assert_eq!(rest, [format!("stopped; sessions kept in {store}")]);

    // While the daemon is down, its sessions wait on the server; a message to d1 waits with them.
    peer.xec().context().send(message(&d1_full, "chat", Some("Art thou there?"))).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut daemon = Running::start("daemon", "d1", &args, &env);
    let mut lines = Vec::new();
    for _ in 0..3 {
        lines.push(daemon.line(|_| true).await);
    }
    lines.sort();
    assert!(lines[0].starts_with("[d1@localhost] #1 daemon-peer@localhost/"), "{lines:?}");
    assert!(lines[0].ends_with(": Art thou there?"), "{lines:?}");
    assert_eq!(lines[1], format!("[d1@localhost] online as {d1_full} (resumed)"), "{lines:?}");
    assert!(lines[2].starts_with("[d2@localhost] online as d2@localhost/") && lines[2].ends_with(" (resumed)"));
    let (status, _) = daemon.stop("TERM").await;
    assert!(status.success(), "{status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_file_receiver_saves_an_offered_file_under_its_own_name_once_its_hash_is_checked() {
    let dir = TempDir::new("moxl-file-drop").unwrap();
    let mut drop = Running::start("file_receiver", "drop", &[dir.path().to_str().unwrap()], &[]);
    let online = drop.line(|l| l.starts_with("online as drop@localhost/")).await;
    let to = online.strip_prefix("online as ").unwrap().to_owned();
    let peer = peer("drop-peer").await;
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut file = FileMetadata::default();
    // a peer's name is reduced to its last component: nothing lands outside the directory
    file.name = Some("../../summit.bin".into());
    file.size = Some(bytes.len() as u64);
    let options = SendOptions::default().transport(TransportChoice::Ibb);
    let ctx = peer.xec().context();
    let transfer = send_file(&ctx, &to, file, std::io::Cursor::new(bytes.clone()), options).await.unwrap();
    transfer.finished().await.unwrap();
    let mut progress = 0;
    let last = loop {
        let line = drop.line(|l| l.starts_with("summit.bin: ") || l.starts_with("saved ")).await;
        if line.starts_with("saved ") {
            break line;
        }
        progress += 1;
    };
    assert!(progress > 0, "progress is printed");
    assert!(last.ends_with(&format!("(300000 bytes from {}, hash checked)", peer.jid())), "{last}");
    assert_eq!(std::fs::read(dir.path().join("summit.bin")).unwrap(), bytes);
    assert!(!dir.path().join("summit.bin.part").exists());
    let (status, rest) = drop.stop("INT").await;
    assert!(status.success(), "{status}: {rest:?}");
}
