//! Free loopback ports, chosen by the kernel and remembered while a server of this process uses them.

use std::collections::HashSet;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::{Mutex, PoisonError};

use crate::TestSupportError;

/// Ports handed to servers of this process that are still alive: between dropping the probe listener and
/// Prosody binding the port, the kernel could hand the same port to a concurrent `start`.
static IN_USE: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// `N` distinct free ports on 127.0.0.1, released from this process' bookkeeping on drop.
#[derive(Debug)]
pub(crate) struct PortSet<const N: usize> {
    ports: [u16; N],
}

impl<const N: usize> PortSet<N> {
    pub(crate) fn reserve() -> Result<Self, TestSupportError> {
        let mut guard = IN_USE.lock().unwrap_or_else(PoisonError::into_inner);
        let in_use = guard.get_or_insert_with(HashSet::new);
        // Keep every probe listener open until all ports are chosen, so that the kernel hands out distinct ones.
        let mut listeners = Vec::with_capacity(N + 4);
        let mut ports = [0u16; N];
        let mut found = 0;
        for _ in 0..(N * 8) {
            if found == N {
                break;
            }
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .map_err(|e| TestSupportError::io("binding 127.0.0.1:0 to find a free port", e))?;
            let port = listener
                .local_addr()
                .map_err(|e| TestSupportError::io("reading the address of a probe listener", e))?
                .port();
            listeners.push(listener);
            if !in_use.contains(&port) {
                if let Some(slot) = ports.get_mut(found) {
                    *slot = port;
                    found += 1;
                }
            }
        }
        if found != N {
            return Err(TestSupportError::io(
                "finding free loopback ports",
                std::io::Error::new(std::io::ErrorKind::AddrInUse, "the kernel kept returning ports in use"),
            ));
        }
        in_use.extend(ports);
        drop(listeners);
        Ok(Self { ports })
    }

    pub(crate) fn get(&self) -> [u16; N] {
        self.ports
    }
}

impl<const N: usize> Drop for PortSet<N> {
    fn drop(&mut self) {
        let mut guard = IN_USE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(in_use) = guard.as_mut() {
            for port in &self.ports {
                in_use.remove(port);
            }
        }
    }
}
