//! In-band registration (XEP-0077 §3.1, §3.3): the requests shared by the negotiation, which registers an account
//! at connect time ([`ClientBuilder::register`](crate::client::ClientBuilder::register)), and by `moxl-xep`'s
//! XEP-0077 module (registration with services, password changes, cancellation).

use crate::stanza::{iq_get, iq_set};
use crate::xml::{Element, ElementBuilder};

/// `jabber:iq:register` (XEP-0077 §3).
///
/// ```
/// assert_eq!(moxl_core::stream::register::NS, "jabber:iq:register");
/// ```
pub const NS: &str = "jabber:iq:register";

/// The request for the registration fields (§3.1): `<iq type='get'><query/></iq>` to `to` (`None`:
/// our server).
///
/// ```
/// let iq = moxl_core::stream::register::fields_request(Some("shakespeare.lit")).attr("id", "reg1").build()?;
/// assert_eq!(iq.to_xml(), "<iq xmlns='jabber:client' type='get' to='shakespeare.lit' id='reg1'><query xmlns='jabber:iq:register'/></iq>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn fields_request(to: Option<&str>) -> ElementBuilder {
    iq_get(to).append(ElementBuilder::new("query", NS))
}

/// A submission of the basic fields (§3.1; §3.3 for a password change): `<iq
/// type='set'>` with `<username/>` and `<password/>` to `to` (`None`: our server).
///
/// ```
/// let iq = moxl_core::stream::register::credentials(None, "bill", "Calliope").attr("id", "reg2").build()?;
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='set' id='reg2'><query xmlns='jabber:iq:register'>\
///      <username>bill</username><password>Calliope</password></query></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn credentials(to: Option<&str>, username: &str, password: &str) -> ElementBuilder {
    iq_set(to).append(
        ElementBuilder::new("query", NS)
            .append(ElementBuilder::new("username", NS).text(username.to_owned()))
            .append(ElementBuilder::new("password", NS).text(password.to_owned())),
    )
}

/// The names of the fields a registration-fields result asks for (the children of its `<query/>`: `username`,
/// `password`, `x` for a data form…; elements in other namespaces as `{namespace}name`), and whether it says
/// `<registered/>` (§3.1; §3.2).
///
/// ```
/// use moxl_core::xml::Element;
/// let reply = Element::parse("<iq xmlns='jabber:client' type='result' id='reg1'><query xmlns='jabber:iq:register'>\
///     <instructions>Choose a username and password.</instructions><username/><password/></query></iq>")?;
/// let (fields, registered) = moxl_core::stream::register::asked_fields(&reply);
/// assert_eq!((fields, registered), (vec!["instructions".to_owned(), "username".into(), "password".into()], false));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn asked_fields(reply: &Element) -> (Vec<String>, bool) {
    let query = reply.child("query", NS);
    let registered = query.as_ref().and_then(|q| q.child("registered", NS)).is_some();
    let fields = query
        .iter()
        .flat_map(|q| q.children())
        .map(|f| if f.ns() == NS { f.name().to_owned() } else { format!("{{{}}}{}", f.ns(), f.name()) })
        .collect();
    (fields, registered)
}
