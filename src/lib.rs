//! # moxl
//!
//! An XMPP client library and handler framework: stanzas become calls to handlers you register by annotation.
//!
//! - A **Payload** handles unsolicited elements, matched by (name, namespace, pubsub node) on the stanza, its
//!   children and grandchildren: `#[payload(name = "...", ns = "...")]` on a struct implementing [`Payload`](xec::Payload).
//! - An **Action** is a request you send; its reply comes back to the same value, fields restored:
//!   `#[action]` on the `impl` holding `request`, `handle` and optional `error_<condition>` methods.
//! - Handlers deliver **Packets** to the application under stable keys (`vcard_get_handle`, `saslfailure`).
//! - The typed layer on top: an Action's `Output` is awaited by whoever started it (`ctx.request(a)?.await`),
//!   and events are subscribed to by type (`xec.events::<T>()`), as a `Stream`; the Packet under its key is the
//!   second view of the same delivery.
//!
//! ```
//! use moxl::prelude::*;
//!
//! /// The typed event this handler delivers.
//! #[derive(Debug, Clone)]
//! pub struct ChatLine {
//!     pub from: String,
//!     pub body: String,
//! }
//!
//! /// An unsolicited element. `message` is a stanza-level name: this fires for top-level messages only, never for
//! /// a message nested in another stanza (a forwarded one, any wrapper: whoever vouches for those unwraps them).
//! #[payload(name = "message", ns = "jabber:client")]
//! #[derive(Default)]
//! struct Chat;
//!
//! impl Payload for Chat {
//!     async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
//!         if let Some(body) = element.child_text("body", "jabber:client") {
//!             let from = element.attr("from").unwrap_or_default().into_owned();
//!             ctx.pack(ChatLine { from, body }).deliver(); // events::<ChatLine>(), and the Packet "chat"
//!         }
//!         Ok(())
//!     }
//! }
//!
//! /// A request and its reply (XEP-0202 entity time, which moxl-xep does not ship). The fields are the Action's
//! /// state, kept until the reply comes (and saved with serde, so a later run can handle it).
//! #[derive(Serialize, Deserialize)]
//! struct Get {
//!     to: String,
//! }
//!
//! #[action(group = "time")]
//! impl Get {
//!     /// The entity's clock, in UTC (XEP-0202 §4).
//!     type Output = String;
//!
//!     fn request(&self) -> ElementBuilder {
//!         iq_get(Some(&self.to)).append(ElementBuilder::new("time", "urn:xmpp:time"))
//!     }
//!
//!     /// The awaited result, also delivered as the Packet "time_get_handle".
//!     async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<String> {
//!         let time = stanza.child("time", "urn:xmpp:time");
//!         time.and_then(|t| t.child_text("utc", "urn:xmpp:time")).ok_or_else(|| Error::handler("no <utc/>"))
//!     }
//!
//!     async fn error_service_unavailable(&mut self, ctx: &Context, _error: &StanzaError, _stanza: &Element) {
//!         ctx.deliver(); // "time_get_errorserviceunavailable"; the requester gets Err(Error::Stanza(..))
//!     }
//! }
//!
//! async fn run(jid: moxl::jid::BareJid, password: &str) -> Result<()> {
//!     use moxl::client::Client;
//!
//!     let builder = Client::builder(jid, password);
//!     let mut chats = builder.events::<ChatLine>(); // before connecting: nothing delivered while connecting is missed
//!     let client = builder.connect().await?;
//!     let utc = client.xec().context().request(Get { to: "capulet.lit".into() })?.await?;
//!     while let Some(line) = chats.recv().await {
//!         println!("{}: {} (their clock: {utc})", line.from, line.body);
//!     }
//!     Ok(())
//! }
//! ```
//!
//! Handlers register themselves in every crate linked into the program. A crate that holds only handlers, and
//! that the application never calls, is not linked unless named once: `use my_handlers as _;` (see
//! [`Registry`](xec::Registry), whose `require_crate` checks it at startup).
//!
//! A Payload value is made fresh for each stanza it matches: what lasts for the session goes in
//! [`Context::session_state`](xec::Context::session_state), what the application gives its handlers in
//! [`XecBuilder::extension`](xec::XecBuilder::extension) (read with [`Context::get`](xec::Context::get)).
//!
//! See `moxl_core` for the parts: [`xml`], [`stanza`], [`xec`], and [`session`] for what survives a restart (the
//! session store: SQLite by default, PostgreSQL with the `postgres` feature).
//!
//! ## A whole program
//!
//! moxl runs on tokio (`tokio = { version = "1", features = ["macros", "rt-multi-thread", "signal"] }` for this
//! one). A session receives chats once it has sent its initial presence (RFC 6121 §4.2).
//! [`Client::close`](client::Client::close) logs out; dropping the client does too, unless its session is kept
//! in a [session store](client::ClientBuilder::session_store) for the next run. Time things in release builds: a
//! debug build runs SCRAM's key derivation unoptimized, and logs in many times slower. The echo bot
//! (`examples/echo_bot.rs`; `examples/microblog_reader.rs` and `examples/daemon.rs` go further):
//!
#![doc = "```no_run"]
#![doc = include_str!("../examples/echo_bot.rs")]
#![doc = "```"]

pub use moxl_core::{auth, client, error, jid, session, stanza, stream, transport, xec, xml, Error, Result};
pub use moxl_macros::{action, payload};
pub use moxl_xep as xep;

#[doc(hidden)]
pub use moxl_core::__private;

/// Everything a handler module needs: `use moxl::prelude::*;`.
pub mod prelude {
    pub use moxl_core::stanza::{iq_get, iq_result, iq_set, message, presence, Condition, StanzaError};
    pub use moxl_core::xec::{Action, Context, Payload, Xec};
    pub use moxl_core::xml::{Element, ElementBuilder};
    pub use moxl_core::{Error, Result};
    pub use moxl_macros::{action, payload};
    /// serde's derives, for Action state (the deriving crate needs `serde` among its dependencies).
    pub use serde::{Deserialize, Serialize};
}
