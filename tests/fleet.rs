//! A fleet: three processes share one PostgreSQL session store (127.0.0.1:5432) and the sessions of six accounts on
//! one Prosody. Each process takes the lease of every session it can and drives it; one process is killed
//! (`SIGKILL`) while messages flow to every account. The others take its sessions over once its leases expire
//! (lease ttl 2 s), resume them by stream management (XEP-0198: the server kept them), revive their pending
//! Actions (each session asked romeo a question that he answers only after the takeover), and get every message:
//! nothing lost, every session back online, no session driven by two processes at once.
//!
//! One binary, two roles (`harness = false`): run by cargo it is the test; with `MOXL_FLEET_WORKER` set it is one
//! process of the fleet (the test starts three of itself), printing what it does on stdout:
//! `online ACCOUNT STATE`, `recv ACCOUNT BODY`, `answered ACCOUNT`, `offline ACCOUNT`.

#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use moxl::client::{Client, ConnectionState};
use moxl::jid::BareJid;
use moxl::prelude::*;
use moxl::session::{LeaseError, SessionStore};
use moxl::transport::TlsConfig;
use moxl_test_support::{PostgresDb, Prosody};

const ACCOUNTS: usize = 6;
const WORKERS: usize = 3;
const MESSAGES: usize = 60;
const LEASE_TTL: Duration = Duration::from_secs(2);

/// A question a session asks romeo when it starts; its reply may reach another process (a revived Action).
#[derive(Serialize, Deserialize)]
struct Ask {
    to: String,
    account: String,
}

#[action(group = "fleettest")]
impl Ask {
    fn request(&self) -> ElementBuilder {
        iq_get(Some(&self.to)).append(ElementBuilder::new("query", "urn:moxl:test:fleet"))
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) -> Result<()> {
        println!("answered {}", self.account);
        Ok(())
    }
}

/// The question arriving at romeo: kept for the test to answer later.
#[payload(name = "query", ns = "urn:moxl:test:fleet")]
#[derive(Default)]
struct Question;

impl Payload for Question {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        ctx.answer_later();
        ctx.pack(stanza.clone()).deliver(); // "question"
        Ok(())
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by the test"))
}

/// One process of the fleet: drives every session whose lease it can take, until killed.
async fn worker() -> Result<()> {
    let owner = env("MOXL_FLEET_WORKER");
    let store = SessionStore::open(&env("MOXL_FLEET_DB")).await?;
    let tls = TlsConfig::only_ca_pem(&env("MOXL_FLEET_CA"))?;
    let port: u16 = env("MOXL_FLEET_PORT").parse().unwrap();
    let accounts: Vec<BareJid> = env("MOXL_FLEET_ACCOUNTS").split(',').map(|a| a.parse().unwrap()).collect();
    let mut driven: BTreeMap<BareJid, Client> = BTreeMap::new();
    let parent = std::os::unix::process::parent_id();
    loop {
        // The test died (its workers would otherwise run on): stop too.
        if std::os::unix::process::parent_id() != parent {
            return Ok(());
        }
        // A session whose lease was lost (or whose connection gave up) is no longer ours.
        driven.retain(|account, client| {
            let alive = !matches!(*client.state().borrow(), ConnectionState::Disconnected(_));
            if !alive {
                println!("offline {account}");
            }
            alive
        });
        for account in &accounts {
            if driven.contains_key(account) {
                continue;
            }
            let builder = Client::builder(account.clone(), "secret")
                .server("127.0.0.1", port)
                .tls(tls.clone())
                .session_store(store.clone(), owner.clone())
                .lease_ttl(LEASE_TTL);
            let mut bodies = builder.subscribe("body");
            match builder.connect().await {
                Ok(client) => {
                    let state = client.state().borrow().clone();
                    if !matches!(state, ConnectionState::Resumed(_)) {
                        client.xec().context().send(ElementBuilder::new("presence", "jabber:client"))?;
                        let ask = Ask { to: env("MOXL_FLEET_ASK"), account: account.to_string() };
                        client.xec().context().request(ask)?;
                    }
                    let kind = format!("{state:?}");
                    println!("online {account} {}", kind.split('(').next().unwrap_or_default());
                    let account = account.clone();
                    tokio::spawn(async move {
                        while let Some(packet) = bodies.recv().await {
                            if let Some(body) = packet.content::<String>() {
                                println!("recv {account} {body}");
                            }
                        }
                    });
                    driven.insert(account_key(&client), client);
                }
                Err(Error::Lease(LeaseError::Held { .. })) => {}
                Err(e) => eprintln!("{owner}: {account}: {e}"),
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn account_key(client: &Client) -> BareJid {
    client.jid().to_bare()
}

/// What the workers printed, with when the test read it.
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<(Instant, usize, String)>>>);

impl Events {
    fn read(&self, index: usize, child: &mut Child) {
        let out = BufReader::new(child.stdout.take().unwrap());
        let events = self.clone();
        std::thread::spawn(move || {
            for line in out.lines().map_while(std::result::Result::ok) {
                events.0.lock().unwrap().push((Instant::now(), index, line));
            }
        });
    }

    fn all(&self) -> Vec<(Instant, usize, String)> {
        self.0.lock().unwrap().clone()
    }

    /// Who drives each account now (the last `online` of a live worker), per the events so far.
    fn drivers(&self, dead: Option<usize>) -> BTreeMap<String, usize> {
        let mut drivers = BTreeMap::new();
        for (_, worker, line) in self.all() {
            let mut words = line.split(' ');
            match (words.next(), words.next()) {
                (Some("online"), Some(account)) => {
                    drivers.insert(account.to_owned(), worker);
                }
                (Some("offline"), Some(account)) if drivers.get(account) == Some(&worker) => {
                    drivers.remove(account);
                }
                _ => {}
            }
        }
        drivers.retain(|_, w| Some(*w) != dead);
        drivers
    }

    fn received(&self) -> BTreeSet<String> {
        self.all().into_iter().filter_map(|(_, _, l)| l.strip_prefix("recv ").map(|r| r.to_owned())).collect()
    }
}

/// The worker processes, killed when the test ends (or fails).
struct Workers(Vec<Child>);

impl Drop for Workers {
    fn drop(&mut self) {
        for w in &mut self.0 {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}

fn wait_for(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn fleet() -> Result<()> {
    let mut builder = Prosody::builder().account("romeo", "montague");
    let users: Vec<String> = (0..ACCOUNTS).map(|i| format!("fleet{i}")).collect();
    for user in &users {
        builder = builder.account(user.as_str(), "secret");
    }
    let p = builder.start().expect("Prosody starts (bash scripts/install-test-deps.sh)");
    let db = PostgresDb::create().expect("PostgreSQL on 127.0.0.1:5432 (bash scripts/install-test-deps.sh)");
    let accounts: Vec<String> = users.iter().map(|u| p.jid(u)).collect();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let romeo = rt.block_on(
        Client::builder(BareJid::new(&p.jid("romeo"))?, "montague")
            .server("127.0.0.1", p.c2s_port())
            .tls(TlsConfig::only_ca_pem(p.ca_pem())?)
            .connect(),
    )?;
    let questions = Arc::new(Mutex::new(Vec::new()));
    let mut asked = romeo.xec().subscribe("question");
    rt.spawn({
        let questions = Arc::clone(&questions);
        async move {
            while let Some(q) = asked.recv().await {
                questions.lock().unwrap().push(q.content::<Element>().unwrap().clone());
            }
        }
    });
    let exe = std::env::current_exe().unwrap();
    let events = Events::default();
    let mut workers = Workers(
        (0..WORKERS)
            .map(|i| {
                let mut child = Command::new(&exe)
                    .env("MOXL_FLEET_WORKER", format!("worker-{i}"))
                    .env("MOXL_FLEET_DB", db.url())
                    .env("MOXL_FLEET_CA", p.ca_pem())
                    .env("MOXL_FLEET_PORT", p.c2s_port().to_string())
                    .env("MOXL_FLEET_ACCOUNTS", accounts.join(","))
                    .env("MOXL_FLEET_ASK", romeo.jid().to_string())
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap();
                events.read(i, &mut child);
                child
            })
            .collect(),
    );

    wait_for("every session online", Duration::from_secs(30), || events.drivers(None).len() == ACCOUNTS);
    let before = events.drivers(None);
    // The victim: the worker driving the most sessions.
    let mut load = [0usize; WORKERS];
    before.values().for_each(|w| load[*w] += 1);
    let victim = (0..WORKERS).max_by_key(|w| load[*w]).unwrap();
    let taken: Vec<String> = before.iter().filter(|(_, w)| **w == victim).map(|(a, _)| a.clone()).collect();
    println!("fleet: sessions per worker {load:?}; killing worker-{victim} (drives {taken:?})");

    wait_for("every session asked romeo", Duration::from_secs(10), || questions.lock().unwrap().len() >= ACCOUNTS);
    let mut killed_at = None;
    rt.block_on(async {
        for i in 0..MESSAGES {
            let to = &accounts[i % ACCOUNTS];
            romeo.xec().context().send(message(to, "chat", Some(&format!("m{i}"))))?;
            tokio::time::sleep(Duration::from_millis(25)).await;
            if i == MESSAGES / 2 {
                workers.0[victim].kill().unwrap(); // SIGKILL: no goodbye, its leases run until they expire
                workers.0[victim].wait().unwrap();
                killed_at = Some(Instant::now());
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await; // the server acknowledges the last ones
        Ok::<(), Error>(())
    })?;
    let killed_at = killed_at.unwrap();

    let expected: BTreeSet<String> = (0..MESSAGES).map(|i| format!("{} m{i}", accounts[i % ACCOUNTS])).collect();
    wait_for("every session back online on the others", Duration::from_secs(30), || {
        events.drivers(Some(victim)).len() == ACCOUNTS
    });
    let back = Instant::now() - killed_at;
    wait_for("every message received", Duration::from_secs(30), || expected.is_subset(&events.received()));

    // Romeo answers the questions now: the victim's sessions' Actions were revived by the processes that took over.
    for question in questions.lock().unwrap().iter() {
        romeo.xec().context().send(iq_result(question))?;
    }
    let answered = || -> BTreeMap<String, usize> {
        events.all().into_iter().filter_map(|(_, w, l)| Some((l.strip_prefix("answered ")?.to_owned(), w))).collect()
    };
    wait_for("every question answered", Duration::from_secs(10), || answered().len() == ACCOUNTS);
    for account in &taken {
        assert_ne!(answered()[account], victim, "{account}: the revived Action got the answer");
    }
    rt.block_on(romeo.close());

    // No session driven by two live processes at once: an account comes online elsewhere only after the victim
    // died, and no account has two live drivers.
    for (at, worker, line) in events.all() {
        if let Some(rest) = line.strip_prefix("online ") {
            let account = rest.split(' ').next().unwrap();
            if taken.iter().any(|t| t == account) && worker != victim {
                assert!(at >= killed_at, "{account} taken over by worker-{worker} before worker-{victim} died");
            }
        }
    }
    let mut online: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (_, worker, line) in events.all().into_iter().filter(|(_, w, _)| *w != victim) {
        if let Some(rest) = line.strip_prefix("online ") {
            online.entry(rest.split(' ').next().unwrap().to_owned()).or_default().push(worker);
        }
    }
    for (account, drivers) in &online {
        let unique: BTreeSet<_> = drivers.iter().collect();
        assert_eq!(unique.len(), 1, "{account} came online in two live workers: {drivers:?}");
    }
    let resumed = events
        .all()
        .iter()
        .filter(|(at, w, l)| *at >= killed_at && *w != victim && l.starts_with("online ") && l.ends_with("Resumed"))
        .count();
    println!(
        "fleet: {} sessions taken over from worker-{victim} ({resumed} resumed by stream management) within {:.1} s \
         of its death, their Actions revived; {MESSAGES}/{MESSAGES} messages received",
        taken.len(),
        back.as_secs_f64()
    );
    assert_eq!(resumed, taken.len(), "every taken-over session resumed (the server kept them)");
    assert!(back < LEASE_TTL * 4, "taken over within {back:?}");
    drop(workers);
    Ok(())
}

fn main() -> Result<()> {
    if std::env::var_os("MOXL_FLEET_WORKER").is_some() {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        return rt.block_on(worker());
    }
    // `cargo test` passes harness options (`--nocapture`, filters): this file has one test, run it.
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|f| "three_processes_one_killed".contains(f.as_str())) {
        return Ok(());
    }
    println!("test three_processes_one_killed ...");
    fleet()?;
    println!("test three_processes_one_killed ... ok");
    Ok(())
}
