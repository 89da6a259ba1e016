//! [`Server`]: either test server behind one interface, so that a test body runs against both.

use std::fmt;

use crate::{Ejabberd, Prosody, TestSupportError};

/// Which XMPP server implementation.
///
/// ```
/// use moxl_test_support::ServerKind;
/// assert_eq!(ServerKind::ALL.map(ServerKind::name), ["prosody", "ejabberd"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServerKind {
    /// Prosody 0.12 ([`Prosody`]).
    Prosody,
    /// ejabberd 23.01 ([`Ejabberd`]).
    Ejabberd,
}

impl ServerKind {
    /// Every server the tests run against.
    pub const ALL: [ServerKind; 2] = [ServerKind::Prosody, ServerKind::Ejabberd];

    /// `"prosody"` or `"ejabberd"`.
    pub const fn name(self) -> &'static str {
        match self {
            ServerKind::Prosody => "prosody",
            ServerKind::Ejabberd => "ejabberd",
        }
    }

    /// Starts a server of this kind with these accounts (`user`, `password`) on `localhost`, with its MUC,
    /// PubSub and HTTP upload services.
    ///
    /// ```no_run
    /// use moxl_test_support::ServerKind;
    /// for kind in ServerKind::ALL {
    ///     let server = kind.start(&[("juliet", "secret")])?;
    ///     assert_eq!(server.jid("juliet"), "juliet@localhost");
    /// }
    /// # Ok::<(), moxl_test_support::TestSupportError>(())
    /// ```
    pub fn start(self, accounts: &[(&str, &str)]) -> Result<Server, TestSupportError> {
        self.start_with(accounts, &ServerOptions::default())
    }

    /// [`start`](Self::start) with [`ServerOptions`] (the same on either kind), e.g. the message archive.
    ///
    /// ```no_run
    /// use moxl_test_support::{ServerKind, ServerOptions};
    /// for kind in ServerKind::ALL {
    ///     let server = kind.start_with(&[("juliet", "secret")], &ServerOptions::default().mam(true))?;
    ///     assert!(server.mam());
    /// }
    /// # Ok::<(), moxl_test_support::TestSupportError>(())
    /// ```
    pub fn start_with(self, accounts: &[(&str, &str)], options: &ServerOptions) -> Result<Server, TestSupportError> {
        match self {
            ServerKind::Prosody => {
                let mut builder = Prosody::builder().http_upload(true).mam(options.mam).proxy65(options.proxy65);
                for (user, password) in accounts {
                    builder = builder.account(*user, *password);
                }
                builder.start().map(Server::Prosody)
            }
            ServerKind::Ejabberd => {
                let mut builder = Ejabberd::builder().mam(options.mam).proxy65(options.proxy65);
                for (user, password) in accounts {
                    builder = builder.account(*user, *password);
                }
                builder.start().map(Server::Ejabberd)
            }
        }
    }
}

/// What [`ServerKind::start_with`] turns on beyond the defaults, the same way on either server.
///
/// ```
/// use moxl_test_support::ServerOptions;
/// let options = ServerOptions::default().mam(true);
/// assert!(options.has_mam());
/// assert!(!ServerOptions::default().has_mam());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerOptions {
    mam: bool,
    proxy65: bool,
}

impl ServerOptions {
    /// The message archive (XEP-0313) for accounts and MUC rooms: Prosody's `mod_mam` and `mod_muc_mam`
    /// ([`ProsodyBuilder::mam`](crate::ProsodyBuilder::mam)), ejabberd's `mod_mam` with archiving rooms
    /// ([`EjabberdBuilder::mam`](crate::EjabberdBuilder::mam)). Off by default (it slows message throughput).
    ///
    /// ```
    /// assert!(moxl_test_support::ServerOptions::default().mam(true).has_mam());
    /// ```
    pub fn mam(mut self, enabled: bool) -> Self {
        self.mam = enabled;
        self
    }

    /// Whether [`mam`](Self::mam) is on.
    ///
    /// ```
    /// assert!(!moxl_test_support::ServerOptions::default().has_mam());
    /// ```
    pub fn has_mam(&self) -> bool {
        self.mam
    }

    /// A SOCKS5 bytestreams proxy (XEP-0065) at `proxy.localhost`: Prosody's `mod_proxy65`
    /// ([`ProsodyBuilder::proxy65`](crate::ProsodyBuilder::proxy65)), ejabberd's `mod_proxy65`
    /// ([`EjabberdBuilder::proxy65`](crate::EjabberdBuilder::proxy65)). Off by default.
    ///
    /// ```
    /// assert!(moxl_test_support::ServerOptions::default().proxy65(true).has_proxy65());
    /// ```
    pub fn proxy65(mut self, enabled: bool) -> Self {
        self.proxy65 = enabled;
        self
    }

    /// Whether [`proxy65`](Self::proxy65) is on.
    ///
    /// ```
    /// assert!(!moxl_test_support::ServerOptions::default().has_proxy65());
    /// ```
    pub fn has_proxy65(&self) -> bool {
        self.proxy65
    }
}

impl fmt::Display for ServerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A running test server of either kind, with what tests need of it.
///
/// ```no_run
/// use moxl_test_support::{Server, ServerKind};
/// let servers: Vec<Server> = ServerKind::ALL.into_iter().map(|k| k.start(&[("juliet", "secret")])).collect::<Result<_, _>>()?;
/// for server in &servers {
///     println!("{}: c2s on 127.0.0.1:{}", server.kind(), server.c2s_port());
/// }
/// # Ok::<(), moxl_test_support::TestSupportError>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Server {
    /// A [`Prosody`].
    Prosody(Prosody),
    /// An [`Ejabberd`].
    Ejabberd(Ejabberd),
}

/// Forwards a method to the server of either kind.
macro_rules! either {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Server::Prosody($s) => $e,
            Server::Ejabberd($s) => $e,
        }
    };
}

impl Server {
    /// Which implementation this is.
    pub fn kind(&self) -> ServerKind {
        match self {
            Server::Prosody(_) => ServerKind::Prosody,
            Server::Ejabberd(_) => ServerKind::Ejabberd,
        }
    }

    /// The virtual host with the accounts: `"localhost"`.
    pub fn domain(&self) -> &str {
        either!(self, s => s.domain())
    }

    /// The virtual host with anonymous login: `"anon.localhost"`.
    pub fn anon_domain(&self) -> &str {
        either!(self, s => s.anon_domain())
    }

    /// The MUC service, if the server has one.
    pub fn muc_domain(&self) -> Option<&str> {
        match self {
            Server::Prosody(s) => s.muc_domain(),
            Server::Ejabberd(s) => Some(s.muc_domain()),
        }
    }

    /// The PubSub service, if the server has one.
    pub fn pubsub_domain(&self) -> Option<&str> {
        match self {
            Server::Prosody(s) => s.pubsub_domain(),
            Server::Ejabberd(s) => Some(s.pubsub_domain()),
        }
    }

    /// The HTTP upload service, if the server has one.
    pub fn upload_domain(&self) -> Option<&str> {
        match self {
            Server::Prosody(s) => s.upload_domain(),
            Server::Ejabberd(s) => Some(s.upload_domain()),
        }
    }

    /// The SOCKS5 bytestreams proxy, if started with [`ServerOptions::proxy65`].
    pub fn proxy65_domain(&self) -> Option<&str> {
        either!(self, s => s.proxy65_domain())
    }

    /// The TCP port of the SOCKS5 proxy on 127.0.0.1, if started with [`ServerOptions::proxy65`].
    pub fn proxy65_port(&self) -> Option<u16> {
        either!(self, s => s.proxy65_port())
    }

    /// The bare JID of an account.
    pub fn jid(&self, user: &str) -> String {
        either!(self, s => s.jid(user))
    }

    /// The STARTTLS port on 127.0.0.1.
    pub fn c2s_port(&self) -> u16 {
        either!(self, s => s.c2s_port())
    }

    /// The XEP-0368 direct TLS port on 127.0.0.1.
    pub fn direct_tls_port(&self) -> u16 {
        either!(self, s => s.direct_tls_port())
    }

    /// The WebSocket endpoint without TLS (`ws://`), on which both servers allow SASL.
    pub fn websocket_url(&self) -> String {
        either!(self, s => s.websocket_url())
    }

    /// The WebSocket endpoint with TLS (`wss://`).
    pub fn websocket_tls_url(&self) -> String {
        either!(self, s => s.websocket_tls_url())
    }

    /// The PEM of the throw-away CA to trust.
    pub fn ca_pem(&self) -> &str {
        either!(self, s => s.ca_pem())
    }

    /// Creates the account `user@localhost` (or resets its password).
    pub fn register(&self, user: &str, password: &str) -> Result<(), TestSupportError> {
        either!(self, s => s.register(user, password))
    }

    /// Stops the server and starts it again on the same ports with the same data; its sessions, including
    /// those waiting for XEP-0198 resumption, are gone ([`Prosody::restart`], [`Ejabberd::restart`]).
    ///
    /// ```no_run
    /// use moxl_test_support::ServerKind;
    /// let mut server = ServerKind::Ejabberd.start(&[("juliet", "secret")])?;
    /// server.restart()?;
    /// # Ok::<(), moxl_test_support::TestSupportError>(())
    /// ```
    pub fn restart(&mut self) -> Result<(), TestSupportError> {
        either!(self, s => s.restart())
    }

    /// Whether the message archive is on (see [`ServerOptions::mam`]).
    pub fn mam(&self) -> bool {
        match self {
            Server::Prosody(s) => s.enabled_modules().contains(&"mam"),
            Server::Ejabberd(s) => s.mam(),
        }
    }

    /// The last lines of the server's log, for assertion messages.
    pub fn log_tail(&self, lines: usize) -> String {
        either!(self, s => s.log_tail(lines))
    }
}
