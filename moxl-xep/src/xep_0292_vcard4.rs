//! XEP-0292: vCard4 Over XMPP. A typed view of the common vCard4 properties ([`VCard4`], RFC 6350 in the XML
//! format of RFC 6351), published on our PEP node `urn:xmpp:vcard4` as the item `current` (version 0.12 of the
//! XEP, §3; [`Publish`], [`Get`], notifications by [`Vcard4Events`] with `urn:xmpp:vcard4+notify`).
//!
//! Prosody 0.12's `mod_vcard4` implements the IQ interface of versions 0.10/0.11 (§4.1: an IQ-get to the bare
//! JID, an IQ-set to ourselves, holding `<vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'/>`) on top of that same
//! PEP node: [`IqGet`] and [`IqSet`] speak it, and read what [`Publish`] wrote.

use moxl_core::stanza::{StanzaError, iq_get, iq_set};
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder};
use moxl_core::{Result, action, payload};
use serde::{Deserialize, Serialize};

use crate::xep_0080_geoloc::{PepData, UserData, fetch_data, publish_data};

/// `urn:ietf:params:xml:ns:vcard-4.0` (RFC 6351): the namespace of `<vcard/>`.
///
/// ```
/// assert_eq!(moxl_xep::xep_0292_vcard4::NS, "urn:ietf:params:xml:ns:vcard-4.0");
/// ```
pub const NS: &str = "urn:ietf:params:xml:ns:vcard-4.0";

/// `urn:xmpp:vcard4` (§3): the PEP node.
///
/// ```
/// assert_eq!(moxl_xep::xep_0292_vcard4::NODE, "urn:xmpp:vcard4");
/// ```
pub const NODE: &str = "urn:xmpp:vcard4";

moxl_core::feature!("urn:xmpp:vcard4+notify");

/// The structured name `n` (RFC 6350 §6.2.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Name {
    /// `surname`.
    pub surname: Option<String>,
    /// `given`.
    pub given: Option<String>,
    /// `additional`.
    pub additional: Option<String>,
    /// `prefix`.
    pub prefix: Option<String>,
    /// `suffix`.
    pub suffix: Option<String>,
}

/// A value with `type` parameters (`home`, `work`, `cell`…; RFC 6350 §5.6): `email`, `tel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Typed {
    /// The `<parameters><type><text/>` values.
    pub types: Vec<String>,
    /// The value (`email`: text; `tel`: a `tel:` URI).
    pub value: String,
}

impl Typed {
    /// A value without types.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0292_vcard4::Typed::new("tel:+1-555").value, "tel:+1-555");
    /// ```
    pub fn new(value: impl Into<String>) -> Typed {
        Typed { types: Vec::new(), value: value.into() }
    }
}

/// A delivery address `adr` (RFC 6350 §6.3.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Address {
    /// The `type` parameters.
    pub types: Vec<String>,
    /// `pobox`.
    pub pobox: Option<String>,
    /// `ext`.
    pub ext: Option<String>,
    /// `street`.
    pub street: Option<String>,
    /// `locality`.
    pub locality: Option<String>,
    /// `region`.
    pub region: Option<String>,
    /// `code`.
    pub code: Option<String>,
    /// `country`.
    pub country: Option<String>,
}

/// The common properties of a vCard4 (RFC 6350 §6). Others are skipped.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0080_geoloc::PepData;
/// use moxl_xep::xep_0292_vcard4::VCard4;
/// // XEP-0292 §3.1, Example 1 (abridged)
/// let v = Element::parse("<vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'>\
///     <fn><text>Peter Saint-Andre</text></fn>\
///     <n><surname>Saint-Andre</surname><given>Peter</given><additional></additional></n>\
///     <nickname><text>stpeter</text></nickname><bday><date>1966-08-06</date></bday>\
///     <email><parameters><type><text>work</text></type></parameters><text>psaintan@cisco.com</text></email>\
///     <impp><uri>xmpp:stpeter@jabber.org</uri></impp></vcard>")?;
/// let v = VCard4::from_element(&v).unwrap();
/// assert_eq!(v.full_name.as_deref(), Some("Peter Saint-Andre"));
/// assert_eq!(v.emails[0].types, ["work"]);
/// assert_eq!(VCard4::from_element(&v.to_element().build()?), Some(v));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VCard4 {
    /// `kind` (`individual`, `group`, `org`, `location`, `application`).
    pub kind: Option<String>,
    /// `fn`: the formatted name.
    pub full_name: Option<String>,
    /// `n`.
    pub name: Option<Name>,
    /// `nickname`s.
    pub nicknames: Vec<String>,
    /// `photo`: a URI (often `data:`).
    pub photo: Option<String>,
    /// `bday` (`date`, as written).
    pub bday: Option<String>,
    /// `gender`: its `sex` (`M`, `F`, `O`, `N`, `U`).
    pub gender: Option<String>,
    /// `adr`s.
    pub addresses: Vec<Address>,
    /// `tel`s.
    pub tels: Vec<Typed>,
    /// `email`s.
    pub emails: Vec<Typed>,
    /// `impp`s: messaging URIs (`xmpp:…`).
    pub impps: Vec<String>,
    /// `lang`s (language tags).
    pub langs: Vec<String>,
    /// `tz` (text).
    pub tz: Option<String>,
    /// `geo` (a `geo:` URI).
    pub geo: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// `role`.
    pub role: Option<String>,
    /// `org` (text).
    pub org: Option<String>,
    /// `note`.
    pub note: Option<String>,
    /// `url`s.
    pub urls: Vec<String>,
}

/// The value child `value` of a property (`<fn><text>…</text></fn>`), trimmed and non-empty.
fn value_of(prop: &Element, value: &str) -> Option<String> {
    prop.child_text(value, NS).map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

fn types_of(prop: &Element) -> Vec<String> {
    prop.child("parameters", NS)
        .and_then(|p| p.child("type", NS))
        .map(|t| t.children().filter(|x| x.is("text", NS)).map(|x| x.text().trim().to_owned()).collect())
        .unwrap_or_default()
}

fn with_types(prop: ElementBuilder, types: &[String]) -> ElementBuilder {
    if types.is_empty() {
        return prop;
    }
    let t = types.iter().fold(ElementBuilder::new("type", NS), |t, v| t.text_child("text", v.clone()));
    prop.append(ElementBuilder::new("parameters", NS).append(t))
}

/// `<name><value>text</value></name>`.
fn prop(name: &'static str, value: &'static str, text: &str) -> ElementBuilder {
    ElementBuilder::new(name, NS).text_child(value, text.to_owned())
}

impl PepData for VCard4 {
    const NODE: &'static str = NODE;

    fn from_element(v: &Element) -> Option<VCard4> {
        if !v.is("vcard", NS) {
            return None;
        }
        let mut card = VCard4::default();
        for p in v.children().filter(|p| p.ns() == NS) {
            match p.name() {
                "kind" => card.kind = value_of(&p, "text"),
                "fn" => card.full_name = value_of(&p, "text"),
                "n" => {
                    card.name = Some(Name {
                        surname: value_of(&p, "surname"),
                        given: value_of(&p, "given"),
                        additional: value_of(&p, "additional"),
                        prefix: value_of(&p, "prefix"),
                        suffix: value_of(&p, "suffix"),
                    })
                }
                "nickname" => card.nicknames.extend(value_of(&p, "text")),
                "photo" => card.photo = value_of(&p, "uri"),
                "bday" => card.bday = value_of(&p, "date").or_else(|| value_of(&p, "text")),
                "gender" => card.gender = value_of(&p, "sex"),
                "adr" => card.addresses.push(Address {
                    types: types_of(&p),
                    pobox: value_of(&p, "pobox"),
                    ext: value_of(&p, "ext"),
                    street: value_of(&p, "street"),
                    locality: value_of(&p, "locality"),
                    region: value_of(&p, "region"),
                    code: value_of(&p, "code"),
                    country: value_of(&p, "country"),
                }),
                "tel" => card.tels.extend(
                    value_of(&p, "uri")
                        .or_else(|| value_of(&p, "text"))
                        .map(|value| Typed { types: types_of(&p), value }),
                ),
                "email" => card.emails.extend(value_of(&p, "text").map(|value| Typed { types: types_of(&p), value })),
                "impp" => card.impps.extend(value_of(&p, "uri")),
                "lang" => card.langs.extend(value_of(&p, "language-tag")),
                "tz" => card.tz = value_of(&p, "text"),
                "geo" => card.geo = value_of(&p, "uri"),
                "title" => card.title = value_of(&p, "text"),
                "role" => card.role = value_of(&p, "text"),
                "org" => card.org = value_of(&p, "text"),
                "note" => card.note = value_of(&p, "text"),
                "url" => card.urls.extend(value_of(&p, "uri")),
                _ => {}
            }
        }
        Some(card)
    }

    fn to_element(&self) -> ElementBuilder {
        let mut v = ElementBuilder::new("vcard", NS);
        let one = |v: ElementBuilder, name, value, text: &Option<String>| match text {
            Some(t) => v.append(prop(name, value, t)),
            None => v,
        };
        v = one(v, "kind", "text", &self.kind);
        v = one(v, "fn", "text", &self.full_name);
        if let Some(n) = &self.name {
            let mut e = ElementBuilder::new("n", NS);
            for (tag, val) in [
                ("surname", &n.surname),
                ("given", &n.given),
                ("additional", &n.additional),
                ("prefix", &n.prefix),
                ("suffix", &n.suffix),
            ] {
                if let Some(val) = val {
                    e = e.text_child(tag, val.clone());
                }
            }
            v = v.append(e);
        }
        for nick in &self.nicknames {
            v = v.append(prop("nickname", "text", nick));
        }
        v = one(v, "photo", "uri", &self.photo);
        v = one(v, "bday", "date", &self.bday);
        v = one(v, "gender", "sex", &self.gender);
        for a in &self.addresses {
            let mut e = with_types(ElementBuilder::new("adr", NS), &a.types);
            for (tag, val) in [
                ("pobox", &a.pobox),
                ("ext", &a.ext),
                ("street", &a.street),
                ("locality", &a.locality),
                ("region", &a.region),
                ("code", &a.code),
                ("country", &a.country),
            ] {
                if let Some(val) = val {
                    e = e.text_child(tag, val.clone());
                }
            }
            v = v.append(e);
        }
        for t in &self.tels {
            v = v.append(with_types(ElementBuilder::new("tel", NS), &t.types).text_child("uri", t.value.clone()));
        }
        for m in &self.emails {
            v = v.append(with_types(ElementBuilder::new("email", NS), &m.types).text_child("text", m.value.clone()));
        }
        for i in &self.impps {
            v = v.append(prop("impp", "uri", i));
        }
        for l in &self.langs {
            v = v.append(prop("lang", "language-tag", l));
        }
        v = one(v, "tz", "text", &self.tz);
        v = one(v, "geo", "uri", &self.geo);
        v = one(v, "title", "text", &self.title);
        v = one(v, "role", "text", &self.role);
        v = one(v, "org", "text", &self.org);
        v = one(v, "note", "text", &self.note);
        for u in &self.urls {
            v = v.append(prop("url", "uri", u));
        }
        v
    }
}

/// Publishes our vCard4 on the PEP node (§3.2: item `current`).
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `vcard4_publish_handle` | none |
/// | error | `vcard4_publish_error<condition>` | the [`StanzaError`] |
///
/// ```
/// use moxl_xep::xep_0292_vcard4::{Publish, VCard4};
/// # fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let mut vcard = VCard4::default();
/// vcard.full_name = Some("Juliet Capulet".into());
/// xec.context().request(Publish { vcard })?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Publish {
    /// The vCard.
    pub vcard: VCard4,
}

#[action(group = "vcard4")]
impl Publish {
    fn request(&self) -> ElementBuilder {
        publish_data(&self.vcard)
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) {
        ctx.deliver();
    }
}

/// Reads the vCard4 of `from` (`None`: ours) from its PEP node (§3.3).
///
/// Its `Output` is the [`UserData`] read (`ctx.request(..)?.await`); the Packets are the second view.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `vcard4_get_handle` | [`UserData`]`<`[`VCard4`]`>` |
/// | error (`item-not-found`: none) | `vcard4_get_error<condition>` | the [`StanzaError`] |
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// // the Output, also delivered as the Packet in the table
/// let read = xec.context().request(moxl_xep::xep_0292_vcard4::Get { from: Some("juliet@capulet.lit".into()) })?.await?;
/// println!("{:?} published {:?}", read.from, read.data.is_some());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Get {
    /// Whose (a bare JID); `None` for ours.
    pub from: Option<String>,
}

#[action(group = "vcard4")]
impl Get {
    /// What was read: the publisher, the item id and the data (`None`: nothing published).
    type Output = UserData<VCard4>;

    fn request(&self) -> ElementBuilder {
        fetch_data::<VCard4>(self.from.as_deref())
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<UserData<VCard4>> {
        Ok(UserData::<VCard4>::from_result(stanza))
    }
}

/// Gets a vCard4 with an IQ (version 0.11 §4.1.1, as Prosody 0.12's `mod_vcard4` answers: to the bare JID).
/// Its `Output` is the [`VCard4`]; `item-not-found` resolves the request to `Err(Error::Stanza(..))`.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `vcard4_iqget_handle` | [`VCard4`] (empty if the result holds none) |
/// | `item-not-found` | `vcard4_iqget_erroritemnotfound` | none |
/// | any other error | `vcard4_iqget_error` | the [`StanzaError`] |
///
/// ```
/// # fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// xec.context().request(moxl_xep::xep_0292_vcard4::IqGet { to: Some("juliet@capulet.lit".into()) })?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IqGet {
    /// Whose (a bare JID); `None` for ours.
    pub to: Option<String>,
}

#[action(group = "vcard4")]
impl IqGet {
    /// The vCard (empty if the result holds none).
    type Output = VCard4;

    fn request(&self) -> ElementBuilder {
        iq_get(self.to.as_deref()).append(ElementBuilder::new("vcard", NS))
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<VCard4> {
        Ok(stanza.child("vcard", NS).and_then(|v| VCard4::from_element(&v)).unwrap_or_default())
    }

    async fn error_item_not_found(&mut self, ctx: &Context, _error: &StanzaError, _stanza: &Element) {
        ctx.deliver();
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Publishes our vCard4 with an IQ-set to ourselves (version 0.11 §4.1.2, Prosody 0.12's `mod_vcard4`).
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `vcard4_iqset_handle` | none |
/// | error | `vcard4_iqset_error` | the [`StanzaError`] |
///
/// ```
/// # fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// xec.context().request(moxl_xep::xep_0292_vcard4::IqSet { vcard: Default::default() })?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IqSet {
    /// The vCard.
    pub vcard: VCard4,
}

#[action(group = "vcard4")]
impl IqSet {
    fn request(&self) -> ElementBuilder {
        iq_set(None).append(self.vcard.to_element())
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) {
        ctx.deliver();
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Delivers vCard4 notifications (§3.4) as [`UserData`]`<`[`VCard4`]`>` (Packet key `vcard4`, sender the
/// publisher).
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0080_geoloc::UserData;
/// use moxl_xep::xep_0292_vcard4::VCard4;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// # block_on(async {
/// let xec = Xec::new()?;
/// // the typed view of the Packets keyed `vcard4`
/// let mut cards = xec.events::<UserData<VCard4>>();
/// xec.dispatch(Element::parse("<message xmlns='jabber:client' from='stpeter@jabber.org'>\
///     <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:vcard4'><item id='current'>\
///     <vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'><fn><text>Peter Saint-Andre</text></fn></vcard>\
///     </item></items></event></message>")?).await;
/// let p = cards.try_recv().unwrap();
/// assert_eq!(p.data.as_ref().unwrap().full_name.as_deref(), Some("Peter Saint-Andre"));
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(
    name = "event",
    ns = "http://jabber.org/protocol/pubsub#event",
    node = "urn:xmpp:vcard4",
    key = "vcard4",
    at = "child"
)]
#[derive(Debug, Default)]
pub struct Vcard4Events;

impl Payload for Vcard4Events {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        if let Some(u) = UserData::<VCard4>::from_event(stanza) {
            ctx.pack(u).deliver();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    fn full() -> VCard4 {
        VCard4 {
            kind: Some("individual".into()),
            full_name: Some("Juliet Capulet".into()),
            name: Some(Name {
                surname: Some("Capulet".into()),
                given: Some("Juliet".into()),
                additional: Some("M".into()),
                prefix: Some("Lady".into()),
                suffix: Some("II".into()),
            }),
            nicknames: vec!["jc".into()],
            photo: Some("https://capulet.lit/j.png".into()),
            bday: Some("1582-07-31".into()),
            gender: Some("F".into()),
            addresses: vec![Address {
                types: vec!["home".into()],
                street: Some("Via Cappello 23".into()),
                locality: Some("Verona".into()),
                code: Some("37121".into()),
                country: Some("Italy".into()),
                ..Address::default()
            }],
            tels: vec![Typed { types: vec!["cell".into(), "voice".into()], value: "tel:+39-045-8034303".into() }],
            emails: vec![Typed { types: vec!["home".into()], value: "juliet@capulet.lit".into() }],
            impps: vec!["xmpp:juliet@capulet.lit".into()],
            langs: vec!["it".into(), "en".into()],
            tz: Some("Europe/Rome".into()),
            geo: Some("geo:45.4419,10.9986".into()),
            title: Some("Heiress".into()),
            role: Some("Lover".into()),
            org: Some("House Capulet".into()),
            note: Some("Wherefore art thou".into()),
            urls: vec!["https://capulet.lit/".into()],
        }
    }

    #[test]
    fn every_property_round_trips_and_the_iq_interface_carries_it() {
        let v = full();
        assert_eq!(VCard4::from_element(&v.to_element().build().unwrap()), Some(v.clone()));
        let xec = Xec::new().unwrap();
        let mut got = xec.subscribe("vcard4_iqget_handle");
        let id = xec.context().request(IqGet { to: Some("juliet@capulet.lit".into()) }).unwrap().id().to_owned();
        let out = xec.take_outgoing();
        assert_eq!(
            out[0].to_xml(),
            format!(
                "<iq xmlns='jabber:client' type='get' to='juliet@capulet.lit' id='{id}'><vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'/></iq>"
            )
        );
        block_on(
            xec.dispatch(
                Element::parse(&format!(
                    "<iq xmlns='jabber:client' type='result' from='juliet@capulet.lit' id='{id}'>{}</iq>",
                    v.to_element().build().unwrap().to_xml()
                ))
                .unwrap(),
            ),
        );
        assert_eq!(got.try_recv().unwrap().content::<VCard4>(), Some(&v));
        // the PEP publish is the item 'current' of urn:xmpp:vcard4
        let iq = publish_data(&v).build().unwrap().to_xml();
        assert!(
            iq.contains(
                "<publish node='urn:xmpp:vcard4'><item id='current'><vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'>"
            ),
            "{iq}"
        );
    }
}
