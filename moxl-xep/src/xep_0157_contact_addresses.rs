//! XEP-0157: Contact Addresses for XMPP Services. A server publishes whom to contact about abuse, its
//! administration, feedback, sales, security and support as URIs (`mailto:`, `xmpp:`, `https:`…) in a XEP-0128
//! extended disco#info form with `FORM_TYPE` `http://jabber.org/network/serverinfo` (§3; fields registered in
//! §7.1).
//!
//! [`ContactAddresses`] reads that form from a [`DiscoInfo`] (or builds it, for a component that publishes one
//! with [`ExtendedInfo`](crate::xep_0128_extended_disco::ExtendedInfo)); the [`GetContactAddresses`] Action asks
//! a server. The tests use the XEP's Example 2 as fixture; `tests/xep_discovery.rs` reads the addresses of both real
//! servers (Prosody's `mod_server_contact_info` with `contact_info`, ejabberd's `mod_disco` with `server_info`).
//! This module declares no disco feature: a client publishes no contact addresses (§3 is about services).
//!
//! ```
//! use moxl_xep::xep_0157_contact_addresses::GetContactAddresses;
//! # async fn run(ctx: &moxl_core::xec::Context) -> moxl_core::Result<()> {
//! let contacts = ctx.request(GetContactAddresses::new("shakespeare.lit"))?.await?;
//! for uri in &contacts.abuse {
//!     println!("report abuse to {uri}");
//! }
//! # Ok(()) }
//! ```

use moxl_core::xec::Context;
use moxl_core::xml::{Element, ElementBuilder};
use moxl_core::{Result, action};
use serde::{Deserialize, Serialize};

use crate::xep_0004_data_forms::{DataForm, Field, FieldType};
use crate::xep_0030_disco::{DiscoInfo, info_query};
use crate::xep_0128_extended_disco::result_form;

/// `http://jabber.org/network/serverinfo`, the form's `FORM_TYPE` (§3).
///
/// ```
/// assert_eq!(moxl_xep::xep_0157_contact_addresses::FORM_TYPE, "http://jabber.org/network/serverinfo");
/// ```
pub const FORM_TYPE: &str = "http://jabber.org/network/serverinfo";

/// The contact addresses of a service (§7.1: each field a `list-multi` of URIs), in the server's order.
///
/// ```
/// use moxl_xep::xep_0157_contact_addresses::ContactAddresses;
/// let mut c = ContactAddresses::default();
/// c.abuse.push("mailto:abuse@shakespeare.lit".into());
/// assert_eq!(ContactAddresses::from_form(&c.to_form()), Some(c));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContactAddresses {
    /// `abuse-addresses`: about abusive traffic.
    pub abuse: Vec<String>,
    /// `admin-addresses`: the service administrators.
    pub admin: Vec<String>,
    /// `feedback-addresses`: customer feedback.
    pub feedback: Vec<String>,
    /// `sales-addresses`: sales and marketing.
    pub sales: Vec<String>,
    /// `security-addresses`: security concerns.
    pub security: Vec<String>,
    /// `support-addresses`: customer support.
    pub support: Vec<String>,
}

impl ContactAddresses {
    /// Reads a serverinfo form; `None` for a form of another `FORM_TYPE`. Empty values are skipped; fields not
    /// registered here are ignored.
    pub fn from_form(form: &DataForm) -> Option<ContactAddresses> {
        if form.form_type_value() != Some(FORM_TYPE) {
            return None;
        }
        let list = |var: &str| -> Vec<String> {
            form.values(var).iter().map(|v| v.trim()).filter(|v| !v.is_empty()).map(str::to_owned).collect()
        };
        Some(ContactAddresses {
            abuse: list("abuse-addresses"),
            admin: list("admin-addresses"),
            feedback: list("feedback-addresses"),
            sales: list("sales-addresses"),
            security: list("security-addresses"),
            support: list("support-addresses"),
        })
    }

    /// Each registered field (§7.1) with its addresses.
    fn fields(&self) -> [(&'static str, &Vec<String>); 6] {
        [
            ("abuse-addresses", &self.abuse),
            ("admin-addresses", &self.admin),
            ("feedback-addresses", &self.feedback),
            ("sales-addresses", &self.sales),
            ("security-addresses", &self.security),
            ("support-addresses", &self.support),
        ]
    }

    /// The addresses a disco#info answer publishes (§3); `None` without a serverinfo form.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0030_disco::DiscoInfo;
    /// use moxl_xep::xep_0157_contact_addresses::ContactAddresses;
    /// let q = Element::parse("<query xmlns='http://jabber.org/protocol/disco#info'><identity category='server' type='im'/></query>")?;
    /// assert_eq!(ContactAddresses::of(&DiscoInfo::from_query(&q).unwrap()), None);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn of(info: &DiscoInfo) -> Option<ContactAddresses> {
        info.extension(FORM_TYPE).and_then(ContactAddresses::from_form)
    }

    /// The form publishing these addresses (`list-multi` fields, empty ones left out).
    pub fn to_form(&self) -> DataForm {
        let mut form = result_form(FORM_TYPE);
        for (var, values) in self.fields().into_iter().filter(|(_, v)| !v.is_empty()) {
            form.fields.push(Field::new(var).with_type(FieldType::ListMulti).with_values(values.iter().cloned()));
        }
        form
    }

    /// Whether no address is given.
    ///
    /// ```
    /// assert!(moxl_xep::xep_0157_contact_addresses::ContactAddresses::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.fields().iter().all(|(_, v)| v.is_empty())
    }
}

/// Asks a server (its bare domain, §3) for its contact addresses with a disco#info query. Its `Output` is the
/// [`ContactAddresses`], empty when the server publishes none; an error reply is the request's error.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `contact_getcontactaddresses_handle` | the [`ContactAddresses`] |
/// | error | `contact_getcontactaddresses_error<condition>` | the `StanzaError` |
///
/// ```
/// use moxl_xep::xep_0157_contact_addresses::GetContactAddresses;
/// let iq = GetContactAddresses::new("shakespeare.lit").request_stanza().build()?;
/// assert!(iq.to_xml().contains("<query xmlns='http://jabber.org/protocol/disco#info'/>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetContactAddresses {
    server: String,
}

impl GetContactAddresses {
    /// The query of `server`.
    pub fn new(server: impl Into<String>) -> GetContactAddresses {
        GetContactAddresses { server: server.into() }
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        info_query(Some(&self.server), None)
    }
}

#[action(group = "contact")]
impl GetContactAddresses {
    /// The server's contact addresses.
    type Output = ContactAddresses;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<ContactAddresses> {
        Ok(DiscoInfo::from_stanza(stanza).and_then(|i| ContactAddresses::of(&i)).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{answer_last, block_on};
    use moxl_core::xec::Xec;

    // §3, Example 2
    const EXAMPLE_2: &str = "<iq xmlns='jabber:client' from='shakespeare.lit' to='juliet@capulet.com/chamber' id='ID' type='result'>\
        <query xmlns='http://jabber.org/protocol/disco#info'><identity category='server' type='im'/>\
        <feature var='http://jabber.org/protocol/disco'/><x xmlns='jabber:x:data' type='result'>\
        <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/network/serverinfo</value></field>\
        <field var='abuse-addresses'><value>mailto:abuse@shakespeare.lit</value><value>xmpp:abuse@shakespeare.lit</value></field>\
        <field var='admin-addresses'><value>mailto:xmpp@shakespeare.lit</value><value>xmpp:admins@shakespeare.lit</value></field>\
        <field var='feedback-addresses'><value>http://shakespeare.lit/feedback.php</value><value>mailto:feedback@shakespeare.lit</value>\
        <value>xmpp:feedback@shakespeare.lit</value></field>\
        <field var='sales-addresses'><value>xmpp:bard@shakespeare.lit</value></field>\
        <field var='security-addresses'><value>xmpp:security@shakespeare.lit</value></field>\
        <field var='support-addresses'><value>http://shakespeare.lit/support.php</value><value>xmpp:support@shakespeare.lit</value></field>\
        </x></query></iq>";

    #[test]
    fn the_xeps_answer_is_read_through_the_action_and_rebuilt() {
        let xec = Xec::new().unwrap();
        let ctx = xec.context();
        let pending = ctx.request(GetContactAddresses::new("shakespeare.lit")).unwrap();
        block_on(xec.dispatch(answer_last(&xec, EXAMPLE_2)));
        let c = block_on(pending).unwrap();
        assert_eq!(c.abuse, ["mailto:abuse@shakespeare.lit", "xmpp:abuse@shakespeare.lit"]);
        assert_eq!(c.admin, ["mailto:xmpp@shakespeare.lit", "xmpp:admins@shakespeare.lit"]);
        assert_eq!(c.feedback.len(), 3);
        assert_eq!(
            (c.sales.as_slice(), c.security.as_slice()),
            (&["xmpp:bard@shakespeare.lit".to_owned()][..], &["xmpp:security@shakespeare.lit".to_owned()][..])
        );
        assert_eq!(c.support, ["http://shakespeare.lit/support.php", "xmpp:support@shakespeare.lit"]);
        // what we publish reads back the same, and its fields are list-multi (§7.1)
        let form = c.to_form();
        assert_eq!(form.field("abuse-addresses").map(|f| f.kind()), Some(FieldType::ListMulti));
        assert_eq!(ContactAddresses::from_form(&form).as_ref(), Some(&c));
        // a server without the form: empty addresses, not an error
        let pending = ctx.request(GetContactAddresses::new("capulet.com")).unwrap();
        block_on(xec.dispatch(answer_last(
            &xec,
            "<iq xmlns='jabber:client' from='capulet.com' id='ID' type='result'><query xmlns='http://jabber.org/protocol/disco#info'>\
             <identity category='server' type='im'/></query></iq>",
        )));
        assert!(block_on(pending).unwrap().is_empty());
    }
}
