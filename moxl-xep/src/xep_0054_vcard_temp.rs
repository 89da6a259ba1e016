//! XEP-0054: vcard-temp. Gets our own or another entity's vCard ([`Get`], §3.1, §3.3) and publishes ours
//! ([`Set`], §3.2), as a typed [`VCard`] with every field of the vCard-XML DTD (§5) except `AGENT` and
//! `VERSION`, plus two extensions that Movim writes: `<X-GENDER/>` and `<MARITAL><STATUS/></MARITAL>`.
//!
//! Binary values (`PHOTO`, `LOGO`, `SOUND`'s `BINVAL`) are bytes; their base64 text may be wrapped with
//! whitespace (RFC 2426 folds lines), which [`decode_base64`] ignores. The avatar hash of XEP-0153 is
//! computed from [`VCard::photo`]'s bytes.
//!
//! A server without a vCard for the user answers `item-not-found` (§3.1: "MUST return an
//! `<item-not-found/>` error or an empty vCard"): [`Get`] delivers `vcard_get_erroritemnotfound`. Prosody's
//! `mod_vcard_legacy` (on by default since 0.11) answers an empty `<vCard/>` instead, and keeps only the
//! fields it can map to vCard4 (XEP-0292 §11): FN, N, NICKNAME, BDAY, ADR, TEL, EMAIL, JABBERID, TITLE,
//! ROLE, CATEGORIES, NOTE (DESC is stored as NOTE), URL, ORGNAME and PHOTO (as a XEP-0084 avatar).

use base64::Engine as _;
use moxl_core::action;
use moxl_core::stanza::{StanzaError, iq_get, iq_set};
use moxl_core::xec::Context;
use moxl_core::xml::{Element, ElementBuilder};
use serde::{Deserialize, Serialize};

/// `vcard-temp` (§3).
///
/// ```
/// assert_eq!(moxl_xep::xep_0054_vcard_temp::NS, "vcard-temp");
/// ```
pub const NS: &str = "vcard-temp";

moxl_core::feature!("vcard-temp");

/// Base64 text to bytes (RFC 4648 §4, the alphabet of XEP-0054's `BINVAL` and XEP-0084's `<data/>`).
/// Whitespace anywhere is skipped (line-wrapped values, XEP-0084 §4.2 allows it) and padding may be missing.
/// `None` for text that is not base64.
///
/// ```
/// use moxl_xep::xep_0054_vcard_temp::decode_base64;
/// assert_eq!(decode_base64("aGVs\r\n bG8=").as_deref(), Some(&b"hello"[..]));
/// assert_eq!(decode_base64("aGVsbG8").as_deref(), Some(&b"hello"[..]));
/// assert_eq!(decode_base64("not base64!"), None);
/// ```
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT.decode(compact).ok()
}

/// Bytes to base64 text (padded, not wrapped).
///
/// ```
/// assert_eq!(moxl_xep::xep_0054_vcard_temp::encode_base64(b"hello"), "aGVsbG8=");
/// ```
pub fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The structured name `N` (§5: FAMILY, GIVEN, MIDDLE, PREFIX, SUFFIX).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Name {
    /// `FAMILY`.
    pub family: Option<String>,
    /// `GIVEN`.
    pub given: Option<String>,
    /// `MIDDLE`.
    pub middle: Option<String>,
    /// `PREFIX`.
    pub prefix: Option<String>,
    /// `SUFFIX`.
    pub suffix: Option<String>,
}

/// An image or sound: its bytes (`BINVAL`) or a link to them (`EXTVAL`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MediaValue {
    /// `BINVAL`, decoded.
    Binary(Vec<u8>),
    /// `EXTVAL`: a URI.
    External(String),
}

/// `PHOTO` or `LOGO` (§5): a media type (`TYPE`, e.g. `image/png`) and a value.
///
/// ```
/// use moxl_xep::xep_0054_vcard_temp::{Media, MediaValue};
/// let photo = Media::binary("image/png", vec![0x89, b'P', b'N', b'G']);
/// assert_eq!(photo.bytes(), Some(&[0x89, b'P', b'N', b'G'][..]));
/// assert_eq!(Media::external("https://x/y.png").bytes(), None);
/// assert_eq!(Media::external("https://x/y.png").value, MediaValue::External("https://x/y.png".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Media {
    /// `TYPE`: the MIME type, for a binary value.
    pub media_type: Option<String>,
    /// `BINVAL` or `EXTVAL`.
    pub value: MediaValue,
}

impl Media {
    /// An inline image (`TYPE` and `BINVAL`).
    pub fn binary(media_type: impl Into<String>, bytes: Vec<u8>) -> Media {
        Media { media_type: Some(media_type.into()), value: MediaValue::Binary(bytes) }
    }

    /// A link to an image (`EXTVAL`).
    pub fn external(uri: impl Into<String>) -> Media {
        Media { media_type: None, value: MediaValue::External(uri.into()) }
    }

    /// The bytes of a `BINVAL` value.
    pub fn bytes(&self) -> Option<&[u8]> {
        match &self.value {
            MediaValue::Binary(b) => Some(b),
            MediaValue::External(_) => None,
        }
    }

    fn from_element(e: &Element) -> Option<Media> {
        let media_type = text_of(e, "TYPE");
        let value = if let Some(bin) = e.child("BINVAL", NS) {
            MediaValue::Binary(decode_base64(&bin.text())?)
        } else {
            MediaValue::External(text_of(e, "EXTVAL")?)
        };
        Some(Media { media_type, value })
    }

    fn to_element(&self, name: &'static str) -> ElementBuilder {
        let e = ElementBuilder::new(name, NS);
        match &self.value {
            MediaValue::Binary(b) => opt_child(e, "TYPE", &self.media_type).text_child("BINVAL", encode_base64(b)),
            MediaValue::External(uri) => e.text_child("EXTVAL", uri.clone()),
        }
    }
}

/// `SOUND` (§5): a phonetic spelling, the bytes of a recording, or a link to one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Sound {
    /// `PHONETIC`.
    Phonetic(String),
    /// `BINVAL`, decoded.
    Binary(Vec<u8>),
    /// `EXTVAL`.
    External(String),
}

/// An address `ADR` (§5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Address {
    /// The empty flag elements, as written: `HOME`, `WORK`, `POSTAL`, `PARCEL`, `DOM`, `INTL`, `PREF`.
    pub types: Vec<String>,
    /// `POBOX`.
    pub pobox: Option<String>,
    /// `EXTADD`.
    pub extadd: Option<String>,
    /// `STREET`.
    pub street: Option<String>,
    /// `LOCALITY`.
    pub locality: Option<String>,
    /// `REGION`.
    pub region: Option<String>,
    /// `PCODE`.
    pub pcode: Option<String>,
    /// `CTRY`.
    pub ctry: Option<String>,
}

/// A telephone number `TEL` (§5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Tel {
    /// The flags: `HOME`, `WORK`, `VOICE`, `FAX`, `PAGER`, `MSG`, `CELL`, `VIDEO`, `BBS`, `MODEM`, `ISDN`,
    /// `PCS`, `PREF`.
    pub types: Vec<String>,
    /// `NUMBER`.
    pub number: String,
}

/// An email address `EMAIL` (§5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Email {
    /// The flags: `HOME`, `WORK`, `INTERNET`, `PREF`, `X400` (others are not written).
    pub types: Vec<String>,
    /// `USERID`.
    pub userid: String,
}

/// A delivery label `LABEL` (§5): lines of text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Label {
    /// The flags, as for [`Address::types`].
    pub types: Vec<String>,
    /// `LINE`s.
    pub lines: Vec<String>,
}

/// The organization `ORG` (§5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Org {
    /// `ORGNAME`.
    pub name: String,
    /// `ORGUNIT`s.
    pub units: Vec<String>,
}

/// A public key `KEY` (§5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Key {
    /// `TYPE`.
    pub key_type: Option<String>,
    /// `CRED`.
    pub cred: String,
}

/// A geographical position `GEO` (§5), as written (decimal degrees).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Geo {
    /// `LAT`.
    pub lat: String,
    /// `LON`.
    pub lon: String,
}

/// A vCard (§5). Fields absent from the XML are `None`/empty; writing it back gives the same vCard.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0054_vcard_temp::VCard;
/// // XEP-0054 §3.1, Example 2 (abridged)
/// let v = Element::parse("<vCard xmlns='vcard-temp'><FN>Peter Saint-Andre</FN>\
///     <N><FAMILY>Saint-Andre</FAMILY><GIVEN>Peter</GIVEN><MIDDLE/></N><NICKNAME>stpeter</NICKNAME>\
///     <EMAIL><INTERNET/><PREF/><USERID>stpeter@jabber.org</USERID></EMAIL>\
///     <JABBERID>stpeter@jabber.org</JABBERID></vCard>")?;
/// let v = VCard::from_element(&v).unwrap();
/// assert_eq!(v.full_name.as_deref(), Some("Peter Saint-Andre"));
/// assert_eq!(v.name.as_ref().and_then(|n| n.family.as_deref()), Some("Saint-Andre"));
/// assert_eq!(v.emails[0].types, ["INTERNET", "PREF"]);
/// assert_eq!(VCard::from_element(&v.to_element().build()?), Some(v));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VCard {
    /// `FN`: the formatted name.
    pub full_name: Option<String>,
    /// `N`.
    pub name: Option<Name>,
    /// `NICKNAME`s.
    pub nicknames: Vec<String>,
    /// `PHOTO`.
    pub photo: Option<Media>,
    /// `BDAY` (ISO 8601 date, as written).
    pub bday: Option<String>,
    /// `ADR`s.
    pub addresses: Vec<Address>,
    /// `LABEL`s.
    pub labels: Vec<Label>,
    /// `TEL`s.
    pub tels: Vec<Tel>,
    /// `EMAIL`s.
    pub emails: Vec<Email>,
    /// `JABBERID`.
    pub jabberid: Option<String>,
    /// `MAILER`.
    pub mailer: Option<String>,
    /// `TZ`.
    pub tz: Option<String>,
    /// `GEO`.
    pub geo: Option<Geo>,
    /// `TITLE`.
    pub title: Option<String>,
    /// `ROLE`.
    pub role: Option<String>,
    /// `LOGO`.
    pub logo: Option<Media>,
    /// `ORG`.
    pub org: Option<Org>,
    /// `CATEGORIES`: its `KEYWORD`s.
    pub categories: Vec<String>,
    /// `NOTE`.
    pub note: Option<String>,
    /// `PRODID`.
    pub prodid: Option<String>,
    /// `REV`.
    pub rev: Option<String>,
    /// `SORT-STRING`.
    pub sort_string: Option<String>,
    /// `SOUND`.
    pub sound: Option<Sound>,
    /// `UID`.
    pub uid: Option<String>,
    /// `URL`s.
    pub urls: Vec<String>,
    /// `CLASS`: `PUBLIC`, `PRIVATE` or `CONFIDENTIAL`.
    pub class: Option<String>,
    /// `KEY`.
    pub key: Option<Key>,
    /// `DESC`: free text about the entity.
    pub desc: Option<String>,
    /// Movim's `<X-GENDER/>` extension (not in the DTD).
    pub gender: Option<String>,
    /// Movim's `<MARITAL><STATUS/></MARITAL>` extension (not in the DTD).
    pub marital: Option<String>,
}

const CLASSES: [&str; 3] = ["PUBLIC", "PRIVATE", "CONFIDENTIAL"];

impl VCard {
    /// Reads a `<vCard xmlns='vcard-temp'/>` (`None` for another element). Unknown elements, `AGENT` and
    /// `VERSION` are skipped; a `BINVAL` that is not base64 leaves its field out.
    pub fn from_element(v: &Element) -> Option<VCard> {
        if !v.is("vCard", NS) {
            return None;
        }
        let mut card = VCard::default();
        for c in v.children().filter(|c| c.ns() == NS) {
            let text = || non_empty(c.text().trim());
            match c.name() {
                "FN" => card.full_name = text(),
                "N" => {
                    card.name = Some(Name {
                        family: text_of(&c, "FAMILY"),
                        given: text_of(&c, "GIVEN"),
                        middle: text_of(&c, "MIDDLE"),
                        prefix: text_of(&c, "PREFIX"),
                        suffix: text_of(&c, "SUFFIX"),
                    })
                }
                "NICKNAME" => card.nicknames.extend(text()),
                "PHOTO" => card.photo = Media::from_element(&c),
                "BDAY" => card.bday = text(),
                "ADR" => card.addresses.push(Address {
                    types: flags(&c),
                    pobox: text_of(&c, "POBOX"),
                    extadd: text_of(&c, "EXTADD"),
                    street: text_of(&c, "STREET"),
                    locality: text_of(&c, "LOCALITY"),
                    region: text_of(&c, "REGION"),
                    pcode: text_of(&c, "PCODE"),
                    ctry: text_of(&c, "CTRY"),
                }),
                "LABEL" => card.labels.push(Label {
                    types: flags(&c),
                    lines: c.children().filter(|l| l.is("LINE", NS)).map(|l| l.text().into_owned()).collect(),
                }),
                "TEL" => card.tels.extend(text_of(&c, "NUMBER").map(|number| Tel { types: flags(&c), number })),
                "EMAIL" => card.emails.extend(text_of(&c, "USERID").map(|userid| Email { types: flags(&c), userid })),
                "JABBERID" => card.jabberid = text(),
                "MAILER" => card.mailer = text(),
                "TZ" => card.tz = text(),
                "GEO" => card.geo = text_of(&c, "LAT").zip(text_of(&c, "LON")).map(|(lat, lon)| Geo { lat, lon }),
                "TITLE" => card.title = text(),
                "ROLE" => card.role = text(),
                "LOGO" => card.logo = Media::from_element(&c),
                "ORG" => {
                    card.org = text_of(&c, "ORGNAME").map(|name| Org {
                        name,
                        units: c
                            .children()
                            .filter(|u| u.is("ORGUNIT", NS))
                            .filter_map(|u| non_empty(&u.text()))
                            .collect(),
                    })
                }
                "CATEGORIES" => card
                    .categories
                    .extend(c.children().filter(|k| k.is("KEYWORD", NS)).filter_map(|k| non_empty(&k.text()))),
                "NOTE" => card.note = text(),
                "PRODID" => card.prodid = text(),
                "REV" => card.rev = text(),
                "SORT-STRING" => card.sort_string = text(),
                "SOUND" => {
                    card.sound = if let Some(p) = text_of(&c, "PHONETIC") {
                        Some(Sound::Phonetic(p))
                    } else if let Some(b) = c.child("BINVAL", NS) {
                        decode_base64(&b.text()).map(Sound::Binary)
                    } else {
                        text_of(&c, "EXTVAL").map(Sound::External)
                    }
                }
                "UID" => card.uid = text(),
                "URL" => card.urls.extend(text()),
                "CLASS" => card.class = c.children().find(|k| CLASSES.contains(&k.name())).map(|k| k.name().to_owned()),
                "KEY" => card.key = text_of(&c, "CRED").map(|cred| Key { key_type: text_of(&c, "TYPE"), cred }),
                "DESC" => card.desc = text(),
                "X-GENDER" => card.gender = text(),
                "MARITAL" => card.marital = text_of(&c, "STATUS"),
                _ => {}
            }
        }
        Some(card)
    }

    /// The vCard of a result stanza: its `<vCard/>` child. A result without one (some servers answer an
    /// empty result when there is no vCard, §3.1) is an empty vCard.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0054_vcard_temp::VCard;
    /// let empty = Element::parse("<iq xmlns='jabber:client' type='result' id='v1'/>")?;
    /// assert!(VCard::from_stanza(&empty).is_empty());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_stanza(stanza: &Element) -> VCard {
        stanza.child("vCard", NS).and_then(|v| VCard::from_element(&v)).unwrap_or_default()
    }

    /// Whether no field is set (the "empty vCard" of §3.1).
    ///
    /// ```
    /// assert!(moxl_xep::xep_0054_vcard_temp::VCard::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        *self == VCard::default()
    }

    /// Writes the `<vCard xmlns='vcard-temp'/>` element (fields in the order of the DTD, §5).
    pub fn to_element(&self) -> ElementBuilder {
        let mut v = ElementBuilder::new("vCard", NS);
        v = opt_child(v, "FN", &self.full_name);
        if let Some(n) = &self.name {
            let mut e = ElementBuilder::new("N", NS);
            for (tag, val) in [
                ("FAMILY", &n.family),
                ("GIVEN", &n.given),
                ("MIDDLE", &n.middle),
                ("PREFIX", &n.prefix),
                ("SUFFIX", &n.suffix),
            ] {
                e = opt_child(e, tag, val);
            }
            v = v.append(e);
        }
        for nick in &self.nicknames {
            v = v.text_child("NICKNAME", nick.clone());
        }
        if let Some(photo) = &self.photo {
            v = v.append(photo.to_element("PHOTO"));
        }
        v = opt_child(v, "BDAY", &self.bday);
        for a in &self.addresses {
            let mut e = with_flags("ADR", &a.types);
            for (tag, val) in [
                ("POBOX", &a.pobox),
                ("EXTADD", &a.extadd),
                ("STREET", &a.street),
                ("LOCALITY", &a.locality),
                ("REGION", &a.region),
                ("PCODE", &a.pcode),
                ("CTRY", &a.ctry),
            ] {
                e = opt_child(e, tag, val);
            }
            v = v.append(e);
        }
        for l in &self.labels {
            let e = l.lines.iter().fold(with_flags("LABEL", &l.types), |e, line| e.text_child("LINE", line.clone()));
            v = v.append(e);
        }
        for t in &self.tels {
            v = v.append(with_flags("TEL", &t.types).text_child("NUMBER", t.number.clone()));
        }
        for m in &self.emails {
            v = v.append(with_flags("EMAIL", &m.types).text_child("USERID", m.userid.clone()));
        }
        v = opt_child(v, "JABBERID", &self.jabberid);
        v = opt_child(v, "MAILER", &self.mailer);
        v = opt_child(v, "TZ", &self.tz);
        if let Some(g) = &self.geo {
            v = v.append(
                ElementBuilder::new("GEO", NS).text_child("LAT", g.lat.clone()).text_child("LON", g.lon.clone()),
            );
        }
        v = opt_child(v, "TITLE", &self.title);
        v = opt_child(v, "ROLE", &self.role);
        if let Some(logo) = &self.logo {
            v = v.append(logo.to_element("LOGO"));
        }
        if let Some(org) = &self.org {
            let e = ElementBuilder::new("ORG", NS).text_child("ORGNAME", org.name.clone());
            v = v.append(org.units.iter().fold(e, |e, u| e.text_child("ORGUNIT", u.clone())));
        }
        if !self.categories.is_empty() {
            let e = ElementBuilder::new("CATEGORIES", NS);
            v = v.append(self.categories.iter().fold(e, |e, k| e.text_child("KEYWORD", k.clone())));
        }
        v = opt_child(v, "NOTE", &self.note);
        v = opt_child(v, "PRODID", &self.prodid);
        v = opt_child(v, "REV", &self.rev);
        v = opt_child(v, "SORT-STRING", &self.sort_string);
        if let Some(sound) = &self.sound {
            let e = ElementBuilder::new("SOUND", NS);
            v = v.append(match sound {
                Sound::Phonetic(p) => e.text_child("PHONETIC", p.clone()),
                Sound::Binary(b) => e.text_child("BINVAL", encode_base64(b)),
                Sound::External(u) => e.text_child("EXTVAL", u.clone()),
            });
        }
        v = opt_child(v, "UID", &self.uid);
        for url in &self.urls {
            v = v.text_child("URL", url.clone());
        }
        if let Some(class) = self.class.as_deref().and_then(|c| CLASSES.iter().find(|k| **k == c)) {
            v = v.append(ElementBuilder::new("CLASS", NS).append(ElementBuilder::new(*class, NS)));
        }
        if let Some(k) = &self.key {
            v = v.append(
                opt_child(ElementBuilder::new("KEY", NS), "TYPE", &k.key_type).text_child("CRED", k.cred.clone()),
            );
        }
        v = opt_child(v, "DESC", &self.desc);
        v = opt_child(v, "X-GENDER", &self.gender);
        if let Some(m) = &self.marital {
            v = v.append(ElementBuilder::new("MARITAL", NS).text_child("STATUS", m.clone()));
        }
        v
    }
}

/// The text of child `name` (in `vcard-temp`), trimmed; `None` when absent or empty (`<MIDDLE/>`).
fn text_of(e: &Element, name: &str) -> Option<String> {
    e.child(name, NS).and_then(|c| non_empty(c.text().trim()))
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// The flag elements of `ADR`, `LABEL`, `TEL` and `EMAIL` (§5).
const FLAGS: [&str; 19] = [
    "HOME", "WORK", "POSTAL", "PARCEL", "DOM", "INTL", "PREF", "VOICE", "FAX", "PAGER", "MSG", "CELL", "VIDEO", "BBS",
    "MODEM", "ISDN", "PCS", "INTERNET", "X400",
];

/// The flags among the children (`HOME`, `WORK`…), in document order.
fn flags(e: &Element) -> Vec<String> {
    e.children().filter(|c| c.ns() == NS && FLAGS.contains(&c.name())).map(|c| c.name().to_owned()).collect()
}

/// The element `name` with the known flags of `types` (others are not written).
fn with_flags(name: &'static str, types: &[String]) -> ElementBuilder {
    let e = ElementBuilder::new(name, NS);
    types.iter().filter(|t| FLAGS.contains(&t.as_str())).fold(e, |e, t| e.append(ElementBuilder::new(t.clone(), NS)))
}

fn opt_child(e: ElementBuilder, name: &'static str, value: &Option<String>) -> ElementBuilder {
    match value {
        Some(v) => e.text_child(name, v.clone()),
        None => e,
    }
}

/// Gets a vCard (§3.1, §3.3): ours (`to: None`, sent to our own server) or another entity's (its bare JID).
///
/// Its `Output` is the [`VCard`]: `ctx.request(Get::of(jid))?.await` gives it; an error reply (`item-not-found`
/// when there is no vCard) gives `Err(Error::Stanza(..))`. The Packets below are the second view.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `vcard_get_handle` | [`VCard`] (empty when the result holds none, or an empty `<vCard/>`) |
/// | `item-not-found` (no vCard, §3.1) | `vcard_get_erroritemnotfound` | the address asked (`String`, empty for ours) |
/// | `service-unavailable` (no such user, §3.3) | `vcard_get_errorserviceunavailable` | the [`StanzaError`] |
/// | any other error | `vcard_get_error` | the [`StanzaError`] |
///
/// ```
/// use moxl_core::stanza::Condition;
/// use moxl_core::Error;
/// use moxl_xep::xep_0054_vcard_temp::{Get, VCard};
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// match xec.context().request(Get::of("romeo@montague.lit"))?.await {
///     Ok(card) => println!("{:?}", card.full_name),
///     Err(Error::Stanza(e)) if e.condition() == Some(Condition::ItemNotFound) => println!("no vCard"),
///     Err(e) => return Err(e),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Get {
    /// Whose vCard (a bare JID); `None` for our own.
    pub to: Option<String>,
}

impl Get {
    /// Our own vCard.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0054_vcard_temp::Get::own().to, None);
    /// ```
    pub fn own() -> Get {
        Get { to: None }
    }

    /// The vCard of `jid` (a bare JID).
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0054_vcard_temp::Get::of("a@b").to.as_deref(), Some("a@b"));
    /// ```
    pub fn of(jid: impl Into<String>) -> Get {
        Get { to: Some(jid.into()) }
    }
}

#[action(group = "vcard")]
impl Get {
    /// The vCard (empty when the result holds none, or an empty `<vCard/>`).
    type Output = VCard;

    fn request(&self) -> ElementBuilder {
        iq_get(self.to.as_deref()).append(ElementBuilder::new("vCard", NS))
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> moxl_core::Result<VCard> {
        Ok(VCard::from_stanza(stanza))
    }

    async fn error_item_not_found(&mut self, ctx: &Context, _error: &StanzaError, _stanza: &Element) {
        ctx.pack(self.to.clone().unwrap_or_default()).deliver();
    }

    async fn error_service_unavailable(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Publishes our vCard, replacing the one stored (§3.2: an IQ-set without `to`).
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `vcard_set_handle` | none |
/// | any error | `vcard_set_error` | the [`StanzaError`] |
///
/// ```
/// use moxl_xep::xep_0054_vcard_temp::{Set, VCard};
/// # fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let mut card = VCard::default();
/// card.full_name = Some("Juliet Capulet".into());
/// xec.context().request(Set { vcard: card })?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Set {
    /// The vCard to store.
    pub vcard: VCard,
}

#[action(group = "vcard")]
impl Set {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    /// §3.1, Example 2 (stpeter's vCard), with the fields the example lacks added at the end.
    const EXAMPLE: &str = "<iq xmlns='jabber:client' from='stpeter@jabber.org' to='stpeter@jabber.org/roundabout' type='result' id='v1'>\
        <vCard xmlns='vcard-temp'>\
          <FN>Peter Saint-Andre</FN>\
          <N><FAMILY>Saint-Andre</FAMILY><GIVEN>Peter</GIVEN><MIDDLE/></N>\
          <NICKNAME>stpeter</NICKNAME>\
          <URL>http://www.xmpp.org/xsf/people/stpeter.shtml</URL>\
          <BDAY>1966-08-06</BDAY>\
          <ORG><ORGNAME>XMPP Standards Foundation</ORGNAME><ORGUNIT/></ORG>\
          <TITLE>Executive Director</TITLE>\
          <ROLE>Patron Saint</ROLE>\
          <TEL><WORK/><VOICE/><NUMBER>303-308-3282</NUMBER></TEL>\
          <TEL><WORK/><FAX/><NUMBER/></TEL>\
          <TEL><WORK/><MSG/><NUMBER/></TEL>\
          <ADR><WORK/><EXTADD>Suite 600</EXTADD><STREET>1899 Wynkoop Street</STREET><LOCALITY>Denver</LOCALITY>\
            <REGION>CO</REGION><PCODE>80202</PCODE><CTRY>USA</CTRY></ADR>\
          <TEL><HOME/><VOICE/><NUMBER>303-555-1212</NUMBER></TEL>\
          <ADR><HOME/><EXTADD/><STREET/><LOCALITY>Denver</LOCALITY><REGION>CO</REGION><PCODE>80209</PCODE><CTRY>USA</CTRY></ADR>\
          <EMAIL><INTERNET/><PREF/><USERID>stpeter@jabber.org</USERID></EMAIL>\
          <JABBERID>stpeter@jabber.org</JABBERID>\
          <DESC>More information about me is located on my personal website: http://www.saint-andre.com/</DESC>\
          <PHOTO><TYPE>image/png</TYPE><BINVAL>iVBO\n Rw0K</BINVAL></PHOTO>\
          <X-GENDER>male</X-GENDER><MARITAL><STATUS>married</STATUS></MARITAL>\
        </vCard></iq>";

    #[test]
    fn the_spec_example_parses() {
        let v = VCard::from_stanza(&Element::parse(EXAMPLE).unwrap());
        assert_eq!(v.full_name.as_deref(), Some("Peter Saint-Andre"));
        let n = v.name.clone().unwrap();
        assert_eq!((n.family.as_deref(), n.given.as_deref(), n.middle), (Some("Saint-Andre"), Some("Peter"), None));
        assert_eq!(v.nicknames, ["stpeter"]);
        assert_eq!(v.urls, ["http://www.xmpp.org/xsf/people/stpeter.shtml"]);
        assert_eq!(v.org, Some(Org { name: "XMPP Standards Foundation".into(), units: vec![] }));
        // the TELs without a number are left out
        assert_eq!(v.tels.len(), 2);
        assert_eq!(v.tels[0], Tel { types: vec!["WORK".into(), "VOICE".into()], number: "303-308-3282".into() });
        assert_eq!(v.addresses.len(), 2);
        assert_eq!(v.addresses[0].extadd.as_deref(), Some("Suite 600"));
        assert_eq!(v.addresses[1].types, ["HOME"]);
        assert_eq!(v.addresses[1].street, None);
        assert_eq!(v.emails[0].userid, "stpeter@jabber.org");
        assert_eq!(v.jabberid.as_deref(), Some("stpeter@jabber.org"));
        assert!(v.desc.as_deref().unwrap().starts_with("More information"));
        // the wrapped base64 decodes: the PNG signature
        let photo = v.photo.clone().unwrap();
        assert_eq!(photo.media_type.as_deref(), Some("image/png"));
        assert_eq!(photo.bytes(), Some(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a][..]));
        assert_eq!((v.gender.as_deref(), v.marital.as_deref()), (Some("male"), Some("married")));
    }

    #[test]
    fn every_field_round_trips() {
        let v = VCard {
            full_name: Some("Juliet Capulet".into()),
            name: Some(Name {
                family: Some("Capulet".into()),
                given: Some("Juliet".into()),
                middle: Some("J".into()),
                prefix: Some("Lady".into()),
                suffix: Some("II".into()),
            }),
            nicknames: vec!["jc".into(), "julie".into()],
            photo: Some(Media::binary("image/png", vec![0, 1, 2, 254, 255])),
            bday: Some("1582-07-31".into()),
            addresses: vec![Address {
                types: vec!["HOME".into(), "PREF".into()],
                pobox: Some("1".into()),
                extadd: Some("Balcony".into()),
                street: Some("Via Cappello 23".into()),
                locality: Some("Verona".into()),
                region: Some("VR".into()),
                pcode: Some("37121".into()),
                ctry: Some("Italy".into()),
            }],
            labels: vec![Label { types: vec!["WORK".into()], lines: vec!["a".into(), "b".into()] }],
            tels: vec![Tel { types: vec!["CELL".into()], number: "+39 045 8034303".into() }],
            emails: vec![Email { types: vec!["INTERNET".into(), "X400".into()], userid: "juliet@capulet.lit".into() }],
            jabberid: Some("juliet@capulet.lit".into()),
            mailer: Some("quill".into()),
            tz: Some("+01:00".into()),
            geo: Some(Geo { lat: "45.4419".into(), lon: "10.9986".into() }),
            title: Some("Heiress".into()),
            role: Some("Lover".into()),
            logo: Some(Media { media_type: None, value: MediaValue::External("https://capulet.lit/crest.png".into()) }),
            org: Some(Org { name: "House Capulet".into(), units: vec!["Family".into()] }),
            categories: vec!["family".into(), "verona".into()],
            note: Some("Note & <escaped>".into()),
            prodid: Some("-//moxl//EN".into()),
            rev: Some("2026-11-24T12:00:00Z".into()),
            sort_string: Some("Capulet".into()),
            sound: Some(Sound::Phonetic("ju-li-et".into())),
            uid: Some("urn:uuid:1".into()),
            urls: vec!["https://capulet.lit/".into()],
            class: Some("PRIVATE".into()),
            key: Some(Key { key_type: Some("x509".into()), cred: "MIIB".into() }),
            desc: Some("Wherefore art thou".into()),
            gender: Some("female".into()),
            marital: Some("married".into()),
        };
        let built = v.to_element().build().unwrap();
        assert_eq!(VCard::from_element(&built), Some(v.clone()));
        // a binary sound too
        let mut w = v;
        w.sound = Some(Sound::Binary(vec![9, 8, 7]));
        assert_eq!(VCard::from_element(&w.to_element().build().unwrap()), Some(w));
    }

    #[test]
    fn bad_input_is_skipped_not_fatal() {
        let v = Element::parse(
            "<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>!!!</BINVAL></PHOTO>\
             <CLASS><SECRET/></CLASS><AGENT><vCard/></AGENT><FN>x</FN><X-UNKNOWN>y</X-UNKNOWN></vCard>",
        )
        .unwrap();
        let v = VCard::from_element(&v).unwrap();
        assert_eq!((v.photo, v.class, v.full_name.as_deref()), (None, None, Some("x")));
        assert_eq!(VCard::from_element(&Element::parse("<vCard xmlns='other'/>").unwrap()), None);
        // a flag that is no element name is not written
        let mut bad = VCard::default();
        bad.tels.push(Tel { types: vec!["a b".into(), String::new()], number: "1".into() });
        assert!(bad.to_element().build().is_ok());
    }

    #[test]
    fn an_awaited_get_gives_the_vcard_or_the_stanza_error() {
        let xec = Xec::new().unwrap();
        let request = xec.context().request(Get::of("stpeter@jabber.org")).unwrap();
        let reply = Element::parse(&EXAMPLE.replace("id='v1'", &format!("id='{}'", request.id()))).unwrap();
        let card = block_on(async {
            xec.dispatch(reply).await;
            request.await
        })
        .unwrap();
        assert_eq!(card.full_name.as_deref(), Some("Peter Saint-Andre"));
        // §3.1, Example 3: no vCard: the awaiter gets the item-not-found error
        let request = xec.context().request(Get::own()).unwrap();
        let reply = Element::parse(&format!(
            "<iq xmlns='jabber:client' id='{}' type='error'><vCard xmlns='vcard-temp'/><error type='cancel'>\
             <item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
            request.id()
        ))
        .unwrap();
        let missing = block_on(async {
            xec.dispatch(reply).await;
            request.await
        });
        match missing {
            Err(moxl_core::Error::Stanza(e)) => {
                assert_eq!(e.condition(), Some(moxl_core::stanza::Condition::ItemNotFound))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn get_and_set_dispatch_to_their_keys() {
        let xec = Xec::new().unwrap();
        let ctx = xec.context();
        let mut cards = xec.subscribe("vcard_get_handle");
        let mut missing = xec.subscribe("vcard_get_erroritemnotfound");
        let mut stored = xec.subscribe("vcard_set_handle");

        let id = ctx.request(Get::of("stpeter@jabber.org")).unwrap().id().to_owned();
        let sent = xec.take_outgoing();
        assert_eq!(
            sent[0].to_xml(),
            format!(
                "<iq xmlns='jabber:client' type='get' to='stpeter@jabber.org' id='{id}'><vCard xmlns='vcard-temp'/></iq>"
            )
        );
        block_on(xec.dispatch(Element::parse(&EXAMPLE.replace("id='v1'", &format!("id='{id}'"))).unwrap()));
        let p = cards.try_recv().unwrap();
        assert_eq!(p.content::<VCard>().unwrap().nicknames, ["stpeter"]);

        // §3.1, Example 3: no vCard
        let id = ctx.request(Get::own()).unwrap().id().to_owned();
        assert!(xec.take_outgoing()[0].attr("to").is_none());
        block_on(
            xec.dispatch(
                Element::parse(&format!(
                    "<iq xmlns='jabber:client' id='{id}' to='stpeter@jabber.org/roundabout' type='error'>\
                 <vCard xmlns='vcard-temp'/><error type='cancel'>\
                 <item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
                ))
                .unwrap(),
            ),
        );
        assert_eq!(missing.try_recv().unwrap().content::<String>().map(String::as_str), Some(""));

        // §3.2, Example 4 → Example 5
        let card = VCard { full_name: Some("Peter Saint-Andre".into()), ..VCard::default() };
        let id = ctx.request(Set { vcard: card }).unwrap().id().to_owned();
        let sent = xec.take_outgoing();
        assert_eq!(
            sent[0].to_xml(),
            format!(
                "<iq xmlns='jabber:client' type='set' id='{id}'><vCard xmlns='vcard-temp'><FN>Peter Saint-Andre</FN></vCard></iq>"
            )
        );
        block_on(
            xec.dispatch(Element::parse(&format!("<iq xmlns='jabber:client' type='result' id='{id}'/>")).unwrap()),
        );
        assert!(stored.try_recv().is_some());
    }
}
