//! A throw-away DNS server (dnsmasq) with given SRV and address records, on a free loopback port.

use std::fs::File;
use std::io::Read as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::ports::PortSet;
use crate::process::ServerProcess;
use crate::tempdir::TempDir;
use crate::TestSupportError;

const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(10);
const STOP_TIMEOUT: Duration = Duration::from_secs(3);
const POLL_INTERVAL: Duration = Duration::from_millis(5);
const START_ATTEMPTS: usize = 3;
const TAIL_LINES: usize = 30;

/// Configures and starts a [`Dnsmasq`] DNS server.
///
/// Made with [`Dnsmasq::builder`]. It answers only from the records given here: it has no upstream server and
/// reads neither `/etc/hosts` nor `/etc/resolv.conf`. Names under a [`local_domain`](Self::local_domain) that
/// have no record get NXDOMAIN; every other name gets REFUSED (a failed lookup, to a resolver).
///
/// ```no_run
/// # fn main() -> Result<(), moxl_test_support::TestSupportError> {
/// use std::net::Ipv4Addr;
/// let dns = moxl_test_support::Dnsmasq::builder()
///     .local_domain("example.test")
///     .srv("_xmpp-client._tcp.example.test", "xmpp.example.test", 5222, 10, 0)
///     .srv_not_available("_xmpps-client._tcp.example.test")
///     .host("xmpp.example.test", Ipv4Addr::LOCALHOST.into())
///     .start()?;
/// println!("DNS on {}", dns.addr());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `start` is called"]
pub struct DnsmasqBuilder {
    args: Vec<String>,
    start_timeout: Duration,
    invalid: Option<String>,
}

impl Default for DnsmasqBuilder {
    fn default() -> Self {
        Self { args: Vec::new(), start_timeout: DEFAULT_START_TIMEOUT, invalid: None }
    }
}

impl DnsmasqBuilder {
    /// An SRV record (RFC 2782): `owner` is the full name, e.g. `_xmpp-client._tcp.example.test`; the target
    /// must be a host name (give it an address with [`host`](Self::host)). Call again for more records under
    /// the same owner.
    pub fn srv(mut self, owner: &str, target: &str, port: u16, priority: u16, weight: u16) -> Self {
        if self.check(owner) && self.check(target) {
            self.args.push(format!("--srv-host={owner},{target},{port},{priority},{weight}"));
        }
        self
    }

    /// The single SRV record with target `.` under `owner`: "the service is decidedly not available at this
    /// domain" (RFC 2782).
    pub fn srv_not_available(mut self, owner: &str) -> Self {
        if self.check(owner) {
            self.args.push(format!("--srv-host={owner}"));
        }
        self
    }

    /// An address record (A or AAAA) for `name`. Call again to give it more addresses.
    pub fn host(mut self, name: &str, addr: IpAddr) -> Self {
        if self.check(name) {
            self.args.push(format!("--host-record={name},{addr}"));
        }
        self
    }

    /// A domain this server is authoritative for: its names without a record get NXDOMAIN (or an empty answer
    /// when the name has records of another type), instead of REFUSED.
    pub fn local_domain(mut self, domain: &str) -> Self {
        if self.check(domain) {
            self.args.push(format!("--local=/{domain}/"));
        }
        self
    }

    /// How long [`start`](Self::start) waits for the server to listen (default 10 s).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// Remembers the first name that cannot be passed to dnsmasq.
    fn check(&mut self, name: &str) -> bool {
        let valid = !name.is_empty()
            && name.len() <= 253
            && !name.starts_with(['-', '.'])
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid && self.invalid.is_none() {
            self.invalid = Some(format!("{name:?} is not a DNS name dnsmasq can take (ASCII letters, digits, -_.)"));
        }
        valid
    }

    /// Starts `dnsmasq` in the foreground on a free port of 127.0.0.1 (UDP and TCP) and waits until it
    /// listens (a few milliseconds).
    ///
    /// Fails with [`TestSupportError::NotInstalled`] when dnsmasq is not installed (run
    /// `bash scripts/install-test-deps.sh`), with [`TestSupportError::InvalidArgument`] for a name dnsmasq
    /// cannot take, and with [`TestSupportError::ServerStart`], carrying its output, when it exits or does not
    /// listen in time.
    pub fn start(self) -> Result<Dnsmasq, TestSupportError> {
        if let Some(reason) = self.invalid {
            return Err(TestSupportError::InvalidArgument(reason));
        }
        let binary = find_binary("dnsmasq")
            .ok_or(TestSupportError::NotInstalled { binary: "dnsmasq", package: "dnsmasq-base" })?;
        let dir = TempDir::new("moxl-dnsmasq")?;
        let log = dir.path().join("dnsmasq.log");
        let output = dir.path().join("output.log");
        let mut attempt = 0;
        loop {
            attempt += 1;
            let ports = PortSet::<1>::reserve()?;
            let [port] = ports.get();
            let process = spawn_dnsmasq(&binary, &self.args, port, dir.path(), &log, &output)?;
            match wait_ready(process, port, self.start_timeout) {
                Ok(process) => return Ok(Dnsmasq { process, _ports: ports, port, log, output, dir }),
                Err(reason) => {
                    let log_tail = tail(&format!("{}{}", read(&output), read(&log)), TAIL_LINES);
                    // The port was free for TCP when chosen; UDP, or a race with another process, may still
                    // take it: pick another.
                    if log_tail.contains("Address already in use") && attempt < START_ATTEMPTS {
                        continue;
                    }
                    return Err(TestSupportError::ServerStart { server: "dnsmasq", reason, log_tail });
                }
            }
        }
    }
}

/// A running dnsmasq DNS server on 127.0.0.1, answering from the records given to its [`DnsmasqBuilder`].
///
/// Dropping it stops the server (SIGTERM, then SIGKILL) and removes its directory. Should the test process die
/// without dropping it, a small watchdog process does the same.
///
/// ```
/// # fn main() -> Result<(), moxl_test_support::TestSupportError> {
/// let dns = moxl_test_support::Dnsmasq::builder()
///     .local_domain("example.test")
///     .srv("_xmpp-client._tcp.example.test", "xmpp.example.test", 5222, 0, 0)
///     .start()?;
/// assert!(dns.addr().ip().is_loopback());
/// assert_eq!(dns.addr().port(), dns.port());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Dnsmasq {
    // Fields drop in declaration order: the process stops before its directory is removed.
    process: ServerProcess,
    _ports: PortSet<1>,
    port: u16,
    log: PathBuf,
    output: PathBuf,
    dir: TempDir,
}

impl Dnsmasq {
    /// A builder for a server with records.
    pub fn builder() -> DnsmasqBuilder {
        DnsmasqBuilder::default()
    }

    /// Where it listens: 127.0.0.1 and [`port`](Self::port), for UDP and TCP.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// The port it listens on (UDP and TCP).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process id of the server.
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Its log: every query and its answer (`--log-queries`).
    pub fn log_file(&self) -> &Path {
        &self.log
    }

    /// The last `lines` lines of its output and log, for assertion messages.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&format!("{}{}", read(&self.output), read(&self.log)), lines)
    }

    /// The temp dir holding its pid file and logs; removed on drop.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "moxl-test-support: panicking while dnsmasq (pid {}) runs; its last lines:\n{}",
                self.pid(),
                self.log_tail(TAIL_LINES)
            );
        }
    }
}

/// Starts dnsmasq answering `records` on `port`, logging into `log` (queries) and `output` (the rest).
fn spawn_dnsmasq(
    binary: &Path,
    records: &[String],
    port: u16,
    dir: &Path,
    log: &Path,
    output: &Path,
) -> Result<ServerProcess, TestSupportError> {
    let mut command = Command::new(binary);
    command
        .arg("--keep-in-foreground")
        .arg("--no-resolv")
        .arg("--no-hosts")
        .arg(format!("--port={port}"))
        .arg("--listen-address=127.0.0.1")
        .arg("--bind-interfaces")
        .arg("--conf-file=/dev/null")
        .arg(format!("--pid-file={}", dir.join("dnsmasq.pid").display()))
        .arg(format!("--log-facility={}", log.display()))
        .arg("--log-queries")
        .args(records);
    ServerProcess::spawn(command, dir, output, "moxl-dnsmasq-watchdog", STOP_TIMEOUT)
}

/// Waits until dnsmasq accepts TCP connections on `port` (it binds UDP and TCP together, before answering).
fn wait_ready(mut process: ServerProcess, port: u16, timeout: Duration) -> Result<ServerProcess, String> {
    let deadline = Instant::now() + timeout;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    loop {
        if let Some(status) = process.try_wait() {
            return Err(format!("dnsmasq exited ({status}) before listening on port {port}"));
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(process);
        }
        if Instant::now() >= deadline {
            return Err(format!("not listening on 127.0.0.1:{port} after {timeout:?}"));
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

fn find_binary(name: &str) -> Option<PathBuf> {
    let path_dirs = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default();
    path_dirs
        .into_iter()
        .chain(["/usr/sbin", "/usr/bin", "/usr/local/sbin"].into_iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A file's text, lossily decoded; empty if unreadable.
fn read(path: &Path) -> String {
    let mut bytes = Vec::new();
    if let Ok(mut file) = File::open(path) {
        let _ = file.read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all.get(start..).unwrap_or_default().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_dnsmasq_cannot_take_are_refused_before_starting() {
        for bad in ["", "a,b", "a b", "-x", "a/b", "é.test"] {
            let err = Dnsmasq::builder().host(bad, Ipv4Addr::LOCALHOST.into()).start().unwrap_err();
            assert!(matches!(err, TestSupportError::InvalidArgument(_)), "{bad:?}: {err}");
        }
        let ok = Dnsmasq::builder().srv("_xmpp-client._tcp.example.test", "xmpp.example.test", 1, 2, 3);
        assert_eq!(ok.args, ["--srv-host=_xmpp-client._tcp.example.test,xmpp.example.test,1,2,3"]);
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("", 3), "");
    }
}
