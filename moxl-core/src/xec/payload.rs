//! Payloads: handlers for unsolicited elements (Moxl's `Payload`).

use std::future::Future;

use super::Context;
use crate::xml::Element;
use crate::Result;

/// A handler for an unsolicited element, found by (name, namespace, pubsub node).
///
/// Put `#[payload(name = "...", ns = "...")]` (and optionally `node = "..."`, `key = "..."`) on a struct that
/// implements this trait and `Default`: a fresh value handles each match. The struct registers itself; nothing
/// else needs to know about it, even when it lives in another crate. Its Packets are delivered under its type
/// name in lowercase (`SaslFailure` → `saslfailure`) unless `key` says otherwise.
///
/// `element` is the element that matched (the stanza, a child or a grandchild); `stanza` is the top-level stanza.
///
/// ```
/// use moxl::prelude::*;
///
/// #[payload(name = "failure", ns = "urn:ietf:params:xml:ns:xmpp-sasl")]
/// #[derive(Default)]
/// pub struct SaslFailure;
///
/// impl Payload for SaslFailure {
///     async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
///         let condition = element.first_child().map(|c| c.name().to_owned());
///         ctx.pack(condition).deliver(); // key: saslfailure
///         Ok(())
///     }
/// }
/// ```
pub trait Payload: Default + Send + 'static {
    /// Handles one match.
    fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element)
        -> impl Future<Output = Result<()>> + Send;

    /// Whether the handler has anything to do in this session now (default: always). A handler whose only work
    /// is to deliver a Packet says when someone listens ([`Context::wants`]): otherwise the dispatcher does not
    /// start it (it still counts as a match), and no stanza is read into an event nobody receives.
    ///
    /// ```
    /// use moxl::prelude::*;
    ///
    /// #[derive(Debug)]
    /// pub struct Attention(Option<String>);
    ///
    /// #[payload(name = "attention", ns = "urn:xmpp:attention:0", key = "doc_attention", at = "child")]
    /// #[derive(Default)]
    /// pub struct AttentionRequests;
    ///
    /// impl Payload for AttentionRequests {
    ///     fn wanted(ctx: &Context) -> bool {
    ///         ctx.wants::<Attention>()
    ///     }
    ///
    ///     async fn handle(&mut self, ctx: &Context, _element: &Element, _stanza: &Element) -> Result<()> {
    ///         ctx.pack(Attention(ctx.from().map(|f| f.into_owned()))).deliver();
    ///         Ok(())
    ///     }
    /// }
    /// ```
    fn wanted(ctx: &Context) -> bool {
        let _ = ctx;
        true
    }
}
