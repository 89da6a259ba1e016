//! A throw-away Prosody server: builder, process management and accessors.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::config::{self, ConfigInput};
use crate::ports::PortSet;
use crate::process::ServerProcess;
use crate::tempdir::TempDir;
use crate::{certs, TestSupportError};

const DOMAIN: &str = "localhost";
const ANON_DOMAIN: &str = "anon.localhost";
const MUC_DOMAIN: &str = "conference.localhost";
const PUBSUB_DOMAIN: &str = "pubsub.localhost";
const UPLOAD_DOMAIN: &str = "upload.localhost";
const PROXY65_DOMAIN: &str = "proxy.localhost";

/// Modules enabled on every virtual host when the installed Prosody has them. Built into Prosody 0.12:
/// stream management (`smacks`), carbons, PEP, bookmarks (XEP-0048 ⇄ XEP-0402 sync), etc. Dialback and BOSH
/// are left out on purpose.
const BASE_MODULES: &[&str] = &[
    "roster",
    "saslauth",
    "tls",
    "disco",
    "carbons",
    "pep",
    "private",
    "blocklist",
    "vcard4",
    "vcard_legacy",
    "version",
    "uptime",
    "time",
    "lastactivity",
    "ping",
    "register",
    "csi_simple",
    "smacks",
    "bookmarks",
    "websocket",
    "admin_adhoc",
];

const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(5);
const POLL_INTERVAL: Duration = Duration::from_millis(10);
const LOG_TAIL_LINES: usize = 40;
const START_ATTEMPTS: usize = 3;

/// Configures and starts a [`Prosody`] test server.
///
/// Made with [`Prosody::builder`]. Every setting is optional: by default the server has no accounts, no
/// admins, no message archive (MAM) and no HTTP upload component.
///
/// ```no_run
/// # fn main() -> Result<(), moxl_test_support::TestSupportError> {
/// let server = moxl_test_support::Prosody::builder()
///     .account("juliet", "secret")
///     .account("romeo", "secret")
///     .admin("juliet")
///     .mam(true)
///     .start()?;
/// assert_eq!(server.domain(), "localhost");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `start` is called"]
pub struct ProsodyBuilder {
    accounts: Vec<(String, String)>,
    admins: Vec<String>,
    mam: bool,
    muc_moderation: bool,
    http_upload: bool,
    proxy65: bool,
    sasl2: bool,
    vhosts: Vec<String>,
    debug_log: bool,
    extra_config: Vec<String>,
    extra_modules: Vec<&'static str>,
    turn_external: Option<TurnExternal>,
    start_timeout: Duration,
    stop_timeout: Duration,
}

/// The TURN server that Prosody's `mod_turn_external` announces (XEP-0215 external services, with credentials
/// computed from a shared secret as the TURN REST API draft says: `draft-uberti-behave-turn-rest-00`). Nothing
/// listens there: the tests read what the XMPP server announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnExternal {
    /// `turn_external_host`.
    pub host: String,
    /// `turn_external_port` (UDP and, with `tcp`, TCP).
    pub port: u16,
    /// `turn_external_secret`, shared with the TURN server.
    pub secret: String,
    /// `turn_external_ttl`: how long credentials last, in seconds.
    pub ttl: u32,
    /// `turn_external_tcp`: also announce the TCP transport.
    pub tcp: bool,
}

impl Default for ProsodyBuilder {
    fn default() -> Self {
        Self {
            accounts: Vec::new(),
            admins: Vec::new(),
            mam: false,
            muc_moderation: false,
            http_upload: false,
            proxy65: false,
            sasl2: false,
            vhosts: Vec::new(),
            debug_log: false,
            extra_config: Vec::new(),
            extra_modules: Vec::new(),
            turn_external: None,
            start_timeout: DEFAULT_START_TIMEOUT,
            stop_timeout: DEFAULT_STOP_TIMEOUT,
        }
    }
}

impl ProsodyBuilder {
    /// Creates the account `user@localhost` with this password (with `prosodyctl register`, while the
    /// server starts).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), moxl_test_support::TestSupportError> {
    /// let server = moxl_test_support::Prosody::builder().account("juliet", "secret").start()?;
    /// assert_eq!(server.jid("juliet"), "juliet@localhost");
    /// # Ok(()) }
    /// ```
    pub fn account(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.accounts.push((user.into(), password.into()));
        self
    }

    /// Makes `user@localhost` a server admin (ad-hoc admin commands, creating nodes on the pubsub
    /// component). The account itself is created with [`account`](Self::account).
    pub fn admin(mut self, user: impl Into<String>) -> Self {
        self.admins.push(user.into());
        self
    }

    /// Enables the message archive (XEP-0313, `mod_mam`, and `mod_muc_mam` on the MUC component). Off by
    /// default: it slows message throughput about 5x.
    pub fn mam(mut self, enabled: bool) -> Self {
        self.mam = enabled;
        self
    }

    /// Enables message moderation (XEP-0425, version 0) on the MUC component: the community module
    /// `mod_muc_moderation` (Debian's `prosody-modules`), which retracts messages from the room's archive, so it
    /// turns the archive on as [`mam`](Self::mam) does. Off by default.
    pub fn muc_moderation(mut self, enabled: bool) -> Self {
        self.muc_moderation = enabled;
        self.mam |= enabled;
        self
    }

    /// Adds the HTTP upload component `upload.localhost` (XEP-0363, `mod_http_file_share`); its slot URLs
    /// are `https://127.0.0.1:PORT/file_share/...`, served with the test certificate. Off by default.
    pub fn http_upload(mut self, enabled: bool) -> Self {
        self.http_upload = enabled;
        self
    }

    /// Adds the SOCKS5 bytestreams proxy `proxy.localhost` (XEP-0065, `mod_proxy65`), listening on
    /// [`Prosody::proxy65_port`] of 127.0.0.1, for the accounts of `localhost`. Off by default.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), moxl_test_support::TestSupportError> {
    /// let server = moxl_test_support::Prosody::builder().proxy65(true).start()?;
    /// assert_eq!(server.proxy65_domain(), Some("proxy.localhost"));
    /// # Ok(()) }
    /// ```
    pub fn proxy65(mut self, enabled: bool) -> Self {
        self.proxy65 = enabled;
        self
    }

    /// Offers SASL2 (XEP-0388) with Bind2 (XEP-0386), inline stream management and FAST tokens (XEP-0484), from Debian's
    /// `prosody-modules` patched for Prosody 0.12 (see `sasl2.rs`); with it, `-PLUS` mechanisms with
    /// `tls-exporter` on TLS 1.3. The legacy SASL profile stays offered too. Off by default.
    pub fn sasl2(mut self, enabled: bool) -> Self {
        self.sasl2 = enabled;
        self
    }

    /// Adds a virtual host like `localhost` (accounts, in-band registration), named in the certificate too.
    /// For names a resolver will look up: resolvers never query `*.localhost` (RFC 6761), so SRV tests need a
    /// domain of their own. Create its accounts by in-band registration.
    pub fn vhost(mut self, domain: impl Into<String>) -> Self {
        self.vhosts.push(domain.into());
        self
    }

    /// Enables one more module on every virtual host (`"http_files"`, `"server_contact_info"`…; its options go in
    /// [`extra_config`](Self::extra_config)). [`start`](Self::start) fails with
    /// [`TestSupportError::InvalidArgument`] when the installed Prosody has no such module.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), moxl_test_support::TestSupportError> {
    /// let server = moxl_test_support::Prosody::builder()
    ///     .module("server_contact_info")
    ///     .extra_config("contact_info = { abuse = { \"mailto:abuse@localhost\" } }")
    ///     .start()?;
    /// assert!(server.enabled_modules().contains(&"server_contact_info"));
    /// # Ok(()) }
    /// ```
    pub fn module(mut self, name: &'static str) -> Self {
        self.extra_modules.push(name);
        self
    }

    /// Logs at debug level (every stanza) instead of info level. Off by default.
    pub fn debug_log(mut self, enabled: bool) -> Self {
        self.debug_log = enabled;
        self
    }

    /// Appends raw Lua to the global section of `prosody.cfg.lua` (before the virtual hosts), for options
    /// this builder does not cover. Later assignments override earlier ones.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), moxl_test_support::TestSupportError> {
    /// let server = moxl_test_support::Prosody::builder().extra_config("smacks_hibernation_time = 5").start()?;
    /// # Ok(()) }
    /// ```
    pub fn extra_config(mut self, lua: impl Into<String>) -> Self {
        self.extra_config.push(lua.into());
        self
    }

    /// Announces a STUN/TURN server with time-limited credentials (XEP-0215 through Prosody's `mod_turn_external`,
    /// which loads `mod_external_services`). Off by default.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), moxl_test_support::TestSupportError> {
    /// use moxl_test_support::{Prosody, TurnExternal};
    /// let turn = TurnExternal { host: "turn.localhost".into(), port: 3478, secret: "s3cret".into(), ttl: 3600, tcp: true };
    /// let server = Prosody::builder().turn_external(turn).start()?;
    /// assert!(server.enabled_modules().contains(&"turn_external"));
    /// # Ok(()) }
    /// ```
    pub fn turn_external(mut self, turn: TurnExternal) -> Self {
        self.turn_external = Some(turn);
        self
    }

    /// How long [`start`](Self::start) waits for the server to listen (default 10 s).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// How long dropping the server waits after SIGTERM before SIGKILL (default 5 s).
    pub fn stop_timeout(mut self, timeout: Duration) -> Self {
        self.stop_timeout = timeout;
        self
    }

    /// Writes the certificates and configuration into a new temp dir, starts `prosody -F` and waits until it
    /// has loaded every host and component, listens on all its ports and the accounts exist. This blocks the
    /// calling thread for about 0.1–0.2 s (call it from `spawn_blocking` inside an async runtime if that
    /// matters).
    ///
    /// Fails with [`TestSupportError::ProsodyNotInstalled`] when Prosody is not installed (run
    /// `bash scripts/install-test-deps.sh`), and with [`TestSupportError::Start`], carrying the end of the
    /// server log, when it exits or does not listen in time.
    pub fn start(self) -> Result<Prosody, TestSupportError> {
        for (user, password) in &self.accounts {
            validate_localpart(user)?;
            validate_password(password)?;
        }
        for admin in &self.admins {
            validate_localpart(admin)?;
        }
        let bins = Binaries::locate()?;

        let mut modules: Vec<&'static str> = BASE_MODULES.iter().copied().filter(|m| bins.has_module(m)).collect();
        for module in &self.extra_modules {
            if !bins.has_module(module) {
                return Err(TestSupportError::InvalidArgument(format!(
                    "module({module:?}), but this Prosody has no such module"
                )));
            }
            modules.push(module);
        }
        if self.mam {
            if !bins.has_module("mam") {
                return Err(TestSupportError::InvalidArgument("mam(true), but this Prosody has no mod_mam".into()));
            }
            modules.push("mam");
        }
        if self.http_upload && !bins.has_module("http_file_share") {
            return Err(TestSupportError::InvalidArgument(
                "http_upload(true), but this Prosody has no mod_http_file_share".into(),
            ));
        }
        let muc = bins.has_module("muc").then_some(MUC_DOMAIN);
        let muc_mam = self.mam && muc.is_some() && bins.has_module("muc_mam");
        if self.muc_moderation && !(muc_mam && bins.has_module("muc_moderation")) {
            return Err(TestSupportError::InvalidArgument(
                "muc_moderation(true), but this Prosody has no mod_muc_mam or mod_muc_moderation (prosody-modules)"
                    .into(),
            ));
        }
        let pubsub = bins.has_module("pubsub").then_some(PUBSUB_DOMAIN);
        let upload = self.http_upload.then_some(UPLOAD_DOMAIN);
        if self.proxy65 && !bins.has_module("proxy65") {
            return Err(TestSupportError::InvalidArgument("proxy65(true), but this Prosody has no mod_proxy65".into()));
        }
        let proxy65 = self.proxy65.then_some(PROXY65_DOMAIN);
        let uses_http = modules.contains(&"websocket") || upload.is_some();
        let sasl2_sources = match (&self.sasl2, &bins.modules_dir) {
            (true, Some(dir)) => crate::sasl2::patched_sources(dir)?,
            (true, None) => {
                return Err(TestSupportError::InvalidArgument(
                    "sasl2(true), but Prosody's module directory was not found".into(),
                ))
            }
            (false, _) => Vec::new(),
        };
        modules.extend(sasl2_sources.iter().map(|(name, _)| *name));
        let mut extra_config = self.extra_config.clone();
        if let Some(turn) = &self.turn_external {
            if !bins.has_module("turn_external") {
                return Err(TestSupportError::InvalidArgument(
                    "turn_external(..), but this Prosody has no mod_turn_external (Prosody 0.12 ships it)".into(),
                ));
            }
            modules.push("turn_external");
            extra_config.push(format!(
                "turn_external_host = {}\nturn_external_port = {}\nturn_external_secret = {}\nturn_external_ttl = {}\n\
                 turn_external_tcp = {}",
                config::lua_str(&turn.host),
                turn.port,
                config::lua_str(&turn.secret),
                turn.ttl,
                turn.tcp
            ));
        }

        let started = Instant::now();
        let dir = TempDir::new("moxl-prosody")?;
        let root = dir.path().to_path_buf();
        let paths = Paths::new(&root);
        create_dir(&paths.data)?;
        create_dir(&paths.certs)?;
        create_dir(&paths.plugins)?;
        write_file(
            &paths.plugins.join(format!("mod_{}.lua", config::READY_MODULE)),
            config::ready_module_source().as_bytes(),
            0o644,
        )?;
        for (name, source) in &sasl2_sources {
            write_file(&paths.plugins.join(format!("mod_{name}.lua")), source.as_bytes(), 0o644)?;
        }

        let mut names: Vec<String> = vec![DOMAIN.into(), format!("*.{DOMAIN}"), ANON_DOMAIN.into()];
        names.extend([muc, pubsub, upload, proxy65].into_iter().flatten().map(String::from));
        names.extend(self.vhosts.iter().cloned());
        names.push(Ipv4Addr::LOCALHOST.to_string());
        let generated = certs::generate(&names)?;
        write_file(&paths.ca, generated.ca_pem.as_bytes(), 0o644)?;
        write_file(&paths.cert, generated.leaf_pem.as_bytes(), 0o644)?;
        write_file(&paths.key, generated.leaf_key_pem.as_bytes(), 0o600)?;

        let admins: Vec<String> = self.admins.iter().map(|a| format!("{a}@{DOMAIN}")).collect();
        let mut registrations: Option<Vec<Registration>> = None;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let ports = PortSet::<5>::reserve()?;
            let [c2s_port, direct_tls_port, http_port, https_port, proxy65_port] = ports.get();
            let cfg = config::render(&ConfigInput {
                dir: &root,
                pidfile: &paths.pid,
                data_dir: &paths.data,
                log_file: &paths.log,
                certs_dir: &paths.certs,
                plugins_dir: &paths.plugins,
                cert_file: &paths.cert,
                key_file: &paths.key,
                c2s_port,
                direct_tls_port,
                http_port,
                https_port,
                debug_log: self.debug_log,
                domain: DOMAIN,
                anon_domain: ANON_DOMAIN,
                modules: &modules,
                admins: &admins,
                muc,
                muc_mam,
                muc_moderation: self.muc_moderation,
                pubsub,
                upload,
                proxy65: proxy65.map(|domain| (domain, proxy65_port)),
                vhosts: &self.vhosts,
                extra_config: &extra_config,
            });
            write_file(&paths.config, cfg.as_bytes(), 0o644)?;

            let log_offset = std::fs::metadata(&paths.log).map(|m| m.len()).unwrap_or(0);
            let mut process = spawn_prosody(&bins.prosody, &paths, &root, self.stop_timeout)?;
            // Accounts are written to the data dir by prosodyctl while the server boots (both take ~0.1 s).
            if registrations.is_none() {
                let mut spawned = Vec::with_capacity(self.accounts.len());
                for (user, password) in &self.accounts {
                    spawned.push(Registration::spawn(&bins.prosodyctl, &paths.config, user, DOMAIN, password)?);
                }
                registrations = Some(spawned);
            }

            let mut services = vec![("c2s", c2s_port), ("c2s_direct_tls", direct_tls_port)];
            if uses_http {
                services.extend([("http", http_port), ("https", https_port)]);
            }
            if proxy65.is_some() {
                services.push(("proxy65", proxy65_port));
            }
            match wait_ready(&mut process, &paths.log, log_offset, &services, c2s_port, self.start_timeout) {
                Ok(()) => {
                    for registration in registrations.take().unwrap_or_default() {
                        registration.finish()?;
                    }
                    let ca_pem = generated.ca_pem;
                    let version = read_log_from(&paths.log, 0)
                        .lines()
                        .find_map(|line| line.split_once("Prosody version ").map(|(_, v)| v.trim().to_owned()));
                    return Ok(Prosody {
                        process,
                        relaunch: Relaunch {
                            prosody: bins.prosody.clone(),
                            services: services.iter().map(|(n, p)| ((*n).to_owned(), *p)).collect(),
                            stop_timeout: self.stop_timeout,
                            start_timeout: self.start_timeout,
                        },
                        _ports: ports,
                        c2s_port,
                        direct_tls_port,
                        http_port: uses_http.then_some(http_port),
                        https_port: uses_http.then_some(https_port),
                        ca_pem,
                        paths,
                        prosodyctl: bins.prosodyctl,
                        modules,
                        muc,
                        pubsub,
                        upload,
                        proxy65: proxy65.map(|domain| (domain, proxy65_port)),
                        version,
                        start_duration: started.elapsed(),
                        dir,
                    });
                }
                Err(StartFailure::PortInUse(_)) if attempt < START_ATTEMPTS => {
                    // Another process took one of the chosen ports in the meantime: stop, pick new ones.
                    drop(process);
                }
                Err(StartFailure::PortInUse(reason) | StartFailure::Failed(reason)) => {
                    drop(process);
                    for registration in registrations.take().unwrap_or_default() {
                        let _ = registration.finish();
                    }
                    return Err(TestSupportError::Start {
                        reason,
                        log_tail: tail(&read_log_from(&paths.log, 0), LOG_TAIL_LINES),
                        log: paths.log.clone(),
                    });
                }
            }
        }
    }
}

/// A running Prosody 0.12 server on loopback, in its own temp dir, with its own throw-away CA.
///
/// Virtual hosts: `localhost` (accounts, `internal_plain` authentication: PLAIN, SCRAM-SHA-1, SCRAM-SHA-256)
/// and `anon.localhost` (ANONYMOUS). Components: `conference.localhost` (MUC), `pubsub.localhost` and, with
/// [`ProsodyBuilder::http_upload`], `upload.localhost`. TLS is required on c2s (STARTTLS on
/// [`c2s_port`](Self::c2s_port), XEP-0368 direct TLS on [`direct_tls_port`](Self::direct_tls_port));
/// WebSocket on [`websocket_url`](Self::websocket_url) and [`websocket_tls_url`](Self::websocket_tls_url).
/// No server-to-server. In-band registration (XEP-0077) is allowed.
///
/// Dropping it stops the server (SIGTERM, then SIGKILL after the stop timeout), waits for it and removes its
/// directory. Should the test process die without dropping it, a small watchdog process does the same.
///
/// ```
/// # fn main() -> Result<(), moxl_test_support::TestSupportError> {
/// let server = moxl_test_support::Prosody::builder().account("juliet", "secret").start()?;
/// let stream = std::net::TcpStream::connect(("127.0.0.1", server.c2s_port())).expect("connect");
/// assert!(server.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// # drop(stream);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Prosody {
    // Fields drop in declaration order: the process stops before its directory is removed.
    process: ServerProcess,
    /// How to start the same server again ([`Prosody::restart`]).
    relaunch: Relaunch,
    _ports: PortSet<5>,
    c2s_port: u16,
    direct_tls_port: u16,
    http_port: Option<u16>,
    https_port: Option<u16>,
    ca_pem: String,
    paths: Paths,
    prosodyctl: PathBuf,
    modules: Vec<&'static str>,
    muc: Option<&'static str>,
    pubsub: Option<&'static str>,
    upload: Option<&'static str>,
    proxy65: Option<(&'static str, u16)>,
    version: Option<String>,
    start_duration: Duration,
    dir: TempDir,
}

impl Prosody {
    /// A builder for a server with accounts and options.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), moxl_test_support::TestSupportError> {
    /// let server = moxl_test_support::Prosody::builder().account("romeo", "secret").start()?;
    /// # Ok(()) }
    /// ```
    pub fn builder() -> ProsodyBuilder {
        ProsodyBuilder::default()
    }

    /// Starts a server with the default settings and no accounts (anonymous login and in-band registration
    /// still work).
    pub fn start() -> Result<Self, TestSupportError> {
        ProsodyBuilder::default().start()
    }

    /// The virtual host with the accounts: `"localhost"`.
    pub fn domain(&self) -> &str {
        DOMAIN
    }

    /// The virtual host with `authentication = "anonymous"` (SASL ANONYMOUS): `"anon.localhost"`.
    pub fn anon_domain(&self) -> &str {
        ANON_DOMAIN
    }

    /// The MUC component, `"conference.localhost"` (None if this Prosody has no MUC module).
    pub fn muc_domain(&self) -> Option<&str> {
        self.muc
    }

    /// The pubsub component, `"pubsub.localhost"`; only [admins](ProsodyBuilder::admin) may create nodes
    /// there (PEP nodes on an account's own JID are open to it).
    pub fn pubsub_domain(&self) -> Option<&str> {
        self.pubsub
    }

    /// The HTTP upload component, `"upload.localhost"`, if enabled with [`ProsodyBuilder::http_upload`].
    pub fn upload_domain(&self) -> Option<&str> {
        self.upload
    }

    /// The SOCKS5 bytestreams proxy, `"proxy.localhost"`, if enabled with [`ProsodyBuilder::proxy65`].
    pub fn proxy65_domain(&self) -> Option<&str> {
        self.proxy65.map(|(domain, _)| domain)
    }

    /// The TCP port of the SOCKS5 proxy on 127.0.0.1, if enabled with [`ProsodyBuilder::proxy65`].
    pub fn proxy65_port(&self) -> Option<u16> {
        self.proxy65.map(|(_, port)| port)
    }

    /// The bare JID of an account on [`domain`](Self::domain).
    ///
    /// ```no_run
    /// # let server = moxl_test_support::Prosody::start()?;
    /// assert_eq!(server.jid("juliet"), "juliet@localhost");
    /// # Ok::<(), moxl_test_support::TestSupportError>(())
    /// ```
    pub fn jid(&self, user: &str) -> String {
        format!("{user}@{DOMAIN}")
    }

    /// The client-to-server port on 127.0.0.1 (plain TCP, then STARTTLS; TLS is required before SASL).
    pub fn c2s_port(&self) -> u16 {
        self.c2s_port
    }

    /// The XEP-0368 direct TLS port on 127.0.0.1 (TLS from the first byte; use SNI `localhost`).
    pub fn direct_tls_port(&self) -> u16 {
        self.direct_tls_port
    }

    /// The plain HTTP port on 127.0.0.1 (None if neither WebSocket nor HTTP upload is available).
    pub fn http_port(&self) -> Option<u16> {
        self.http_port
    }

    /// The HTTPS port on 127.0.0.1 (None if neither WebSocket nor HTTP upload is available).
    pub fn https_port(&self) -> Option<u16> {
        self.https_port
    }

    /// The XMPP-over-WebSocket (RFC 7395) endpoint without TLS, `ws://127.0.0.1:PORT/xmpp-websocket`. SASL is
    /// allowed on it (`consider_websocket_secure`). Empty if this Prosody has no WebSocket module.
    pub fn websocket_url(&self) -> String {
        self.http_port.map(|p| format!("ws://127.0.0.1:{p}/xmpp-websocket")).unwrap_or_default()
    }

    /// The XMPP-over-WebSocket endpoint with TLS, `wss://127.0.0.1:PORT/xmpp-websocket` (the certificate also
    /// names `localhost`). Empty if this Prosody has no WebSocket module.
    pub fn websocket_tls_url(&self) -> String {
        self.https_port.map(|p| format!("wss://127.0.0.1:{p}/xmpp-websocket")).unwrap_or_default()
    }

    /// The PEM of the throw-away CA that signed the server certificate. Trust this (not the leaf) in clients.
    /// The leaf names `localhost`, `*.localhost`, the component names and `127.0.0.1`.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The file holding [`ca_pem`](Self::ca_pem).
    pub fn ca_file(&self) -> &Path {
        &self.paths.ca
    }

    /// The temp dir holding configuration, certificates, data and log; removed on drop.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The generated `prosody.cfg.lua`.
    pub fn config_file(&self) -> &Path {
        &self.paths.config
    }

    /// The server log (Prosody's log plus its stdout and stderr).
    pub fn log_file(&self) -> &Path {
        &self.paths.log
    }

    /// The last `lines` lines of the server log, for assertion messages.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&read_log_from(&self.paths.log, 0), lines)
    }

    /// The modules enabled on the virtual hosts (those of the wanted set this Prosody has).
    pub fn enabled_modules(&self) -> &[&'static str] {
        &self.modules
    }

    /// The Prosody version from the startup line of the log, e.g. `"0.12.3"`.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// How long [`ProsodyBuilder::start`] took, from writing the certificates to the server listening.
    pub fn start_duration(&self) -> Duration {
        self.start_duration
    }

    /// The process id of the server.
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Creates (or resets the password of) the account `user@localhost` with `prosodyctl register`; usable
    /// at once by new logins.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), moxl_test_support::TestSupportError> {
    /// let server = moxl_test_support::Prosody::start()?;
    /// server.register("mercutio", "secret")?;
    /// # Ok(()) }
    /// ```
    pub fn register(&self, user: &str, password: &str) -> Result<(), TestSupportError> {
        validate_localpart(user)?;
        validate_password(password)?;
        Registration::spawn(&self.prosodyctl, &self.paths.config, user, DOMAIN, password)?.finish()
    }
}

impl Prosody {
    /// Stops the server (SIGTERM: it closes every stream with `system-shutdown`; its sessions, including
    /// stream-management sessions waiting for resumption, are gone) and starts it again on the same ports with
    /// the same data (accounts, rosters, archives). Blocks until it is ready again.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), moxl_test_support::TestSupportError> {
    /// let mut server = moxl_test_support::Prosody::builder().account("juliet", "secret").start()?;
    /// let port = server.c2s_port();
    /// server.restart()?;
    /// assert_eq!(server.c2s_port(), port);
    /// # Ok(()) }
    /// ```
    pub fn restart(&mut self) -> Result<(), TestSupportError> {
        let log_offset = std::fs::metadata(&self.paths.log).map(|m| m.len()).unwrap_or(0);
        let root = self.dir.path().to_path_buf();
        // Stops the old process first (its drop), then starts the new one.
        self.process.stop();
        let mut process = spawn_prosody(&self.relaunch.prosody, &self.paths, &root, self.relaunch.stop_timeout)?;
        let services: Vec<(&str, u16)> = self.relaunch.services.iter().map(|(n, p)| (n.as_str(), *p)).collect();
        match wait_ready(
            &mut process,
            &self.paths.log,
            log_offset,
            &services,
            self.c2s_port,
            self.relaunch.start_timeout,
        ) {
            Ok(()) => {
                self.process = process;
                Ok(())
            }
            Err(StartFailure::PortInUse(reason) | StartFailure::Failed(reason)) => Err(TestSupportError::Start {
                reason: format!("restarting: {reason}"),
                log_tail: self.log_tail(LOG_TAIL_LINES),
                log: self.paths.log.clone(),
            }),
        }
    }
}

impl Drop for Prosody {
    fn drop(&mut self) {
        // The fields then stop the process and remove the directory. A failing test gets the server's side
        // of the story in its output.
        if std::thread::panicking() {
            eprintln!(
                "moxl-test-support: panicking while Prosody (pid {}) runs; last lines of {}:\n{}",
                self.pid(),
                self.paths.log.display(),
                self.log_tail(LOG_TAIL_LINES)
            );
        }
    }
}

/// Where the files of one server live.
#[derive(Debug)]
struct Paths {
    config: PathBuf,
    log: PathBuf,
    pid: PathBuf,
    data: PathBuf,
    certs: PathBuf,
    plugins: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    ca: PathBuf,
}

impl Paths {
    fn new(root: &Path) -> Self {
        let certs = root.join("certs");
        Self {
            config: root.join("prosody.cfg.lua"),
            log: root.join("prosody.log"),
            pid: root.join("prosody.pid"),
            data: root.join("data"),
            // Named after the host, so that Prosody's certificate index finds them too.
            cert: certs.join("localhost.crt"),
            key: certs.join("localhost.key"),
            ca: root.join("ca.pem"),
            plugins: root.join("plugins"),
            certs,
        }
    }
}

/// The installed binaries and module directory.
struct Binaries {
    prosody: PathBuf,
    prosodyctl: PathBuf,
    modules_dir: Option<PathBuf>,
}

impl Binaries {
    fn locate() -> Result<Self, TestSupportError> {
        let prosody = find_binary("prosody").ok_or(TestSupportError::ProsodyNotInstalled { binary: "prosody" })?;
        let prosodyctl =
            find_binary("prosodyctl").ok_or(TestSupportError::ProsodyNotInstalled { binary: "prosodyctl" })?;
        let mut candidates = Vec::new();
        if let Some(prefix) = prosody.parent().and_then(Path::parent) {
            candidates.push(prefix.join("lib/prosody/modules"));
        }
        candidates.push(PathBuf::from("/usr/lib/prosody/modules"));
        candidates.push(PathBuf::from("/usr/local/lib/prosody/modules"));
        let modules_dir = candidates.into_iter().find(|d| d.is_dir());
        Ok(Self { prosody, prosodyctl, modules_dir })
    }

    /// Whether the module exists; without a known module directory, every module is assumed to.
    fn has_module(&self, name: &str) -> bool {
        let Some(dir) = &self.modules_dir else { return true };
        dir.join(format!("mod_{name}.lua")).is_file()
            || dir.join(format!("mod_{name}")).join(format!("mod_{name}.lua")).is_file()
            || dir.join(name).join(format!("mod_{name}.lua")).is_file()
    }
}

fn find_binary(name: &str) -> Option<PathBuf> {
    let path_dirs = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default();
    path_dirs
        .into_iter()
        .chain(["/usr/bin", "/usr/sbin", "/usr/local/bin"].into_iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// What [`Prosody::restart`] needs to start the server again.
#[derive(Debug)]
struct Relaunch {
    prosody: PathBuf,
    services: Vec<(String, u16)>,
    stop_timeout: Duration,
    start_timeout: Duration,
}

/// Starts `prosody -F` with the server's config, logging into its log file.
fn spawn_prosody(
    prosody: &Path,
    paths: &Paths,
    root: &Path,
    stop_timeout: Duration,
) -> Result<ServerProcess, TestSupportError> {
    let mut command = Command::new(prosody);
    command.arg("-F").arg("--config").arg(&paths.config);
    ServerProcess::spawn(command, root, &paths.log, "moxl-prosody-watchdog", stop_timeout)
}

/// A `prosodyctl register` run; killed and reaped if dropped unfinished.
struct Registration {
    child: Option<Child>,
    user: String,
    host: String,
}

impl Registration {
    fn spawn(
        prosodyctl: &Path,
        config: &Path,
        user: &str,
        host: &str,
        password: &str,
    ) -> Result<Self, TestSupportError> {
        let child = Command::new(prosodyctl)
            .arg("--config")
            .arg(config)
            .args(["register", user, host, password])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| TestSupportError::io(format!("starting {}", prosodyctl.display()), e))?;
        Ok(Self { child: Some(child), user: user.to_owned(), host: host.to_owned() })
    }

    fn finish(mut self) -> Result<(), TestSupportError> {
        let Some(child) = self.child.take() else { return Ok(()) };
        let output = child
            .wait_with_output()
            .map_err(|e| TestSupportError::io(format!("waiting for prosodyctl register {}", self.user), e))?;
        if output.status.success() {
            return Ok(());
        }
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        Err(TestSupportError::Register {
            user: std::mem::take(&mut self.user),
            host: std::mem::take(&mut self.host),
            status: output.status.to_string(),
            output: text.trim().to_owned(),
        })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

enum StartFailure {
    /// A port was taken by another process between choosing and binding it.
    PortInUse(String),
    Failed(String),
}

fn wait_ready(
    process: &mut ServerProcess,
    log: &Path,
    log_offset: u64,
    services: &[(&str, u16)],
    c2s_port: u16,
    timeout: Duration,
) -> Result<(), StartFailure> {
    let deadline = Instant::now() + timeout;
    let expected: Vec<String> =
        services.iter().map(|(name, port)| format!("Activated service '{name}' on [127.0.0.1]:{port}")).collect();
    loop {
        if let Some(status) = process.try_wait() {
            return Err(StartFailure::Failed(format!("prosody exited ({status}) before listening")));
        }
        let text = read_log_from(log, log_offset);
        if let Some(failure) = bind_failure(&text) {
            return Err(failure);
        }
        if text.contains(config::READY_LINE) && expected.iter().all(|e| text.contains(e.as_str())) {
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, c2s_port));
            if TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok() {
                return Ok(());
            }
        }
        if Instant::now() >= deadline {
            let missing: Vec<&str> = services
                .iter()
                .zip(&expected)
                .filter(|(_, e)| !text.contains(e.as_str()))
                .map(|((name, _), _)| *name)
                .collect();
            return Err(StartFailure::Failed(format!(
                "not ready after {timeout:?} (services not activated: {}; startup complete: {}; c2s port {c2s_port} \
                 accepting: {})",
                if missing.is_empty() { "none".to_owned() } else { missing.join(", ") },
                if text.contains(config::READY_LINE) { "yes" } else { "no" },
                if TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, c2s_port))).is_ok() {
                    "yes"
                } else {
                    "no"
                },
            )));
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// A port Prosody could not bind, from its log. Prosody 0.12 logs it and keeps running without that port, e.g.
/// `portmanager error Failed to open server port 35222 on 127.0.0.1, this port is in use by another application`.
fn bind_failure(log: &str) -> Option<StartFailure> {
    let line = log.lines().find(|l| {
        l.contains("Failed to open server port")
            || l.contains("Error binding encrypted port")
            || l.contains("Failed to activate service")
    })?;
    let line = line.trim().to_owned();
    Some(if line.to_ascii_lowercase().contains("in use") {
        StartFailure::PortInUse(line)
    } else {
        StartFailure::Failed(line)
    })
}

/// The log from byte `offset` on, lossily decoded; empty if unreadable.
pub(crate) fn read_log_from(log: &Path, offset: u64) -> String {
    let mut bytes = Vec::new();
    if let Ok(mut file) = File::open(log) {
        if file.seek(SeekFrom::Start(offset)).is_ok() {
            let _ = file.read_to_end(&mut bytes);
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all.get(start..).unwrap_or_default().join("\n")
}

fn create_dir(path: &Path) -> Result<(), TestSupportError> {
    std::fs::create_dir_all(path).map_err(|e| TestSupportError::io(format!("creating {}", path.display()), e))
}

pub(crate) fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), TestSupportError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(|e| TestSupportError::io(format!("creating {}", path.display()), e))?;
    file.write_all(contents).map_err(|e| TestSupportError::io(format!("writing {}", path.display()), e))
}

/// Rejects local parts that Prosody's nodeprep would refuse or that would be ambiguous on a command line.
pub(crate) fn validate_localpart(user: &str) -> Result<(), TestSupportError> {
    const FORBIDDEN: &[char] = &['"', '&', '\'', '/', ':', '<', '>', '@'];
    if user.is_empty() || user.len() > 1023 || user.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(TestSupportError::InvalidArgument(format!("invalid account name {user:?}")));
    }
    if user.contains(FORBIDDEN) || user.starts_with('-') {
        return Err(TestSupportError::InvalidArgument(format!("invalid account name {user:?}")));
    }
    Ok(())
}

pub(crate) fn validate_password(password: &str) -> Result<(), TestSupportError> {
    // prosodyctl reads a password from the terminal when it gets an empty one.
    if password.is_empty() || password.contains('\0') {
        return Err(TestSupportError::InvalidArgument("the password must be non-empty and have no NUL".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_taken_by_another_process_is_retried_other_bind_errors_are_not() {
        let taken = "Nov 24 07:51:10 portmanager\terror\tFailed to open server port 35222 on 127.0.0.1, this port \
                     is in use by another application\n";
        assert!(matches!(bind_failure(taken), Some(StartFailure::PortInUse(_))));
        let denied = "x portmanager\terror\tFailed to open server port 80 on 127.0.0.1, permission denied\n";
        assert!(matches!(bind_failure(denied), Some(StartFailure::Failed(_))));
        assert!(bind_failure("x portmanager\tinfo\tActivated service 'c2s' on [127.0.0.1]:5222\n").is_none());
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
        assert_eq!(tail("", 5), "");
    }

    #[test]
    fn localparts_are_checked() {
        assert!(validate_localpart("juliet").is_ok());
        assert!(validate_localpart("").is_err());
        assert!(validate_localpart("a b").is_err());
        assert!(validate_localpart("a@b").is_err());
        assert!(validate_localpart("--help").is_err());
        assert!(validate_password("").is_err());
    }
}
