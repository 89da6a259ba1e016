//! Session-start hooks: requests every fresh session makes before anything else, registered by the crates that
//! define them (moxl-xep's roster module registers `"roster"`, which makes the session an interested resource,
//! RFC 6121 §3.1.6, so that subscription approvals reach it).
//!
//! A hook runs on each fresh session (the first, and each that replaces a lost one), not after a resumption: the
//! server kept what the hooks asked for (XEP-0198 §5). Opt out of one with
//! [`ClientBuilder::without_start_hook`](super::ClientBuilder::without_start_hook).

use jid::FullJid;

use crate::stream::StreamFeatures;
use crate::xec::Context;
use crate::Result;

/// What a fresh session starts with, given to each [`StartHook`].
///
/// ```
/// use moxl_core::client::SessionStart;
/// use moxl_core::stream::StreamFeatures;
/// let features = StreamFeatures::default();
/// let jid = "juliet@example.com/balcony".parse()?;
/// let start = SessionStart::new(&jid, &features, Some("ver14"));
/// assert_eq!(start.roster_version, Some("ver14"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct SessionStart<'a> {
    /// The bound full JID.
    pub jid: &'a FullJid,
    /// The features of the stream (e.g. whether the server versions rosters, RFC 6121 §2.6.1).
    pub features: &'a StreamFeatures,
    /// The roster version kept in the [session store](super::ClientBuilder::session_store), if any: the
    /// application keeps the roster of that version (RFC 6121 §2.6).
    pub roster_version: Option<&'a str>,
}

impl<'a> SessionStart<'a> {
    /// A session start (for hooks' tests; the client makes them).
    pub fn new(jid: &'a FullJid, features: &'a StreamFeatures, roster_version: Option<&'a str>) -> Self {
        SessionStart { jid, features, roster_version }
    }
}

/// A hook run at the start of each fresh session (register one with [`start_hook!`](crate::start_hook)).
#[derive(Debug)]
pub struct StartHook {
    /// Its name, to opt out of it ([`ClientBuilder::without_start_hook`](super::ClientBuilder::without_start_hook)).
    pub name: &'static str,
    /// Sends its requests (with `ctx.request`, `ctx.send`); they go out before anything else queued.
    pub run: fn(&Context, &SessionStart<'_>) -> Result<()>,
}

inventory::collect!(StartHook);

/// Registers a [`StartHook`]: `start_hook!("name", function)`, where `function` is a
/// `fn(&Context, &SessionStart<'_>) -> Result<()>`.
///
/// ```
/// use moxl_core::client::SessionStart;
/// use moxl_core::xec::Context;
///
/// fn announce(ctx: &Context, _start: &SessionStart<'_>) -> moxl_core::Result<()> {
///     ctx.send(moxl_core::stanza::presence(None, None))
/// }
/// moxl_core::start_hook!("doc-announce", announce);
/// assert!(moxl_core::client::start_hooks().any(|h| h.name == "doc-announce"));
/// ```
#[macro_export]
macro_rules! start_hook {
    ($name:literal, $run:path) => {
        $crate::__private::inventory::submit! { $crate::client::StartHook { name: $name, run: $run } }
    };
}

/// Every registered hook, in name order.
///
/// ```
/// let names: Vec<&str> = moxl_core::client::start_hooks().map(|h| h.name).collect();
/// assert!(names.windows(2).all(|w| w[0] <= w[1]));
/// ```
pub fn start_hooks() -> impl Iterator<Item = &'static StartHook> {
    let mut hooks: Vec<&'static StartHook> = inventory::iter::<StartHook>.into_iter().collect();
    hooks.sort_by_key(|h| h.name);
    hooks.into_iter()
}

/// Runs the hooks not in `skip`; a failing one is logged, the others still run.
pub(super) fn run_hooks(ctx: &Context, start: &SessionStart<'_>, skip: &[String]) {
    for hook in start_hooks().filter(|h| !skip.iter().any(|s| s == h.name)) {
        if let Err(e) = (hook.run)(ctx, start) {
            tracing::warn!(hook = hook.name, error = %e, "a session-start hook failed");
        }
    }
}
