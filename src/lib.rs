//! # moxl
//!
//! An XMPP client library and handler framework: stanzas become calls to handlers you register by annotation.
//!
//! - A **Payload** handles unsolicited elements, matched by (name, namespace, pubsub node) on the stanza, its
//!   children and grandchildren: `#[payload(name = "...", ns = "...")]` on a struct implementing [`Payload`](xec::Payload).
//! - An **Action** is a request you send; its reply comes back to the same value, fields restored:
//!   `#[action]` on the `impl` holding `request`, `handle` and optional `error_<condition>` methods.
//! - Handlers deliver **Packets** to the application under stable keys (`vcard_get_handle`, `saslfailure`).
//!
//! ```
//! use moxl::prelude::*;
//!
//! #[payload(name = "message", ns = "jabber:client")]
//! #[derive(Default)]
//! pub struct Message;
//!
//! impl Payload for Message {
//!     async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
//!         if let Some(body) = element.child_text("body", "jabber:client") {
//!             ctx.pack(body).deliver(); // key: "message"
//!         }
//!         Ok(())
//!     }
//! }
//! ```
//!
//! Handlers register themselves in every crate linked into the program. A crate that holds only handlers, and
//! that the application never calls, is not linked unless named once: `use my_handlers as _;` (see
//! [`Registry`](xec::Registry), whose `require_crate` checks it at startup).
//!
//! See `moxl_core` for the parts: [`xml`], [`stanza`], [`xec`], and [`session`] for what survives a restart (the
//! session store: SQLite by default, PostgreSQL with the `postgres` feature).

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
