//! Where to connect for an XMPP domain: DNS SRV resolution (RFC 6120 §3.2, XEP-0368, RFC 2782).
//!
//! [`Resolver::endpoints`] asks for `_xmpps-client._tcp.<domain>` (direct TLS) and `_xmpp-client._tcp.<domain>`
//! (STARTTLS) at the same time, mixes both record sets and orders them by priority, then by RFC 2782's weighted
//! random selection. Without any record it falls back to the domain itself on port 5222 (RFC 6120 §3.2.2).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use hickory_resolver::config::{NameServerConfigGroup, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::ProtoErrorKind;
use hickory_resolver::{Name, ResolveError, TokioResolver};
use rand::seq::SliceRandom as _;
use rand::Rng;

use super::TransportError;
use crate::Result;

/// The port of the fallback process (RFC 6120 §3.2.2): the IANA-registered `xmpp-client` port.
const FALLBACK_PORT: u16 = 5222;

/// The SRV service for direct TLS (XEP-0368).
const DIRECT_TLS_SERVICE: &str = "_xmpps-client._tcp";
/// The SRV service for STARTTLS (RFC 6120 §3.2.1).
const STARTTLS_SERVICE: &str = "_xmpp-client._tcp";

/// One place to connect to: a host, a port, and whether TLS starts with the first byte.
///
/// The host is an SRV target (without its final dot) or, on fallback, the XMPP domain itself. Either way the TLS
/// certificate is checked against the XMPP domain, not against this host (RFC 6120 §13.7.2.1, XEP-0368 §3).
///
/// ```
/// use moxl_core::transport::Endpoint;
/// let endpoint = Endpoint::new("xmpp.example.org", 5223, true);
/// assert_eq!((endpoint.host.as_str(), endpoint.port, endpoint.direct_tls), ("xmpp.example.org", 5223, true));
/// assert_eq!(Endpoint::fallback("example.org"), Endpoint::new("example.org", 5222, false));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Endpoint {
    /// The host name (or IP address) to open a TCP connection to.
    pub host: String,
    /// The TCP port.
    pub port: u16,
    /// `true` for direct TLS (an `_xmpps-client` record, XEP-0368): TLS from the first byte. `false` for an
    /// `_xmpp-client` record or the fallback: the XML stream starts in the clear and is upgraded with STARTTLS.
    pub direct_tls: bool,
}

impl Endpoint {
    /// An endpoint given explicitly (a configured server, say).
    ///
    /// ```
    /// let endpoint = moxl_core::transport::Endpoint::new("127.0.0.1", 5222, false);
    /// assert!(!endpoint.direct_tls);
    /// ```
    pub fn new(host: impl Into<String>, port: u16, direct_tls: bool) -> Self {
        Endpoint { host: host.into(), port, direct_tls }
    }

    /// The fallback of RFC 6120 §3.2.2: the domain itself, port 5222, STARTTLS. A final dot is dropped and an
    /// IPv6 literal loses its brackets (`[::1]` → `::1`), so the host can be handed to a TCP connect as it is.
    ///
    /// ```
    /// use moxl_core::transport::Endpoint;
    /// assert_eq!(Endpoint::fallback("example.org."), Endpoint::new("example.org", 5222, false));
    /// assert_eq!(Endpoint::fallback("[::1]").host, "::1");
    /// ```
    pub fn fallback(domain: &str) -> Self {
        let domain = domain.strip_suffix('.').unwrap_or(domain);
        let host = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')).unwrap_or(domain);
        Endpoint::new(host, FALLBACK_PORT, false)
    }
}

/// A DNS resolver for XMPP endpoints: SRV records (RFC 6120 §3.2.1, XEP-0368) and the addresses of their
/// targets, over plain DNS (UDP, and TCP for long answers), with a cache.
///
/// Cloning is cheap and clones share the cache. [`Resolver::system`] is built once per process from
/// `/etc/resolv.conf`; [`Resolver::with_nameserver`] asks one given server (tests, a private DNS).
///
/// ```no_run
/// # async fn run() -> moxl_core::Result<()> {
/// use moxl_core::transport::{connect_tcp, Resolver};
/// let resolver = Resolver::system()?;
/// for endpoint in resolver.endpoints("example.org").await? {
///     if let Ok(tcp) = connect_tcp(&endpoint.host, endpoint.port).await {
///         // direct TLS at once if `endpoint.direct_tls`, else the stream header then STARTTLS
///         # drop(tcp);
///         break;
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Resolver {
    inner: Arc<TokioResolver>,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let servers: Vec<String> = self.inner.config().name_servers().iter().map(ToString::to_string).collect();
        f.debug_struct("Resolver").field("name_servers", &servers).finish_non_exhaustive()
    }
}

impl Resolver {
    /// The system's resolver configuration (`/etc/resolv.conf`: name servers, timeout, attempts; `/etc/hosts`
    /// for addresses), read once per process; every call returns the same resolver, sharing one cache.
    ///
    /// Fails (with [`TransportError::Dns`], and the same error on every call) when the configuration cannot be
    /// read.
    ///
    /// ```no_run
    /// use moxl_core::transport::Resolver;
    /// let shared = Resolver::system()?;
    /// assert!(shared.ptr_eq(&Resolver::system()?));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn system() -> Result<Resolver> {
        static SHARED: OnceLock<std::result::Result<Resolver, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                TokioResolver::builder_tokio()
                    .map(|builder| Resolver::from_hickory(builder.build()))
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(|e| {
                TransportError::Dns { host: "system DNS configuration (/etc/resolv.conf)".into(), source: e.into() }
                    .into()
            })
    }

    /// A resolver that asks only the DNS server at `server` (UDP, and TCP on the same port), without
    /// `/etc/hosts`.
    ///
    /// ```
    /// use moxl_core::transport::Resolver;
    /// let resolver = Resolver::with_nameserver("127.0.0.1:5353".parse().unwrap());
    /// assert!(format!("{resolver:?}").contains("127.0.0.1:5353"));
    /// ```
    pub fn with_nameserver(server: SocketAddr) -> Resolver {
        let servers = NameServerConfigGroup::from_ips_clear(&[server.ip()], server.port(), true);
        let config = ResolverConfig::from_parts(None, Vec::new(), servers);
        let mut options = ResolverOpts::default();
        options.use_hosts_file = ResolveHosts::Never;
        let resolver = TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
            .with_options(options)
            .build();
        Resolver::from_hickory(resolver)
    }

    /// The same name servers and options with another time limit per query (resolv.conf's `timeout`, 5 s by
    /// default; each query is tried resolv.conf's `attempts` times more, 2 by default). The new resolver has a
    /// cache of its own.
    ///
    /// Without an answer, [`endpoints`](Self::endpoints) falls back only once its lookups have timed out; wrap
    /// it in [`tokio::time::timeout`] for a bound on the whole resolution.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moxl_core::transport::Resolver;
    /// let impatient = Resolver::with_nameserver("127.0.0.1:5353".parse().unwrap()).with_timeout(Duration::from_secs(1));
    /// # drop(impatient);
    /// ```
    pub fn with_timeout(&self, timeout: Duration) -> Resolver {
        let mut options = self.inner.options().clone();
        options.timeout = timeout;
        let resolver =
            TokioResolver::builder_with_config(self.inner.config().clone(), TokioConnectionProvider::default())
                .with_options(options)
                .build();
        Resolver::from_hickory(resolver)
    }

    fn from_hickory(resolver: TokioResolver) -> Resolver {
        Resolver { inner: Arc::new(resolver) }
    }

    /// Whether two resolvers are the same shared object (share one cache).
    ///
    /// ```
    /// use moxl_core::transport::Resolver;
    /// let a = Resolver::with_nameserver("127.0.0.1:5353".parse().unwrap());
    /// assert!(a.ptr_eq(&a.clone()));
    /// assert!(!a.ptr_eq(&Resolver::with_nameserver("127.0.0.1:5353".parse().unwrap())));
    /// ```
    pub fn ptr_eq(&self, other: &Resolver) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Where to connect for the XMPP `domain`, best first: try them in this order.
    ///
    /// - `_xmpps-client._tcp.<domain>` (direct TLS) and `_xmpp-client._tcp.<domain>` (STARTTLS) are looked up
    ///   concurrently.
    /// - Their records are mixed into one set, as XEP-0368 §3 (rule 1) says they SHOULD be ("treated as the same
    ///   record with regard to connection order as specified by RFC 2782, in that all priorities and weights are
    ///   mixed"), so that the server operator decides between direct TLS and STARTTLS. The XEP lets a client
    ///   prefer one type; this one does not: at equal priority, weights alone decide.
    /// - The set is ordered by priority (lowest first), then within a priority by the weighted random selection
    ///   of RFC 2782 (records of weight 0 first in the running sum, as the RFC says).
    /// - A service whose answer is a single record with target `.` is "decidedly not available" (RFC 2782):
    ///   it gives no endpoint. If that leaves no endpoint at all, this is an error and there is no fallback
    ///   (RFC 6120 §3.2.1 step 3 aborts SRV processing; XEP-0368 §5 forbids the A/AAAA fallback once `_xmpps`
    ///   said `.`).
    /// - Without any SRV record for either service (NXDOMAIN or an empty answer) it falls back to
    ///   [`Endpoint::fallback`]: the domain, port 5222, STARTTLS (RFC 6120 §3.2.2). A failed lookup (timeout,
    ///   SERVFAIL, no reachable server) falls back the same way, with a `tracing` warning.
    /// - An IP address as the domain gives its fallback endpoint without asking DNS.
    ///
    /// Errors ([`Error::Transport`](crate::Error::Transport)): the domain is not a valid DNS name ([`TransportError::InvalidName`]), or the
    /// service is not offered ([`TransportError::NoService`]).
    ///
    /// ```no_run
    /// # async fn run() -> moxl_core::Result<()> {
    /// use moxl_core::transport::Resolver;
    /// let endpoints = Resolver::system()?.endpoints("example.org").await?;
    /// for endpoint in &endpoints {
    ///     println!("{}:{} direct TLS: {}", endpoint.host, endpoint.port, endpoint.direct_tls);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn endpoints(&self, domain: &str) -> Result<Vec<Endpoint>> {
        let bare = domain.strip_suffix('.').unwrap_or(domain);
        if bare.is_empty() {
            return Err(TransportError::InvalidName { name: String::new(), source: "an empty domain".into() }.into());
        }
        let unbracketed = bare.strip_prefix('[').and_then(|d| d.strip_suffix(']')).unwrap_or(bare);
        if unbracketed.parse::<IpAddr>().is_ok() {
            return Ok(vec![Endpoint::fallback(bare)]);
        }
        let direct_name = srv_name(DIRECT_TLS_SERVICE, bare)?;
        let starttls_name = srv_name(STARTTLS_SERVICE, bare)?;
        let (direct, starttls) = tokio::join!(self.srv(direct_name, true), self.srv(starttls_name, false));
        combine(bare, direct, starttls, &mut rand::rng())
    }

    /// The socket addresses of an endpoint, looked up with this resolver (so that a custom name server also
    /// resolves the SRV targets it named). An IP address as the host is taken as it is.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> moxl_core::Result<()> {
    /// use moxl_core::transport::{Endpoint, Resolver};
    /// let resolver = Resolver::with_nameserver("127.0.0.1:5353".parse().unwrap());
    /// let addrs = resolver.socket_addrs(&Endpoint::new("127.0.0.1", 5222, false)).await?;
    /// assert_eq!(addrs, vec!["127.0.0.1:5222".parse().unwrap()]);
    /// # Ok(()) }
    /// ```
    pub async fn socket_addrs(&self, endpoint: &Endpoint) -> Result<Vec<SocketAddr>> {
        if let Ok(ip) = endpoint.host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, endpoint.port)]);
        }
        let name = fqdn(&endpoint.host)?;
        let lookup = self
            .inner
            .lookup_ip(name)
            .await
            .map_err(|e| TransportError::Dns { host: endpoint.host.clone(), source: e.into() })?;
        let addrs: Vec<SocketAddr> = lookup.iter().map(|ip| SocketAddr::new(ip, endpoint.port)).collect();
        if addrs.is_empty() {
            return Err(TransportError::Dns { host: endpoint.host.clone(), source: "no address".into() }.into());
        }
        Ok(addrs)
    }

    /// One SRV lookup, classified.
    async fn srv(&self, name: Name, direct_tls: bool) -> Answer {
        match self.inner.srv_lookup(name.clone()).await {
            Ok(lookup) => Answer::from_records(
                lookup.iter().map(|srv| (srv.priority(), srv.weight(), srv.port(), srv.target())),
                direct_tls,
            ),
            Err(e) if is_no_records(&e) => Answer::NoRecords,
            Err(e) => Answer::Failed(format!("{name}: {e}")),
        }
    }
}

/// `<service>.<domain>.` as an absolute name (no search-list expansion).
fn srv_name(service: &str, domain: &str) -> Result<Name> {
    fqdn(&format!("{service}.{domain}"))
}

fn fqdn(host: &str) -> Result<Name> {
    let host = host.strip_suffix('.').unwrap_or(host);
    Name::from_utf8(format!("{host}."))
        .map_err(|e| TransportError::InvalidName { name: host.to_owned(), source: e.into() }.into())
}

/// Whether a lookup error says "there is no such record" (NXDOMAIN, or NOERROR without an answer), as opposed
/// to a failure. hickory reports SERVFAIL, REFUSED and the like as "no records found" too, with that code.
fn is_no_records(error: &ResolveError) -> bool {
    match error.proto().map(|p| p.kind()) {
        Some(ProtoErrorKind::NoRecordsFound { response_code, .. }) => {
            matches!(*response_code, ResponseCode::NXDomain | ResponseCode::NoError)
        }
        _ => false,
    }
}

/// One SRV resource record of either service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SrvRecord {
    pub(crate) priority: u16,
    pub(crate) weight: u16,
    pub(crate) port: u16,
    /// The target without its final dot.
    pub(crate) target: String,
    pub(crate) direct_tls: bool,
}

impl From<SrvRecord> for Endpoint {
    fn from(record: SrvRecord) -> Self {
        Endpoint::new(record.target, record.port, record.direct_tls)
    }
}

/// What the lookup of one service said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Usable records.
    Records(Vec<SrvRecord>),
    /// A single record with target `.`: the service is decidedly not available (RFC 2782).
    NotOffered,
    /// NXDOMAIN or an empty answer.
    NoRecords,
    /// The lookup failed (timeout, SERVFAIL, unreachable server…).
    Failed(String),
}

impl Answer {
    /// Classifies the records of one answer: `(priority, weight, port, target)`.
    fn from_records<'a>(records: impl Iterator<Item = (u16, u16, u16, &'a Name)>, direct_tls: bool) -> Answer {
        let mut usable = Vec::new();
        let mut roots = 0usize;
        for (priority, weight, port, target) in records {
            if target.is_root() {
                // RFC 2782: "." means "not available" only as the single record; next to others it is unusable.
                roots += 1;
                continue;
            }
            let ascii = target.to_ascii();
            let target = ascii.strip_suffix('.').unwrap_or(&ascii).to_owned();
            usable.push(SrvRecord { priority, weight, port, target, direct_tls });
        }
        match (usable.is_empty(), roots) {
            (false, _) => Answer::Records(usable),
            (true, 0) => Answer::NoRecords,
            (true, _) => Answer::NotOffered,
        }
    }
}

/// Turns the answers for both services into the endpoints to try (see [`Resolver::endpoints`]).
pub(crate) fn combine<R: Rng + ?Sized>(
    domain: &str,
    direct: Answer,
    starttls: Answer,
    rng: &mut R,
) -> Result<Vec<Endpoint>> {
    let mut records = Vec::new();
    let mut not_offered = Vec::new();
    let mut failures = Vec::new();
    for (service, answer) in [(DIRECT_TLS_SERVICE, direct), (STARTTLS_SERVICE, starttls)] {
        match answer {
            Answer::Records(found) => records.extend(found),
            Answer::NotOffered => not_offered.push(service),
            Answer::NoRecords => {}
            Answer::Failed(error) => failures.push(error),
        }
    }
    if !records.is_empty() {
        for error in &failures {
            tracing::warn!(domain, %error, "SRV lookup failed; using the records of the other service");
        }
        return Ok(rfc2782_order(records, rng).into_iter().map(Endpoint::from).collect());
    }
    if !not_offered.is_empty() {
        return Err(TransportError::NoService {
            domain: domain.to_owned(),
            services: not_offered.join(" and "),
            failures: (!failures.is_empty()).then(|| failures.join("; ")),
        }
        .into());
    }
    let fallback = Endpoint::fallback(domain);
    if failures.is_empty() {
        tracing::debug!(domain, "no XMPP SRV records; connecting to the domain on port 5222");
    } else {
        tracing::warn!(
            domain,
            errors = %failures.join("; "),
            "SRV lookup failed; falling back to the domain on port 5222"
        );
    }
    Ok(vec![fallback])
}

/// Orders SRV records as RFC 2782 says (section "Usage rules", and "Weight" in "The format of the SRV RR"):
/// lowest priority first; within a priority, repeatedly pick one record at random with a chance proportional to
/// its weight:
///
/// 1. arrange the records not yet ordered in any order (here: shuffled, so that records of weight 0 come in a
///    pseudorandom order too), except that those of weight 0 are placed at the beginning;
/// 2. compute the sum of the weights and, for each record, the running sum;
/// 3. choose a uniform random number between 0 and the sum, inclusive, and select the first record whose
///    running sum is greater than or equal to it;
/// 4. move it to the end of the ordered list and repeat with the rest.
///
/// Pure: all randomness comes from `rng`.
pub(crate) fn rfc2782_order<R: Rng + ?Sized>(mut records: Vec<SrvRecord>, rng: &mut R) -> Vec<SrvRecord> {
    records.shuffle(rng);
    records.sort_by_key(|r| r.priority); // stable: the shuffled order stays within a priority
    let mut ordered = Vec::with_capacity(records.len());
    let mut rest = records.into_iter().peekable();
    while let Some(first) = rest.next() {
        let priority = first.priority;
        let mut group = vec![first];
        while let Some(next) = rest.next_if(|r| r.priority == priority) {
            group.push(next);
        }
        order_by_weight(group, rng, &mut ordered);
    }
    ordered
}

/// Step 1–4 of [`rfc2782_order`] for the records of one priority.
fn order_by_weight<R: Rng + ?Sized>(mut group: Vec<SrvRecord>, rng: &mut R, ordered: &mut Vec<SrvRecord>) {
    group.sort_by_key(|r| r.weight != 0); // stable: weight 0 first, otherwise the order stays
    while !group.is_empty() {
        let sum: u64 = group.iter().map(|r| u64::from(r.weight)).sum();
        let chosen = rng.random_range(0..=sum);
        let mut running = 0u64;
        let index = group
            .iter()
            .position(|r| {
                running += u64::from(r.weight);
                running >= chosen
            })
            .unwrap_or(0);
        ordered.push(group.remove(index));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;
    use crate::Error;

    fn rec(target: &str, priority: u16, weight: u16) -> SrvRecord {
        SrvRecord { priority, weight, port: 5222, target: target.into(), direct_tls: false }
    }

    fn targets(records: &[SrvRecord]) -> Vec<&str> {
        records.iter().map(|r| r.target.as_str()).collect()
    }

    /// How often each target comes first over `runs` seeded orderings.
    fn first_counts(records: &[SrvRecord], runs: u64) -> HashMap<String, u64> {
        let mut counts = HashMap::new();
        for seed in 0..runs {
            let ordered = rfc2782_order(records.to_vec(), &mut StdRng::seed_from_u64(seed));
            *counts.entry(ordered[0].target.clone()).or_default() += 1;
        }
        counts
    }

    fn assert_share(counts: &HashMap<String, u64>, target: &str, runs: u64, expected: f64) {
        let share = counts.get(target).copied().unwrap_or(0) as f64 / runs as f64;
        assert!((share - expected).abs() < 0.02, "{target}: share {share:.3}, expected {expected:.3} ({counts:?})");
    }

    #[test]
    fn lower_priority_first_whatever_the_weights() {
        let records = vec![rec("c", 30, 1000), rec("a", 10, 0), rec("b", 20, 65535), rec("a2", 10, 5)];
        for seed in 0..200 {
            let ordered = rfc2782_order(records.clone(), &mut StdRng::seed_from_u64(seed));
            let priorities: Vec<u16> = ordered.iter().map(|r| r.priority).collect();
            assert_eq!(priorities, [10, 10, 20, 30]);
            assert_eq!(&targets(&ordered)[2..], ["b", "c"]);
        }
    }

    #[test]
    fn every_record_is_kept_exactly_once() {
        let records: Vec<SrvRecord> =
            (0..20).map(|i| rec(&format!("h{i}"), (i % 3) as u16, (i * 7 % 5) as u16)).collect();
        for seed in 0..50 {
            let mut ordered = targets(&rfc2782_order(records.clone(), &mut StdRng::seed_from_u64(seed)))
                .into_iter()
                .map(String::from)
                .collect::<Vec<_>>();
            ordered.sort();
            let mut expected: Vec<String> = records.iter().map(|r| r.target.clone()).collect();
            expected.sort();
            assert_eq!(ordered, expected);
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_order() {
        let records = vec![rec("a", 1, 10), rec("b", 1, 20), rec("c", 1, 30), rec("d", 2, 0), rec("e", 2, 0)];
        let first = rfc2782_order(records.clone(), &mut StdRng::seed_from_u64(7));
        for _ in 0..10 {
            assert_eq!(rfc2782_order(records.clone(), &mut StdRng::seed_from_u64(7)), first);
        }
    }

    #[test]
    fn the_first_pick_is_proportional_to_weight() {
        // Sum 100, a number in 0..=100 (101 values): running sums 10, 40, 100 → 11/101, 30/101, 60/101.
        let records = vec![rec("ten", 5, 10), rec("thirty", 5, 30), rec("sixty", 5, 60)];
        let runs = 20_000;
        let counts = first_counts(&records, runs);
        // The running sum depends on the (shuffled) arrangement: the first record in it also takes the 0.
        // Averaged over arrangements, each record gets its weight plus a third of the 0: (w + 1/3) / 101.
        assert_share(&counts, "ten", runs, (10.0 + 1.0 / 3.0) / 101.0);
        assert_share(&counts, "thirty", runs, (30.0 + 1.0 / 3.0) / 101.0);
        assert_share(&counts, "sixty", runs, (60.0 + 1.0 / 3.0) / 101.0);
    }

    #[test]
    fn the_second_pick_follows_the_remaining_weights() {
        // After "sixty" is taken first, "thirty" comes next with a chance of about 30/40.
        let records = vec![rec("ten", 0, 10), rec("thirty", 0, 30), rec("sixty", 0, 60)];
        let (mut after_sixty, mut thirty_second) = (0u32, 0u32);
        for seed in 0..20_000 {
            let ordered = rfc2782_order(records.clone(), &mut StdRng::seed_from_u64(seed));
            if ordered[0].target == "sixty" {
                after_sixty += 1;
                thirty_second += u32::from(ordered[1].target == "thirty");
            }
        }
        let share = f64::from(thirty_second) / f64::from(after_sixty);
        assert!((share - 30.5 / 41.0).abs() < 0.03, "thirty second after sixty: {share:.3}");
    }

    #[test]
    fn weight_zero_comes_first_in_the_running_sum_so_is_rarely_picked_first() {
        // RFC 2782: weight-0 records are placed at the beginning; they are picked only when the random number
        // is 0: 1 chance in 101 here. Then the 0-weight record is the only one left.
        let records = vec![rec("weighted", 1, 100), rec("zero", 1, 0)];
        let runs = 20_000;
        let counts = first_counts(&records, runs);
        assert_share(&counts, "zero", runs, 1.0 / 101.0);
        assert!(counts.get("zero").copied().unwrap_or(0) > 0, "a weight-0 record can still come first");
    }

    #[test]
    fn all_zero_weights_give_a_uniform_pseudorandom_order() {
        let records = vec![rec("a", 0, 0), rec("b", 0, 0), rec("c", 0, 0), rec("d", 0, 0)];
        let runs = 20_000;
        let counts = first_counts(&records, runs);
        for target in ["a", "b", "c", "d"] {
            assert_share(&counts, target, runs, 0.25);
        }
    }

    #[test]
    fn a_single_record_needs_no_randomness() {
        let ordered = rfc2782_order(vec![rec("only", 3, 0)], &mut StdRng::seed_from_u64(0));
        assert_eq!(targets(&ordered), ["only"]);
        assert!(rfc2782_order(Vec::new(), &mut StdRng::seed_from_u64(0)).is_empty());
    }

    #[test]
    fn extreme_weights_do_not_overflow() {
        let records: Vec<SrvRecord> = (0..100).map(|i| rec(&format!("h{i}"), 0, u16::MAX)).collect();
        assert_eq!(rfc2782_order(records, &mut StdRng::seed_from_u64(1)).len(), 100);
    }

    fn name(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    #[test]
    fn a_single_dot_target_means_not_offered() {
        let root = Name::root();
        assert_eq!(Answer::from_records([(0, 0, 0, &root)].into_iter(), true), Answer::NotOffered);
    }

    #[test]
    fn a_dot_target_among_others_is_skipped() {
        let root = Name::root();
        let host = name("xmpp.example.test.");
        let answer = Answer::from_records([(0, 0, 0, &root), (5, 1, 5223, &host)].into_iter(), true);
        let expected =
            SrvRecord { priority: 5, weight: 1, port: 5223, target: "xmpp.example.test".into(), direct_tls: true };
        assert_eq!(answer, Answer::Records(vec![expected]));
        assert_eq!(Answer::from_records(std::iter::empty(), false), Answer::NoRecords);
    }

    fn combined(direct: Answer, starttls: Answer) -> Result<Vec<Endpoint>> {
        combine("example.test", direct, starttls, &mut StdRng::seed_from_u64(3))
    }

    fn records(direct_tls: bool, list: &[(&str, u16, u16)]) -> Answer {
        Answer::Records(
            list.iter()
                .map(|&(target, priority, port)| SrvRecord {
                    priority,
                    weight: 0,
                    port,
                    target: target.into(),
                    direct_tls,
                })
                .collect(),
        )
    }

    #[test]
    fn both_services_are_mixed_by_priority() {
        let endpoints = combined(
            records(true, &[("tls.example.test", 10, 443)]),
            records(false, &[("a.example.test", 5, 5222), ("b.example.test", 20, 5222)]),
        )
        .unwrap();
        assert_eq!(
            endpoints,
            [
                Endpoint::new("a.example.test", 5222, false),
                Endpoint::new("tls.example.test", 443, true),
                Endpoint::new("b.example.test", 5222, false),
            ]
        );
    }

    #[test]
    fn at_equal_priority_neither_type_is_preferred() {
        // XEP-0368 §3: priorities and weights are mixed; only the weights (here both 0) decide.
        let mut direct_first = 0;
        for seed in 0..2000 {
            let endpoints = combine(
                "example.test",
                records(true, &[("tls.example.test", 0, 5223)]),
                records(false, &[("tcp.example.test", 0, 5222)]),
                &mut StdRng::seed_from_u64(seed),
            )
            .unwrap();
            direct_first += usize::from(endpoints[0].direct_tls);
        }
        assert!((900..=1100).contains(&direct_first), "direct TLS first {direct_first} times of 2000");
    }

    #[test]
    fn no_records_at_all_falls_back_to_the_domain() {
        let fallback = vec![Endpoint::new("example.test", 5222, false)];
        assert_eq!(combined(Answer::NoRecords, Answer::NoRecords).unwrap(), fallback);
        assert_eq!(combined(Answer::Failed("timeout".into()), Answer::NoRecords).unwrap(), fallback);
        assert_eq!(combined(Answer::Failed("x".into()), Answer::Failed("y".into())).unwrap(), fallback);
    }

    #[test]
    fn a_failed_lookup_next_to_records_uses_the_records() {
        let endpoints = combined(Answer::Failed("SERVFAIL".into()), records(false, &[("a.example.test", 0, 5222)]));
        assert_eq!(endpoints.unwrap(), [Endpoint::new("a.example.test", 5222, false)]);
    }

    #[test]
    fn a_dot_target_removes_that_service_only() {
        let endpoints = combined(Answer::NotOffered, records(false, &[("a.example.test", 0, 5222)])).unwrap();
        assert_eq!(endpoints, [Endpoint::new("a.example.test", 5222, false)]);
        let endpoints = combined(records(true, &[("t.example.test", 0, 5223)]), Answer::NotOffered).unwrap();
        assert_eq!(endpoints, [Endpoint::new("t.example.test", 5223, true)]);
    }

    #[test]
    fn a_dot_target_and_nothing_else_is_an_error_not_a_fallback() {
        for (direct, starttls) in [
            (Answer::NotOffered, Answer::NotOffered),
            (Answer::NotOffered, Answer::NoRecords),
            (Answer::NoRecords, Answer::NotOffered),
            (Answer::NotOffered, Answer::Failed("timeout".into())),
        ] {
            let err = combined(direct.clone(), starttls.clone()).unwrap_err();
            assert!(matches!(&err, Error::Transport(TransportError::NoService { .. })), "{err}");
            assert!(err.to_string().contains("offers no XMPP client service"), "{err}");
        }
    }

    #[test]
    fn srv_names_are_absolute_and_accept_idn() {
        assert_eq!(
            srv_name(DIRECT_TLS_SERVICE, "example.test").unwrap().to_ascii(),
            "_xmpps-client._tcp.example.test."
        );
        assert_eq!(
            srv_name(STARTTLS_SERVICE, "bücher.example").unwrap().to_ascii(),
            "_xmpp-client._tcp.xn--bcher-kva.example."
        );
        assert!(srv_name(STARTTLS_SERVICE, "a..b").is_err());
    }

    #[tokio::test]
    async fn ip_literals_and_invalid_domains_need_no_dns() {
        // A name server nobody listens on: any query would fail (and fall back), not error.
        let resolver = Resolver::with_nameserver("127.0.0.1:9".parse().unwrap());
        assert_eq!(resolver.endpoints("192.0.2.1").await.unwrap(), [Endpoint::new("192.0.2.1", 5222, false)]);
        assert_eq!(resolver.endpoints("[2001:db8::1]").await.unwrap(), [Endpoint::new("2001:db8::1", 5222, false)]);
        assert!(resolver.endpoints("").await.is_err());
        assert!(resolver.endpoints("a..b").await.is_err());
    }
}
