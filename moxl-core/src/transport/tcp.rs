//! TCP connections: Happy Eyeballs across the addresses of a host (RFC 8305), Nagle's algorithm off.
//!
//! A host with IPv6 and IPv4 addresses where one family is broken (a black-holed IPv6 route is the classic)
//! must not cost the operating system's connect timeout, often more than a minute: attempts start one after
//! the other, [`CONNECTION_ATTEMPT_DELAY`] apart or as soon as the previous one fails, alternating address
//! families, and the first connection made wins; the others are dropped.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::TransportError;
use crate::Result;

/// How long an attempt runs alone before the next address is tried too: RFC 8305 §5 recommends 250 ms.
///
/// ```
/// assert_eq!(moxl_core::transport::CONNECTION_ATTEMPT_DELAY, std::time::Duration::from_millis(250));
/// ```
pub const CONNECTION_ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// Opens a TCP connection to `host` (a name, resolved by the system, or an IP address): Happy Eyeballs over
/// its addresses, then `TCP_NODELAY` (stanzas are small and latency matters).
///
/// ```no_run
/// # async fn run() -> moxl_core::Result<()> {
/// let tcp = moxl_core::transport::connect_tcp("capulet.lit", 5222).await?;
/// # Ok(()) }
/// ```
pub async fn connect_tcp(host: &str, port: u16) -> Result<TcpStream> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| TransportError::Dns { host: host.to_owned(), source: e.into() })?
        .collect();
    connect_addrs(&addrs).await.map_err(|e| TransportError::connect(host, port, e).into())
}

/// Opens a TCP connection to the first of `addrs` that answers, by Happy Eyeballs (RFC 8305 §4, §5): address
/// families alternate, starting with the family of the first address (the resolver's preference, RFC 6724), and
/// each attempt gets [`CONNECTION_ATTEMPT_DELAY`] before the next one starts beside it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let tcp = moxl_core::transport::connect_addrs(&[listener.local_addr()?]).await?;
/// assert_eq!(tcp.peer_addr()?, listener.local_addr()?);
/// # Ok(()) }
/// ```
pub async fn connect_addrs(addrs: &[SocketAddr]) -> io::Result<TcpStream> {
    let tcp = race(&interleave(addrs), CONNECTION_ATTEMPT_DELAY, TcpStream::connect).await?;
    tcp.set_nodelay(true)?;
    Ok(tcp)
}

/// The addresses in the order of RFC 8305 §4: one of the first family, one of the other, and so on; the order
/// within a family is kept.
fn interleave(addrs: &[SocketAddr]) -> Vec<SocketAddr> {
    let Some(first) = addrs.first() else { return Vec::new() };
    let (mut preferred, mut other): (Vec<SocketAddr>, Vec<SocketAddr>) =
        addrs.iter().partition(|a| a.is_ipv6() == first.is_ipv6());
    preferred.reverse();
    other.reverse();
    let mut out = Vec::with_capacity(addrs.len());
    loop {
        match (preferred.pop(), other.pop()) {
            (None, None) => return out,
            (a, b) => out.extend(a.into_iter().chain(b)),
        }
    }
}

/// Runs `connect` on each address, the next one `delay` after the previous one started or as soon as it
/// failed, until one succeeds (RFC 8305 §5). The error lists every failure.
async fn race<T, F, Fut>(addrs: &[SocketAddr], delay: Duration, connect: F) -> io::Result<T>
where
    F: Fn(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let mut next = addrs.iter().copied();
    let mut pending = FuturesUnordered::new();
    let mut failures: Vec<String> = Vec::new();
    let mut kinds: Vec<io::ErrorKind> = Vec::new();
    let timer = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(timer);
    let mut start_now = true;
    loop {
        if start_now || timer.is_elapsed() {
            start_now = false;
            match next.next() {
                Some(addr) => {
                    let attempt = connect(addr);
                    pending.push(async move { (addr, attempt.await) });
                    timer.as_mut().reset(Instant::now() + delay);
                }
                None if pending.is_empty() => break,
                None => {}
            }
        }
        let more = next.len() > 0;
        tokio::select! {
            Some((addr, result)) = pending.next() => match result {
                Ok(connection) => return Ok(connection),
                Err(e) => {
                    tracing::debug!(%addr, error = %e, "connection attempt failed");
                    // One address: the caller's error names it already (`connection to HOST:PORT refused`).
                    failures.push(if addrs.len() == 1 { e.to_string() } else { format!("{addr}: {e}") });
                    kinds.push(e.kind());
                    start_now = true;
                }
            },
            () = &mut timer, if more => {}
            else => break,
        }
    }
    // The kind every attempt failed with (all refused: `ConnectionRefused`), so that callers can tell why.
    let kind = match kinds.split_first() {
        None => io::ErrorKind::NotFound,
        Some((first, rest)) if rest.iter().all(|k| k == first) => *first,
        Some(_) => io::ErrorKind::Other,
    };
    Err(match failures.len() {
        0 => io::Error::new(kind, "no address"),
        _ => io::Error::new(kind, failures.join("; ")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn families_alternate_starting_with_the_first() {
        let (v6a, v6b, v4a, v4b) =
            (a("[2001:db8::1]:5222"), a("[2001:db8::2]:5222"), a("192.0.2.1:5222"), a("192.0.2.2:5222"));
        assert_eq!(interleave(&[v6a, v6b, v4a, v4b]), [v6a, v4a, v6b, v4b]);
        assert_eq!(interleave(&[v4a, v4b, v6a]), [v4a, v6a, v4b]);
        assert_eq!(interleave(&[v4b, v4a]), [v4b, v4a]);
        assert!(interleave(&[]).is_empty());
    }

    /// A connector where `hang` never answers, `fail` is refused at once, and anything else connects.
    fn fake(
        hang: SocketAddr,
        fail: SocketAddr,
    ) -> impl Fn(SocketAddr) -> std::pin::Pin<Box<dyn Future<Output = io::Result<SocketAddr>>>> {
        move |addr| {
            Box::pin(async move {
                if addr == hang {
                    std::future::pending::<()>().await;
                }
                if addr == fail {
                    return Err(io::Error::from(io::ErrorKind::ConnectionRefused));
                }
                Ok(addr)
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_black_hole_costs_one_attempt_delay() {
        let (hole, good, none) = (a("[2001:db8::1]:5222"), a("192.0.2.1:5222"), a("192.0.2.9:1"));
        let started = Instant::now();
        let won = race(&[hole, good], CONNECTION_ATTEMPT_DELAY, fake(hole, none)).await.unwrap();
        assert_eq!(won, good);
        assert_eq!(started.elapsed(), CONNECTION_ATTEMPT_DELAY);
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_starts_the_next_attempt_at_once() {
        let (refused, good, none) = (a("[2001:db8::1]:5222"), a("192.0.2.1:5222"), a("192.0.2.9:1"));
        let started = Instant::now();
        let won = race(&[refused, good], CONNECTION_ATTEMPT_DELAY, fake(none, refused)).await.unwrap();
        assert_eq!(won, good);
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_answer_wins_even_from_an_earlier_attempt() {
        // The second attempt hangs; the first answers after 400 ms, past the attempt delay.
        let (slow, hole) = (a("192.0.2.1:5222"), a("[2001:db8::1]:5222"));
        let connect = move |addr: SocketAddr| async move {
            if addr == hole {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(Duration::from_millis(400)).await;
            Ok::<_, io::Error>(addr)
        };
        let started = Instant::now();
        assert_eq!(race(&[slow, hole], CONNECTION_ATTEMPT_DELAY, connect).await.unwrap(), slow);
        assert_eq!(started.elapsed(), Duration::from_millis(400));
    }

    #[tokio::test(start_paused = true)]
    async fn all_failures_are_reported() {
        let (x, y) = (a("192.0.2.1:5222"), a("192.0.2.2:5222"));
        let refuse = |_addr| async { Err::<(), _>(io::Error::from(io::ErrorKind::ConnectionRefused)) };
        let e = race(&[x, y], CONNECTION_ATTEMPT_DELAY, refuse).await.unwrap_err();
        assert!(e.to_string().contains("192.0.2.1:5222") && e.to_string().contains("192.0.2.2:5222"), "{e}");
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "all refused: the kind says so");
        assert_eq!(race(&[], CONNECTION_ATTEMPT_DELAY, refuse).await.unwrap_err().kind(), io::ErrorKind::NotFound);
        // One address: not repeated (the caller's error names host and port)
        let e = race(&[x], CONNECTION_ATTEMPT_DELAY, refuse).await.unwrap_err();
        assert!(!e.to_string().contains("192.0.2.1"), "{e}");
    }

    #[tokio::test]
    async fn localhost_connects_whichever_family_listens() {
        // `localhost` usually resolves to ::1 and 127.0.0.1; only the IPv4 one listens here.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let tcp = connect_tcp("localhost", port).await.unwrap();
        assert_eq!(tcp.peer_addr().unwrap(), listener.local_addr().unwrap());
        assert!(tcp.nodelay().unwrap());
    }
}
