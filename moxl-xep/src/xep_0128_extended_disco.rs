//! XEP-0128: Service Discovery Extensions. Data forms of type `result` inside a disco#info `<query/>` (§2),
//! each named by its hidden `FORM_TYPE` field, carry extra information about an entity (its software, its
//! contact addresses…). [`extended_forms`] reads them (the [`DiscoInfo`](crate::xep_0030_disco::DiscoInfo)
//! view does); [`ExtendedInfo`] publishes ours: they are part of our disco#info answer and of our
//! entity-capabilities hash (XEP-0115 §5).

use crate::xep_0004_data_forms::{self as forms, DataForm, FormType};
use moxl_core::xml::Element;

/// The extended information forms of a disco#info `<query/>` (§2): its `<x xmlns='jabber:x:data'/>`
/// children that parse, in document order.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0128_extended_disco::extended_forms;
/// // XEP-0128 §3, Example 1 (shortened)
/// let query = Element::parse("<query xmlns='http://jabber.org/protocol/disco#info'>\
///     <identity category='server' type='im'/><feature var='http://jabber.org/protocol/disco'/>\
///     <x xmlns='jabber:x:data' type='result'>\
///     <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/network/serverinfo</value></field>\
///     <field var='c2s_port'><value>5222</value></field></x></query>")?;
/// let forms = extended_forms(&query);
/// assert_eq!(forms[0].form_type_value(), Some("http://jabber.org/network/serverinfo"));
/// assert_eq!(forms[0].value("c2s_port"), Some("5222"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn extended_forms(query: &Element) -> Vec<DataForm> {
    query.children().filter(|x| x.is("x", forms::NS)).filter_map(|x| DataForm::from_element(&x)).collect()
}

/// A `result` form with the hidden `FORM_TYPE` field set to `form_type` (§2: extensions MUST be of type
/// `result` and SHOULD have a registered `FORM_TYPE`); add fields with `with_value`/`with_values`.
///
/// ```
/// use moxl_xep::xep_0128_extended_disco::result_form;
/// let f = result_form("urn:xmpp:dataforms:softwareinfo").with_value("software", "moxl");
/// assert_eq!(
///     f.to_element().build()?.to_xml(),
///     "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>\
///      <field var='software'><value>moxl</value></field></x>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn result_form(form_type: &str) -> DataForm {
    let mut form = DataForm::submit(Some(form_type));
    form.form_type = FormType::Result;
    form
}

/// The extended forms the client publishes in its disco#info (and so in its caps hash): give them with
/// `Xec::builder().extension(ExtendedInfo::new([…]))`. Forms need distinct `FORM_TYPE`s (XEP-0115 §5.4 treats
/// two with the same one as ill-formed).
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_xep::xep_0030_disco::our_info;
/// use moxl_xep::xep_0128_extended_disco::{result_form, ExtendedInfo};
/// let contact = result_form("http://jabber.org/network/serverinfo").with_value("abuse-addresses", "mailto:abuse@shakespeare.lit");
/// let xec = Xec::builder().extension(ExtendedInfo::new([contact])).build()?;
/// let info = our_info(&xec.context())?;
/// assert!(info.extension("http://jabber.org/network/serverinfo").is_some());
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtendedInfo {
    /// The forms, in the order they are sent.
    pub forms: Vec<DataForm>,
}

impl ExtendedInfo {
    /// These forms.
    ///
    /// ```
    /// use moxl_xep::xep_0128_extended_disco::{result_form, ExtendedInfo};
    /// assert_eq!(ExtendedInfo::new([result_form("urn:x")]).forms.len(), 1);
    /// ```
    pub fn new(forms: impl IntoIterator<Item = DataForm>) -> ExtendedInfo {
        ExtendedInfo { forms: forms.into_iter().collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xep_0030_disco::{DiscoInfo, our_info};
    use moxl_core::xec::Xec;

    #[test]
    fn the_spec_example_parses_and_our_forms_are_answered() {
        // §3, Example 1
        let xml = "<iq xmlns='jabber:client' type='result' from='shakespeare.lit' to='juliet@capulet.com/chamber' id='disco1'>\
            <query xmlns='http://jabber.org/protocol/disco#info'>\
            <identity category='server' type='im' name='shakespeare.lit jabber server'/>\
            <feature var='http://jabber.org/protocol/disco'/>\
            <x xmlns='jabber:x:data' type='result'>\
            <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/network/serverinfo</value></field>\
            <field var='c2s_port'><value>5222</value></field>\
            <field var='c2s_port_ssl'><value>5223</value></field>\
            <field var='http_access'><value>http://shakespeare.lit/jabber</value></field>\
            <field var='ip_version'><value>ipv4</value><value>ipv6</value></field>\
            <field var='info_url'><value>http://shakespeare.lit/support.php</value></field>\
            </x></query></iq>";
        let info = DiscoInfo::from_stanza(&Element::parse(xml).unwrap()).unwrap();
        let form = info.extension("http://jabber.org/network/serverinfo").unwrap();
        assert_eq!(form.values("ip_version"), ["ipv4", "ipv6"]);
        assert_eq!(DiscoInfo::from_query(&info.to_query().build().unwrap()).unwrap(), info);

        let xec = Xec::builder().extension(ExtendedInfo::new([form.clone()])).build().unwrap();
        let ours = our_info(&xec.context()).unwrap();
        assert_eq!(ours.extensions, std::slice::from_ref(form));
    }
}
