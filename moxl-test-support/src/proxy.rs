//! [`CutProxy`]: a loopback TCP proxy whose connections a test can cut, to lose a connection under an active
//! session the way a network does (no XMPP-level goodbye on either side).

use std::io;
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::error::TestSupportError;

#[derive(Debug, Default)]
struct State {
    /// Both ends of every open connection.
    open: Mutex<Vec<(TcpStream, TcpStream)>>,
    refusing: AtomicBool,
    /// How many of the next connections to close at once (see [`CutProxy::refuse_next`]).
    refuse_next: AtomicUsize,
    stopped: AtomicBool,
    accepted: AtomicUsize,
}

/// Forwards `127.0.0.1:port()` to an upstream port, byte for byte, until told to cut.
///
/// ```no_run
/// # fn main() -> Result<(), moxl_test_support::TestSupportError> {
/// let server = moxl_test_support::Prosody::builder().account("juliet", "secret").start()?;
/// let proxy = moxl_test_support::CutProxy::start(server.c2s_port())?;
/// // … connect a client to proxy.port() …
/// proxy.set_refusing(true); // the network is down: new connections are closed at once
/// proxy.cut(); // and the open ones are gone
/// proxy.set_refusing(false); // back
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct CutProxy {
    port: u16,
    state: Arc<State>,
}

fn copy(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}

impl CutProxy {
    /// Listens on a free loopback port and forwards to `upstream_port` on loopback.
    pub fn start(upstream_port: u16) -> Result<CutProxy, TestSupportError> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| TestSupportError::io("binding the proxy's listener", e))?;
        let port = listener.local_addr().map_err(|e| TestSupportError::io("reading the proxy's address", e))?.port();
        let state = Arc::new(State::default());
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if shared.stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let refuse_one =
                    shared.refuse_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
                if refuse_one || shared.refusing.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect((Ipv4Addr::LOCALHOST, upstream_port)) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let clones = (client.try_clone(), server.try_clone(), client.try_clone(), server.try_clone());
                let (Ok(c1), Ok(s1), Ok(c2), Ok(s2)) = clones else { continue };
                shared.accepted.fetch_add(1, Ordering::SeqCst);
                shared.open.lock().unwrap_or_else(PoisonError::into_inner).push((client, server));
                std::thread::spawn(move || copy(c1, s1));
                std::thread::spawn(move || copy(s2, c2));
            }
        });
        Ok(CutProxy { port, state })
    }

    /// The port to connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Cuts every open connection (both directions, both ends), as a lost network would; returns how many.
    pub fn cut(&self) -> usize {
        let open = std::mem::take(&mut *self.state.open.lock().unwrap_or_else(PoisonError::into_inner));
        for (client, server) in &open {
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
        }
        open.len()
    }

    /// While `true`, new connections are closed as soon as they are accepted.
    pub fn set_refusing(&self, refusing: bool) {
        self.state.refusing.store(refusing, Ordering::SeqCst);
    }

    /// Closes the next `count` connections as soon as they are accepted (a server that drops a connection during
    /// negotiation), then forwards again.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), moxl_test_support::TestSupportError> {
    /// let server = moxl_test_support::Prosody::builder().account("juliet", "secret").start()?;
    /// let proxy = moxl_test_support::CutProxy::start(server.c2s_port())?;
    /// proxy.refuse_next(1); // the first connection to proxy.port() is closed at once, the second goes through
    /// # Ok(()) }
    /// ```
    pub fn refuse_next(&self, count: usize) {
        self.state.refuse_next.store(count, Ordering::SeqCst);
    }

    /// How many connections were forwarded so far.
    pub fn connections(&self) -> usize {
        self.state.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.state.stopped.store(true, Ordering::SeqCst);
        self.cut();
        // Wake the accept loop so that it sees `stopped`.
        let _ = TcpStream::connect_timeout(&(Ipv4Addr::LOCALHOST, self.port).into(), Duration::from_millis(100));
    }
}
