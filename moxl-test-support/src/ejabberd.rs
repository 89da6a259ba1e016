//! A throw-away ejabberd server (Debian's 23.01 package): builder, process management and accessors.
//!
//! Started without `ejabberdctl`: the Erlang VM is run directly, not distributed (no node name), so that no
//! `epmd` is started and nothing switches to the `ejabberd` user (who could not write our temp dir). Accounts are
//! created through ejabberd's HTTP API (`mod_http_api`, `POST /api/register`) on the plain HTTP listener, open to
//! 127.0.0.1 only, which costs a few milliseconds where a `ejabberdctl register` boots a second VM (~1 s).

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::ports::PortSet;
use crate::process::ServerProcess;
use crate::prosody::{read_log_from, tail, validate_localpart, validate_password, write_file, TurnExternal};
use crate::tempdir::TempDir;
use crate::{certs, TestSupportError};

const DOMAIN: &str = "localhost";
const ANON_DOMAIN: &str = "anon.localhost";
const MUC_DOMAIN: &str = "conference.localhost";
const PUBSUB_DOMAIN: &str = "pubsub.localhost";
const UPLOAD_DOMAIN: &str = "upload.localhost";
const PROXY65_DOMAIN: &str = "proxy.localhost";
const SERVER: &str = "ejabberd";

/// It starts in 1–2 s on an idle machine, but the Erlang VM and ejabberd's configuration loading have taken up to
/// 18 s on a 2-core machine loaded by parallel builds.
const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(5);
const POLL_INTERVAL: Duration = Duration::from_millis(20);
const LOG_TAIL_LINES: usize = 40;
const START_ATTEMPTS: usize = 3;
/// Logged by `ejabberd_app:start/2` once every listener and module is up.
const READY_MARK: &str = " is started in the node ";

/// Configures and starts an [`Ejabberd`] test server.
///
/// Made with [`Ejabberd::builder`]. By default the server has no accounts, no admins and no message archive.
///
/// ```no_run
/// # fn main() -> Result<(), moxl_test_support::TestSupportError> {
/// let server = moxl_test_support::Ejabberd::builder()
///     .account("juliet", "secret")
///     .account("romeo", "secret")
///     .mam(true)
///     .start()?;
/// assert_eq!(server.domain(), "localhost");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `start` is called"]
pub struct EjabberdBuilder {
    accounts: Vec<(String, String)>,
    admins: Vec<String>,
    mam: bool,
    proxy65: bool,
    debug_log: bool,
    hashed_passwords: bool,
    stun_disco: Option<TurnExternal>,
    start_timeout: Duration,
    stop_timeout: Duration,
}

impl Default for EjabberdBuilder {
    fn default() -> Self {
        Self {
            accounts: Vec::new(),
            admins: Vec::new(),
            mam: false,
            proxy65: false,
            debug_log: false,
            hashed_passwords: false,
            stun_disco: None,
            start_timeout: DEFAULT_START_TIMEOUT,
            stop_timeout: DEFAULT_STOP_TIMEOUT,
        }
    }
}

impl EjabberdBuilder {
    /// Creates the account `user@localhost` with this password once the server is up.
    pub fn account(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.accounts.push((user.into(), password.into()));
        self
    }

    /// Makes `user@localhost` a server admin (ACL `admin`). The account itself is created with
    /// [`account`](Self::account).
    pub fn admin(mut self, user: impl Into<String>) -> Self {
        self.admins.push(user.into());
        self
    }

    /// Enables the message archive (XEP-0313, `mod_mam`, also for MUC rooms). Off by default.
    pub fn mam(mut self, enabled: bool) -> Self {
        self.mam = enabled;
        self
    }

    /// Adds the SOCKS5 bytestreams proxy `proxy.localhost` (XEP-0065, `mod_proxy65`) on a port of 127.0.0.1,
    /// announced as `127.0.0.1`. Off by default.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), moxl_test_support::TestSupportError> {
    /// let server = moxl_test_support::Ejabberd::builder().proxy65(true).start()?;
    /// assert_eq!(server.proxy65_domain(), Some("proxy.localhost"));
    /// # Ok(()) }
    /// ```
    pub fn proxy65(mut self, enabled: bool) -> Self {
        self.proxy65 = enabled;
        self
    }

    /// Logs at debug level (every stanza) instead of info level. Off by default.
    pub fn debug_log(mut self, enabled: bool) -> Self {
        self.debug_log = enabled;
        self
    }

    /// Stores SCRAM-SHA-256 hashes (`auth_password_format: scram`) instead of the passwords: the server then
    /// offers PLAIN and SCRAM-SHA-256 only, and announces the same salt at every login (with plain storage it
    /// makes a new salt for each). Off by default.
    pub fn hashed_passwords(mut self, enabled: bool) -> Self {
        self.hashed_passwords = enabled;
        self
    }

    /// Announces a STUN/TURN server with time-limited credentials (XEP-0215 through `mod_stun_disco`, with the
    /// secret, lifetime and services of `turn`; no local STUN listener is offered). Off by default.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), moxl_test_support::TestSupportError> {
    /// use moxl_test_support::{Ejabberd, TurnExternal};
    /// let turn = TurnExternal { host: "turn.localhost".into(), port: 3478, secret: "s3cret".into(), ttl: 3600, tcp: false };
    /// let server = Ejabberd::builder().stun_disco(turn).start()?;
    /// # Ok(()) }
    /// ```
    pub fn stun_disco(mut self, turn: TurnExternal) -> Self {
        self.stun_disco = Some(turn);
        self
    }

    /// How long [`start`](Self::start) waits for the server to listen (default 60 s; it takes 1–2 s when the
    /// machine is idle).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// How long dropping the server waits after SIGTERM before SIGKILL (default 5 s).
    pub fn stop_timeout(mut self, timeout: Duration) -> Self {
        self.stop_timeout = timeout;
        self
    }

    /// Writes the certificates and `ejabberd.yml` into a new temp dir, starts the Erlang VM with ejabberd, waits
    /// until it has started every listener and module, and creates the accounts. Blocks for about 1–2 s.
    ///
    /// Fails with [`TestSupportError::NotInstalled`] when ejabberd is not installed (run
    /// `bash scripts/install-test-deps.sh`), and with [`TestSupportError::ServerStart`], carrying the end of the
    /// server log, when it stops or does not listen in time.
    pub fn start(self) -> Result<Ejabberd, TestSupportError> {
        for (user, password) in &self.accounts {
            validate_localpart(user)?;
            validate_password(password)?;
        }
        for admin in &self.admins {
            validate_localpart(admin)?;
        }
        let install = Install::locate()?;
        let started = Instant::now();
        let dir = TempDir::new("moxl-ejabberd")?;
        let paths = Paths::new(dir.path());
        for d in [&paths.spool, &paths.upload] {
            std::fs::create_dir_all(d).map_err(|e| TestSupportError::io(format!("creating {}", d.display()), e))?;
        }
        let names: Vec<String> =
            [DOMAIN, "*.localhost", ANON_DOMAIN, MUC_DOMAIN, PUBSUB_DOMAIN, UPLOAD_DOMAIN, PROXY65_DOMAIN]
                .into_iter()
                .map(String::from)
                .chain([Ipv4Addr::LOCALHOST.to_string()])
                .collect();
        let generated = certs::generate(&names)?;
        write_file(&paths.ca, generated.ca_pem.as_bytes(), 0o644)?;
        let mut leaf = generated.leaf_pem.clone();
        leaf.push_str(&generated.leaf_key_pem);
        write_file(&paths.certfile, leaf.as_bytes(), 0o600)?;
        write_file(&paths.inetrc, b"{lookup,[\"file\",\"native\"]}.\n{host,{127,0,0,1},[\"localhost\"]}.\n", 0o644)?;

        let mut attempt = 0;
        loop {
            attempt += 1;
            let ports = PortSet::<5>::reserve()?;
            let [c2s_port, direct_tls_port, http_port, https_port, proxy65_port] = ports.get();
            let proxy65_port = self.proxy65.then_some(proxy65_port);
            let config = render(&ConfigInput {
                paths: &paths,
                c2s_port,
                direct_tls_port,
                http_port,
                https_port,
                admins: &self.admins,
                mam: self.mam,
                proxy65_port,
                debug_log: self.debug_log,
                hashed_passwords: self.hashed_passwords,
                stun_disco: self.stun_disco.as_ref(),
            });
            write_file(&paths.config, config.as_bytes(), 0o644)?;
            let log_offset = std::fs::metadata(&paths.log).map(|m| m.len()).unwrap_or(0);
            let mut process = spawn(&install, &paths, dir.path(), self.stop_timeout)?;
            let ports_list: Vec<u16> =
                [c2s_port, direct_tls_port, http_port, https_port].into_iter().chain(proxy65_port).collect();
            match wait_ready(&mut process, &paths, log_offset, &ports_list, self.start_timeout) {
                Ok(()) => {
                    let server = Ejabberd {
                        process,
                        _ports: ports,
                        c2s_port,
                        direct_tls_port,
                        http_port,
                        https_port,
                        ca_pem: generated.ca_pem,
                        paths,
                        mam: self.mam,
                        proxy65_port,
                        start_duration: Duration::ZERO,
                        relaunch: Relaunch {
                            install,
                            stop_timeout: self.stop_timeout,
                            start_timeout: self.start_timeout,
                        },
                        dir,
                    };
                    let mut server = server;
                    for (user, password) in &self.accounts {
                        server.register(user, password)?;
                    }
                    server.start_duration = started.elapsed();
                    return Ok(server);
                }
                Err(Failure::PortInUse(_)) if attempt < START_ATTEMPTS => drop(process),
                Err(Failure::PortInUse(reason) | Failure::Failed(reason)) => {
                    drop(process);
                    return Err(TestSupportError::ServerStart {
                        server: SERVER,
                        reason,
                        log_tail: log_tail_of(&paths),
                    });
                }
            }
        }
    }
}

/// A running ejabberd 23.01 server on loopback, in its own temp dir, with its own throw-away CA.
///
/// Virtual hosts: `localhost` (accounts; passwords stored in plain, so that it offers DIGEST-MD5, PLAIN,
/// SCRAM-SHA-1, SCRAM-SHA-256, SCRAM-SHA-512 and their `-PLUS` variants) and `anon.localhost` (ANONYMOUS).
/// Services of `localhost`: `conference.localhost` (MUC), `pubsub.localhost` (PubSub, with PEP on accounts) and
/// `upload.localhost` (HTTP upload, XEP-0363, slot URLs `https://127.0.0.1:PORT/upload/...`). STARTTLS required on
/// [`c2s_port`](Self::c2s_port), XEP-0368 direct TLS on [`direct_tls_port`](Self::direct_tls_port), WebSocket on
/// [`websocket_url`](Self::websocket_url) and [`websocket_tls_url`](Self::websocket_tls_url). No server-to-server,
/// no `mod_fail2ban` (failed-login tests would ban 127.0.0.1), in-band registration open without rate limit.
/// Its disco#info carries XEP-0157 contact addresses (`abuse-addresses`: `mailto:abuse@localhost`;
/// `admin-addresses`: `xmpp:admin@localhost`, `mailto:admin@localhost`), and `mod_host_meta` serves XEP-0156
/// host-meta at `https://localhost:HTTPS_PORT/.well-known/host-meta[.json]` naming
/// `wss://localhost:HTTPS_PORT/xmpp-websocket`.
///
/// ejabberd 23.01 advertises no XEP-0440 channel-binding types, and for `-PLUS` checks only `tls-unique`, also on
/// TLS 1.3.
///
/// Dropping it stops the server (SIGTERM, then SIGKILL after the stop timeout) and removes its directory; a
/// watchdog does the same should the test process die without dropping it.
///
/// ```no_run
/// # fn main() -> Result<(), moxl_test_support::TestSupportError> {
/// let server = moxl_test_support::Ejabberd::builder().account("juliet", "secret").start()?;
/// assert_eq!(server.jid("juliet"), "juliet@localhost");
/// assert!(server.websocket_url().starts_with("ws://127.0.0.1:"));
/// server.register("mercutio", "secret")?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Ejabberd {
    // Fields drop in declaration order: the process stops before its directory is removed.
    process: ServerProcess,
    _ports: PortSet<5>,
    c2s_port: u16,
    direct_tls_port: u16,
    http_port: u16,
    https_port: u16,
    ca_pem: String,
    paths: Paths,
    mam: bool,
    proxy65_port: Option<u16>,
    start_duration: Duration,
    relaunch: Relaunch,
    dir: TempDir,
}

/// What [`Ejabberd::restart`] needs to start the same server again.
#[derive(Debug)]
struct Relaunch {
    install: Install,
    stop_timeout: Duration,
    start_timeout: Duration,
}

impl Ejabberd {
    /// A builder for a server with accounts and options.
    pub fn builder() -> EjabberdBuilder {
        EjabberdBuilder::default()
    }

    /// Starts a server with the default settings and no accounts.
    pub fn start() -> Result<Self, TestSupportError> {
        EjabberdBuilder::default().start()
    }

    /// The virtual host with the accounts: `"localhost"`.
    pub fn domain(&self) -> &str {
        DOMAIN
    }

    /// The virtual host with anonymous login (SASL ANONYMOUS): `"anon.localhost"`.
    pub fn anon_domain(&self) -> &str {
        ANON_DOMAIN
    }

    /// The MUC service, `"conference.localhost"`.
    pub fn muc_domain(&self) -> &str {
        MUC_DOMAIN
    }

    /// The PubSub service, `"pubsub.localhost"` (any local account may create nodes).
    pub fn pubsub_domain(&self) -> &str {
        PUBSUB_DOMAIN
    }

    /// The HTTP upload service, `"upload.localhost"`.
    pub fn upload_domain(&self) -> &str {
        UPLOAD_DOMAIN
    }

    /// The SOCKS5 bytestreams proxy, `"proxy.localhost"`, if enabled with [`EjabberdBuilder::proxy65`].
    pub fn proxy65_domain(&self) -> Option<&str> {
        self.proxy65_port.map(|_| PROXY65_DOMAIN)
    }

    /// The TCP port of the SOCKS5 proxy on 127.0.0.1, if enabled with [`EjabberdBuilder::proxy65`].
    pub fn proxy65_port(&self) -> Option<u16> {
        self.proxy65_port
    }

    /// The bare JID of an account on [`domain`](Self::domain).
    pub fn jid(&self, user: &str) -> String {
        format!("{user}@{DOMAIN}")
    }

    /// The client-to-server port on 127.0.0.1 (STARTTLS required before SASL).
    pub fn c2s_port(&self) -> u16 {
        self.c2s_port
    }

    /// The XEP-0368 direct TLS port on 127.0.0.1.
    pub fn direct_tls_port(&self) -> u16 {
        self.direct_tls_port
    }

    /// The plain HTTP port on 127.0.0.1 (WebSocket, and the HTTP API used to create accounts).
    pub fn http_port(&self) -> u16 {
        self.http_port
    }

    /// The HTTPS port on 127.0.0.1 (WebSocket with TLS, HTTP upload).
    pub fn https_port(&self) -> u16 {
        self.https_port
    }

    /// The XMPP-over-WebSocket (RFC 7395) endpoint without TLS, `ws://127.0.0.1:PORT/xmpp-websocket`; ejabberd lets
    /// SASL run on it.
    pub fn websocket_url(&self) -> String {
        format!("ws://127.0.0.1:{}/xmpp-websocket", self.http_port)
    }

    /// The XMPP-over-WebSocket endpoint with TLS, `wss://127.0.0.1:PORT/xmpp-websocket`.
    pub fn websocket_tls_url(&self) -> String {
        format!("wss://127.0.0.1:{}/xmpp-websocket", self.https_port)
    }

    /// The PEM of the throw-away CA that signed the server certificate. Trust this in clients.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The file holding [`ca_pem`](Self::ca_pem).
    pub fn ca_file(&self) -> &Path {
        &self.paths.ca
    }

    /// The temp dir holding configuration, certificates, database and logs; removed on drop.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The generated `ejabberd.yml`.
    pub fn config_file(&self) -> &Path {
        &self.paths.config
    }

    /// The server log.
    pub fn log_file(&self) -> &Path {
        &self.paths.log
    }

    /// The last `lines` lines of the server log and the VM's console output, for assertion messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let mut text = tail(&read_log_from(&self.paths.log, 0), lines);
        let console = tail(&read_log_from(&self.paths.console, 0), lines);
        if !console.trim().is_empty() {
            text.push_str("\n--- console ---\n");
            text.push_str(&console);
        }
        text
    }

    /// Whether the message archive (`mod_mam`) is on.
    pub fn mam(&self) -> bool {
        self.mam
    }

    /// The ejabberd version from the startup line of the log, e.g. `"23.01-1"`.
    pub fn version(&self) -> Option<String> {
        read_log_from(&self.paths.log, 0).lines().find_map(|line| {
            let (before, _) = line.split_once(READY_MARK)?;
            before.rsplit_once("ejabberd ").map(|(_, v)| v.trim().to_owned())
        })
    }

    /// How long [`EjabberdBuilder::start`] took, from writing the certificates to the accounts existing.
    pub fn start_duration(&self) -> Duration {
        self.start_duration
    }

    /// The process id of the server (the Erlang VM).
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Creates the account `user@localhost`, or sets its password if it exists, through the HTTP API.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), moxl_test_support::TestSupportError> {
    /// let server = moxl_test_support::Ejabberd::start()?;
    /// server.register("mercutio", "secret")?;
    /// # Ok(()) }
    /// ```
    pub fn register(&self, user: &str, password: &str) -> Result<(), TestSupportError> {
        validate_localpart(user)?;
        validate_password(password)?;
        let body = format!("{{\"user\":{},\"host\":\"{DOMAIN}\",\"password\":{}}}", json_str(user), json_str(password));
        let (status, answer) = self.api("register", &body)?;
        if status == 200 {
            return Ok(());
        }
        if answer.contains("already registered") {
            let body =
                format!("{{\"user\":{},\"host\":\"{DOMAIN}\",\"newpass\":{}}}", json_str(user), json_str(password));
            let (status, answer) = self.api("change_password", &body)?;
            if status == 200 {
                return Ok(());
            }
            return Err(register_error(user, status, &answer));
        }
        Err(register_error(user, status, &answer))
    }

    /// `POST /api/<command>` with a JSON body on the plain HTTP listener: the status code and the body.
    fn api(&self, command: &str, body: &str) -> Result<(u16, String), TestSupportError> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.http_port));
        let context = format!("ejabberd HTTP API {command}");
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .map_err(|e| TestSupportError::io(context.clone(), e))?;
        stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| TestSupportError::io(context.clone(), e))?;
        let request = format!(
            "POST /api/{command} HTTP/1.1\r\nHost: {DOMAIN}\r\nContent-Type: application/json\r\nContent-Length: \
             {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).map_err(|e| TestSupportError::io(context.clone(), e))?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).map_err(|e| TestSupportError::io(context.clone(), e))?;
        let text = String::from_utf8_lossy(&response).into_owned();
        let status = text.split_whitespace().nth(1).and_then(|s| s.parse::<u16>().ok()).unwrap_or(0);
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
        Ok((status, body))
    }
}

impl Ejabberd {
    /// Stops the server (SIGTERM: the VM shuts down, closing every stream; its sessions, including
    /// stream-management sessions waiting for resumption, are gone) and starts it again on the same ports with
    /// the same data (accounts, rosters, PubSub nodes: the Mnesia spool stays). Blocks until it is ready again
    /// (a few seconds).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), moxl_test_support::TestSupportError> {
    /// let mut server = moxl_test_support::Ejabberd::builder().account("juliet", "secret").start()?;
    /// let port = server.c2s_port();
    /// server.restart()?;
    /// assert_eq!(server.c2s_port(), port);
    /// # Ok(()) }
    /// ```
    pub fn restart(&mut self) -> Result<(), TestSupportError> {
        self.process.stop();
        let log_offset = std::fs::metadata(&self.paths.log).map(|m| m.len()).unwrap_or(0);
        let root = self.dir.path().to_path_buf();
        let mut process = spawn(&self.relaunch.install, &self.paths, &root, self.relaunch.stop_timeout)?;
        let ports = [self.c2s_port, self.direct_tls_port, self.http_port, self.https_port];
        match wait_ready(&mut process, &self.paths, log_offset, &ports, self.relaunch.start_timeout) {
            Ok(()) => {
                self.process = process;
                Ok(())
            }
            Err(Failure::PortInUse(reason) | Failure::Failed(reason)) => {
                drop(process);
                Err(TestSupportError::ServerStart {
                    server: SERVER,
                    reason: format!("restarting: {reason}"),
                    log_tail: log_tail_of(&self.paths),
                })
            }
        }
    }
}

impl Drop for Ejabberd {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "moxl-test-support: panicking while ejabberd (pid {}) runs; last lines of {}:\n{}",
                self.pid(),
                self.paths.log.display(),
                self.log_tail(LOG_TAIL_LINES)
            );
        }
    }
}

fn register_error(user: &str, status: u16, answer: &str) -> TestSupportError {
    TestSupportError::Register {
        user: user.to_owned(),
        host: DOMAIN.to_owned(),
        status: format!("HTTP {status}"),
        output: answer.trim().to_owned(),
    }
}

/// A JSON string literal.
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A YAML double-quoted string (the same escapes as JSON for what we write).
fn yaml_str(s: &str) -> String {
    json_str(s)
}

/// Where the files of one server live.
#[derive(Debug)]
struct Paths {
    config: PathBuf,
    log: PathBuf,
    console: PathBuf,
    spool: PathBuf,
    upload: PathBuf,
    certfile: PathBuf,
    ca: PathBuf,
    inetrc: PathBuf,
    crash_dump: PathBuf,
}

impl Paths {
    fn new(root: &Path) -> Self {
        Self {
            config: root.join("ejabberd.yml"),
            log: root.join("ejabberd.log"),
            console: root.join("console.log"),
            spool: root.join("spool"),
            upload: root.join("upload"),
            certfile: root.join("server.pem"),
            ca: root.join("ca.pem"),
            inetrc: root.join("inetrc"),
            crash_dump: root.join("erl_crash.dump"),
        }
    }
}

/// The Erlang VM and the directory holding ejabberd's OTP application.
#[derive(Debug)]
struct Install {
    erl: PathBuf,
    libs: PathBuf,
}

impl Install {
    fn locate() -> Result<Self, TestSupportError> {
        let missing = TestSupportError::NotInstalled { binary: "ejabberd", package: "ejabberd" };
        let erl = ["/usr/bin/erl", "/usr/local/bin/erl"].into_iter().map(PathBuf::from).find(|p| p.is_file());
        // Debian installs the application as /usr/lib/<triplet>/ejabberd-<version>/ebin/ejabberd.app.
        let mut bases: Vec<PathBuf> = std::fs::read_dir("/usr/lib")
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).collect())
            .unwrap_or_default();
        bases.push(PathBuf::from("/usr/lib"));
        let libs = bases.into_iter().find(|base| {
            std::fs::read_dir(base).is_ok_and(|rd| {
                rd.filter_map(|e| e.ok()).any(|e| {
                    e.file_name().to_string_lossy().starts_with("ejabberd-")
                        && e.path().join("ebin/ejabberd.app").is_file()
                })
            })
        });
        match (erl, libs) {
            (Some(erl), Some(libs)) => Ok(Self { erl, libs }),
            _ => Err(missing),
        }
    }
}

/// Starts the VM with ejabberd, as `ejabberdctl foreground` would but without distribution.
fn spawn(
    install: &Install,
    paths: &Paths,
    root: &Path,
    stop_timeout: Duration,
) -> Result<ServerProcess, TestSupportError> {
    let mut spool = String::from("\"");
    spool.push_str(&paths.spool.to_string_lossy());
    spool.push('"');
    let mut command = Command::new(&install.erl);
    command
        .env("HOME", root)
        .env("EJABBERD_CONFIG_PATH", &paths.config)
        .env("EJABBERD_LOG_PATH", &paths.log)
        .env("ERL_LIBS", &install.libs)
        .env("ERL_INETRC", &paths.inetrc)
        .env("ERL_CRASH_DUMP", &paths.crash_dump)
        .env_remove("ERL_DIST_PORT")
        .args(["+K", "true", "+P", "250000", "-env", "ERL_CRASH_DUMP_BYTES", "0", "-mnesia", "dir"])
        .arg(spool)
        .args(["-s", "ejabberd", "-noinput"]);
    ServerProcess::spawn(command, root, &paths.console, "moxl-ejabberd-watchdog", stop_timeout)
}

enum Failure {
    PortInUse(String),
    Failed(String),
}

fn wait_ready(
    process: &mut ServerProcess,
    paths: &Paths,
    log_offset: u64,
    ports: &[u16],
    timeout: Duration,
) -> Result<(), Failure> {
    let deadline = Instant::now() + timeout;
    loop {
        let text = read_log_from(&paths.log, log_offset);
        // Critical lines end the start; error lines too (a crashed certificate manager leaves a server that logs
        // "started" but has no TLS), except those of `ext_mod`, the contributed-modules manager we do not use,
        // which can crash on a slow start without harm.
        if let Some(entry) = log_entries(&text).into_iter().find(|e| is_fatal(e)) {
            let line = entry.lines().next().unwrap_or_default().trim().to_owned();
            return Err(if text.contains("eaddrinuse") { Failure::PortInUse(line) } else { Failure::Failed(line) });
        }
        if let Some(status) = process.try_wait() {
            return Err(Failure::Failed(format!("ejabberd exited ({status}) before it was ready")));
        }
        if text.contains(READY_MARK) {
            let listening = ports.iter().all(|&port| {
                TcpStream::connect_timeout(&SocketAddr::from((Ipv4Addr::LOCALHOST, port)), Duration::from_secs(1))
                    .is_ok()
            });
            if listening {
                return Ok(());
            }
        }
        if Instant::now() >= deadline {
            return Err(Failure::Failed(format!(
                "not ready after {timeout:?} (startup line logged: {})",
                if text.contains(READY_MARK) { "yes" } else { "no" }
            )));
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// The entries of ejabberd's log: a line starting with a timestamp, with the lines that continue it (a crash
/// report spans many).
fn log_entries(text: &str) -> Vec<String> {
    let mut entries: Vec<String> = Vec::new();
    for line in text.lines() {
        let starts_entry = line.len() > 4 && line.bytes().take(4).all(|b| b.is_ascii_digit());
        match entries.last_mut() {
            Some(last) if !starts_entry => {
                last.push('\n');
                last.push_str(line);
            }
            _ => entries.push(line.to_owned()),
        }
    }
    entries
}

/// Whether a log entry means the server is unusable.
fn is_fatal(entry: &str) -> bool {
    entry.contains("[critical]") || (entry.contains("[error]") && !entry.contains("ext_mod:"))
}

fn log_tail_of(paths: &Paths) -> String {
    let mut text = tail(&read_log_from(&paths.log, 0), LOG_TAIL_LINES);
    text.push_str("\n--- console ---\n");
    text.push_str(&tail(&read_log_from(&paths.console, 0), LOG_TAIL_LINES));
    text
}

struct ConfigInput<'a> {
    paths: &'a Paths,
    c2s_port: u16,
    direct_tls_port: u16,
    http_port: u16,
    https_port: u16,
    admins: &'a [String],
    mam: bool,
    proxy65_port: Option<u16>,
    debug_log: bool,
    hashed_passwords: bool,
    stun_disco: Option<&'a TurnExternal>,
}

/// Renders `ejabberd.yml`.
fn render(c: &ConfigInput<'_>) -> String {
    let p = c.paths;
    let mut s = String::with_capacity(4096);
    s.push_str("# Generated by moxl-test-support for a throw-away test server.\n");
    let _ = writeln!(s, "hosts:\n  - {DOMAIN}\n  - {ANON_DOMAIN}");
    let _ = writeln!(s, "loglevel: {}", if c.debug_log { "debug" } else { "info" });
    s.push_str("log_rotate_count: 0\n");
    let _ = writeln!(
        s,
        "certfiles:\n  - {}\n  - {}",
        yaml_str(&p.certfile.to_string_lossy()),
        yaml_str(&p.ca.to_string_lossy())
    );
    // Plain storage: every SCRAM hash and DIGEST-MD5 can be offered (a stored SCRAM hash serves only one).
    if c.hashed_passwords {
        s.push_str("auth_password_format: scram\nauth_scram_hash: sha256\n");
    } else {
        s.push_str("auth_password_format: plain\n");
    }
    s.push_str("disable_sasl_mechanisms: []\n");
    s.push_str("s2s_access: none\n");
    // In-band registration without the default limit of one per IP address per 10 minutes.
    s.push_str("registration_timeout: infinity\n");
    s.push_str("acl:\n  admin:\n    user:\n");
    if c.admins.is_empty() {
        s.push_str("      - \"\"\n");
    }
    for admin in c.admins {
        let _ = writeln!(s, "      - {}", yaml_str(&format!("{admin}@{DOMAIN}")));
    }
    s.push_str("  loopback:\n    ip:\n      - 127.0.0.0/8\n");
    s.push_str(
        "access_rules:\n  local:\n    allow: all\n  c2s:\n    allow: all\n  register:\n    allow: all\n  \
         muc_create:\n    allow: all\n  pubsub_createnode:\n    allow: all\n  announce:\n    allow: admin\n  \
         configure:\n    allow: admin\n",
    );
    // Account management through the HTTP API, from loopback only.
    s.push_str(
        "api_permissions:\n  \"moxl test support\":\n    who:\n      ip: 127.0.0.1/8\n    what:\n      - register\n      \
         - change_password\n      - unregister\n",
    );
    s.push_str("listen:\n");
    let _ = writeln!(
        s,
        "  - port: {}\n    ip: \"127.0.0.1\"\n    module: ejabberd_c2s\n    starttls_required: true",
        c.c2s_port
    );
    let _ =
        writeln!(s, "  - port: {}\n    ip: \"127.0.0.1\"\n    module: ejabberd_c2s\n    tls: true", c.direct_tls_port);
    let _ = writeln!(
        s,
        "  - port: {}\n    ip: \"127.0.0.1\"\n    module: ejabberd_http\n    request_handlers:\n      \
         /xmpp-websocket: ejabberd_http_ws\n      /api: mod_http_api",
        c.http_port
    );
    let _ = writeln!(
        s,
        "  - port: {}\n    ip: \"127.0.0.1\"\n    module: ejabberd_http\n    tls: true\n    request_handlers:\n      \
         /xmpp-websocket: ejabberd_http_ws\n      /upload: mod_http_upload\n      \
         /.well-known/host-meta: mod_host_meta\n      /.well-known/host-meta.json: mod_host_meta",
        c.https_port
    );
    // No mod_fail2ban: failed-login tests would ban 127.0.0.1.
    s.push_str("modules:\n");
    for module in [
        "mod_adhoc",
        // The HTTP API's `change_password` (for `register` on an existing account).
        "mod_admin_extra",
        "mod_blocking",
        "mod_caps",
        "mod_carboncopy",
        "mod_client_state",
        "mod_last",
        "mod_offline",
        "mod_ping",
        "mod_privacy",
        "mod_private",
        "mod_stream_mgmt",
        "mod_time",
        "mod_vcard",
        "mod_vcard_xupdate",
        "mod_version",
        "mod_http_api",
    ] {
        let _ = writeln!(s, "  {module}: {{}}");
    }
    s.push_str("  mod_roster:\n    versioning: true\n");
    // XEP-0157 contact addresses in the server's disco#info.
    s.push_str(
        "  mod_disco:\n    server_info:\n      -\n        modules: all\n        name: \"abuse-addresses\"\n        \
         urls: [\"mailto:abuse@localhost\"]\n      -\n        modules: all\n        name: \"admin-addresses\"\n        \
         urls: [\"xmpp:admin@localhost\", \"mailto:admin@localhost\"]\n",
    );
    // XEP-0156: the WebSocket endpoint in host-meta (served on the HTTPS listener).
    let _ = writeln!(
        s,
        "  mod_host_meta:\n    websocket_url: \"wss://{DOMAIN}:{}/xmpp-websocket\"\n    bosh_service_url: undefined",
        c.https_port
    );
    s.push_str("  mod_register:\n    ip_access: all\n");
    if c.mam {
        s.push_str("  mod_mam:\n    default: always\n");
    }
    if let Some(turn) = c.stun_disco {
        let _ = writeln!(
            s,
            "  mod_stun_disco:\n    secret: {}\n    credentials_lifetime: {}\n    offer_local_services: false\n    services:",
            yaml_str(&turn.secret),
            turn.ttl
        );
        let transports: &[&str] = if turn.tcp { &["udp", "tcp"] } else { &["udp"] };
        for kind in ["stun", "turn"] {
            for transport in transports {
                let _ = writeln!(
                    s,
                    "      -\n        host: {}\n        port: {}\n        type: {kind}\n        transport: {transport}\n        \
                     restricted: {}",
                    yaml_str(&turn.host),
                    turn.port,
                    kind == "turn"
                );
            }
        }
    }
    // The services of `localhost` only: the anonymous host gets none (their names would clash).
    let _ = writeln!(s, "append_host_config:\n  {DOMAIN}:\n    modules:");
    s.push_str("      mod_avatar: {}\n");
    let _ = writeln!(s, "      mod_muc:\n        host: {MUC_DOMAIN}");
    if c.mam {
        s.push_str("        default_room_options:\n          mam: true\n");
    }
    let _ = writeln!(
        s,
        "      mod_pubsub:\n        host: {PUBSUB_DOMAIN}\n        plugins:\n          - flat\n          - pep"
    );
    let _ = writeln!(
        s,
        "      mod_http_upload:\n        host: {UPLOAD_DOMAIN}\n        put_url: \"https://127.0.0.1:{}/upload\"\n        \
         docroot: {}",
        c.https_port,
        yaml_str(&p.upload.to_string_lossy())
    );
    if let Some(port) = c.proxy65_port {
        let _ = writeln!(
            s,
            "      mod_proxy65:\n        host: {PROXY65_DOMAIN}\n        ip: 127.0.0.1\n        port: {port}\n        \
             hostname: 127.0.0.1\n        max_connections: infinity"
        );
    }
    let _ =
        writeln!(s, "host_config:\n  {ANON_DOMAIN}:\n    auth_method: anonymous\n    anonymous_protocol: sasl_anon");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_reports_of_ext_mod_are_not_fatal_others_are() {
        let log =
            "2026-12-07 18:10:41.58 [error] <0.380.0>@proc_lib:crash_report/4:539 CRASH REPORT:\n  crasher:\n    \
                   initial call: ext_mod:init/1\n2026-12-07 18:10:42.00 [info] started\n";
        let entries = log_entries(log);
        assert_eq!(entries.len(), 2);
        assert!(!entries.iter().any(|e| is_fatal(e)));
        assert!(is_fatal("2026 [error] <0.182.0>@gen_server:error_info/8:1402 ** Generic server pkix terminating"));
        assert!(is_fatal("2026 [critical] Failed to start ejabberd application"));
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_str("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }

    #[test]
    fn the_config_names_every_port_and_no_fail2ban() {
        let paths = Paths::new(Path::new("/tmp/x"));
        let config = render(&ConfigInput {
            paths: &paths,
            c2s_port: 1,
            direct_tls_port: 2,
            http_port: 3,
            https_port: 4,
            admins: &["juliet".to_owned()],
            mam: true,
            proxy65_port: Some(5),
            debug_log: false,
            hashed_passwords: false,
            stun_disco: None,
        });
        for needle in
            ["port: 1\n", "port: 2\n", "port: 3\n", "port: 4\n", "port: 5\n", "\"juliet@localhost\"", "mod_mam"]
        {
            assert!(config.contains(needle), "{needle} missing in\n{config}");
        }
        assert!(!config.contains("fail2ban"));
    }
}
