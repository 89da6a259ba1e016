//! The attribute macros of [moxl](https://example.invalid/moxl): `#[payload]` and `#[action]`.
//!
//! Use them through the `moxl` crate (`use moxl::prelude::*;`), which re-exports them together with the runtime
//! they generate code for. The generated code names only `moxl::__private` (or `moxl_core::__private` in crates
//! that depend on `moxl-core` directly), so neither `inventory` nor any other runtime dependency has to be a
//! dependency of the crate that uses the macros. Both macros take an optional `crate = "path"` argument to
//! name the runtime explicitly (for crates that rename or re-export it).
//!
//! The crate is laid out like `serde_derive`: `parse` reads the attribute arguments and the item into
//! plain structs, `validate` checks them (every problem becomes a `syn::Error` spanned at the offending tokens,
//! all of them reported at once), and `expand` turns the checked model into tokens.

mod case;
mod conditions;
mod errors;
mod expand;
mod parse;
mod root;
mod validate;

use proc_macro::TokenStream;

/// Registers a struct as the handler of an unsolicited element, found by name, namespace and (optionally)
/// pubsub node.
///
/// The struct must implement `moxl::Payload` and `Default`; a fresh value handles each match. The struct is
/// left unchanged; the macro adds a compile-time check of these bounds and submits a registration that the
/// runtime collects at start-up (whatever crate the struct lives in).
///
/// Arguments (string literals):
///
/// | argument | required | meaning |
/// |---|---|---|
/// | `name` | yes | the element's local name |
/// | `ns` | yes | the element's namespace |
/// | `node` | no | the pubsub node the element must belong to |
/// | `key` | no | the Packet key (default: the type name in lowercase); `[a-z0-9_]+` |
/// | `crate` | no | the path of the runtime (default: `moxl`, or `moxl_core` when only that is a dependency) |
///
/// ```ignore
/// use moxl::prelude::*;
///
/// #[payload(name = "failure", ns = "urn:ietf:params:xml:ns:xmpp-sasl")]
/// #[derive(Default)]
/// pub struct SaslFailure;
///
/// impl Payload for SaslFailure {
///     async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
///         ctx.pack(element.first_child().map(|c| c.name().to_owned())).deliver(); // key: saslfailure
///         Ok(())
///     }
/// }
/// ```
#[proc_macro_attribute]
pub fn payload(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::payload(attr.into(), item.into()).into()
}

/// Turns an inherent `impl` block into a request that is sent, remembered, and routed to its methods when the
/// reply (or an error, or a timeout) comes.
///
/// The block must define `fn request(&self) -> ElementBuilder` and
/// `async fn handle(&mut self, ctx: &Context, stanza: &Element)`. It may define, all `async` and taking
/// `&mut self`:
///
/// - `error_<condition>(&mut self, ctx: &Context, error: &StanzaError, stanza: &Element)` for any stanza error
///   condition of RFC 6120 §8.3.3, with `-` written `_` (`item-not-found` → `error_item_not_found`);
/// - `error(&mut self, ctx: &Context, error: &StanzaError, stanza: &Element)` for any other error;
/// - `timeout(&mut self, ctx: &Context)` for a request that got no reply in time.
///
/// It may also define `fn answers(&self, stanza: &Element) -> bool` (not `async`): a `presence` from exactly the
/// JID the request went to that lacks the request's id is taken as the reply when it returns `true` (for
/// protocols that do not reflect the id, e.g. a MUC nick change, XEP-0045 §7.6).
///
/// Handlers return `()` or `moxl::Result<()>`. Other methods are left alone. The macro keeps the block as
/// written and adds the `moxl::Action` implementation and the registration of the type (so that stored
/// requests can be revived). The type must implement `Serialize` and `Deserialize`.
///
/// Arguments: `group = "..."` (`[a-z0-9_]+`; the first part of the Packet keys, by default the last module of
/// the path without any `xep_NNNN_` prefix) and `crate = "path"` (see [`macro@payload`]).
///
/// ```ignore
/// use moxl::prelude::*;
///
/// #[derive(Serialize, Deserialize)]
/// pub struct Get { pub to: String }
///
/// #[action(group = "vcard")]
/// impl Get {
///     fn request(&self) -> ElementBuilder {
///         iq_get(Some(&self.to)).append(ElementBuilder::new("vCard", "vcard-temp"))
///     }
///     async fn handle(&mut self, ctx: &Context, stanza: &Element) -> Result<()> {
///         ctx.pack(stanza.clone()).deliver(); // key: vcard_get_handle
///         Ok(())
///     }
///     async fn error_item_not_found(&mut self, ctx: &Context, _error: &StanzaError, _stanza: &Element) {
///         ctx.deliver(); // key: vcard_get_erroritemnotfound
///     }
/// }
/// ```
#[proc_macro_attribute]
pub fn action(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::action(attr.into(), item.into()).into()
}
