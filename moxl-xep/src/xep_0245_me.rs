//! XEP-0245: The /me Command. A message body that starts with `/me ` (with the space) is an action, shown as
//! the sender's name followed by the rest of the body ("* Romeo ponders"), §2–§3. It is a convention on the
//! body, with no namespace, no element and no disco feature; these helpers read and write it.

/// The command prefix, space included (§2).
///
/// ```
/// assert_eq!(moxl_xep::xep_0245_me::PREFIX, "/me ");
/// ```
pub const PREFIX: &str = "/me ";

/// The action text of a `/me` body: what follows `/me ` at its very start; `None` for an ordinary body
/// (`/meet`, ` /me x`, `/me` alone; §3: the command must begin the body).
///
/// ```
/// use moxl_xep::xep_0245_me::action;
/// // XEP-0245 §2, Example 1
/// assert_eq!(action("/me shrugs in disgust"), Some("shrugs in disgust"));
/// assert_eq!(action("/meet me at noon"), None);
/// assert_eq!(action("I said /me twice"), None);
/// ```
pub fn action(body: &str) -> Option<&str> {
    body.strip_prefix(PREFIX)
}

/// Whether the body is a `/me` action.
///
/// ```
/// assert!(moxl_xep::xep_0245_me::is_action("/me waves"));
/// assert!(!moxl_xep::xep_0245_me::is_action("waves"));
/// ```
pub fn is_action(body: &str) -> bool {
    action(body).is_some()
}

/// The body that sends `action` as a `/me` action.
///
/// ```
/// use moxl_core::stanza::message;
/// let body = moxl_xep::xep_0245_me::body("shrugs in disgust");
/// assert_eq!(body, "/me shrugs in disgust");
/// let m = message("juliet@capulet.com", "chat", Some(&body)).build()?;
/// assert!(m.to_xml().contains("<body>/me shrugs in disgust</body>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn body(action: &str) -> String {
    format!("{PREFIX}{action}")
}

/// How to show a body from `name`: `* name action` for an action (§3), else the body as it is.
///
/// ```
/// use moxl_xep::xep_0245_me::display;
/// assert_eq!(display("Romeo", "/me ponders"), "* Romeo ponders");
/// assert_eq!(display("Romeo", "hello"), "hello");
/// ```
pub fn display(name: &str, body: &str) -> String {
    match action(body) {
        Some(action) => format!("* {name} {action}"),
        None => body.to_owned(),
    }
}
