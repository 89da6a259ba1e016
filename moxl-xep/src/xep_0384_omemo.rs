//! XEP-0384: OMEMO Encryption, the XMPP side only: device lists, key bundles and the `<encrypted/>` element,
//! for an application that does its own cryptography (as Movim does in the browser with libsignal). Nothing here
//! encrypts or decrypts.
//!
//! Two flavours are deployed and both are spoken ([`Flavour`]):
//! - [`Flavour::Legacy`], `eu.siacs.conversations.axolotl` (XEP-0384 0.3, what Conversations, Movim and most
//!   clients use): the device list on node `eu.siacs.conversations.axolotl.devicelist`, each device's bundle on
//!   a node of its own, `eu.siacs.conversations.axolotl.bundles:<id>`, item `current`.
//! - [`Flavour::V2`], `urn:xmpp:omemo:2` (0.8 and later): the device list on `urn:xmpp:omemo:2:devices`, every
//!   bundle on `urn:xmpp:omemo:2:bundles` with the device id as item id, keys grouped per recipient JID.
//!
//! [`PublishDevices`] and [`PublishBundle`] announce our device with the publish-options of § "Announcing
//! support" (access model `open`, so that strangers can start a session; `max_items` `max` for the shared
//! bundles node). [`GetDevices`] and [`GetBundle`] fetch someone's. The [`DeviceListEvents`] Payload delivers
//! every device-list notification as a [`DeviceListUpdate`] (Packet keys `omemodevicelist` and
//! `omemo2devicelist`; we declare
//! `+notify` for both flavours), and [`EncryptedMessages`] every encrypted message as an [`EncryptedMessage`]
//! (keys `omemoencrypted` and `omemo2encrypted`).
//!
//! ```
//! use moxl_xep::xep_0384_omemo::{Device, DeviceList, Flavour, PublishDevices};
//! # async fn run(ctx: &moxl_core::xec::Context) -> moxl_core::Result<()> {
//! let mine = DeviceList::new(Flavour::Legacy, [Device::new(31415)]);
//! ctx.request(PublishDevices::new(mine))?.await?;
//! # Ok(()) }
//! ```

use std::borrow::Cow;

use moxl_core::jid::Jid;
use moxl_core::stanza::StanzaError;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder};
use moxl_core::{Result, action, payload};
use serde::{Deserialize, Serialize};

use crate::xep_0004_data_forms::DataForm;
use crate::xep_0054_vcard_temp::{decode_base64, encode_base64};
use crate::xep_0060_pubsub::{self as pubsub, Event, EventKind, Item, Published};

/// `eu.siacs.conversations.axolotl`.
///
/// ```
/// assert_eq!(moxl_xep::xep_0384_omemo::NS_LEGACY, "eu.siacs.conversations.axolotl");
/// ```
pub const NS_LEGACY: &str = "eu.siacs.conversations.axolotl";
/// `urn:xmpp:omemo:2`.
pub const NS_2: &str = "urn:xmpp:omemo:2";
/// The legacy device-list node.
pub const LEGACY_DEVICES: &str = "eu.siacs.conversations.axolotl.devicelist";
/// The version-2 device-list node.
pub const DEVICES_2: &str = "urn:xmpp:omemo:2:devices";
/// The version-2 bundles node.
pub const BUNDLES_2: &str = "urn:xmpp:omemo:2:bundles";

moxl_core::feature!("eu.siacs.conversations.axolotl.devicelist+notify", "urn:xmpp:omemo:2:devices+notify");

/// Which OMEMO is spoken.
///
/// ```
/// use moxl_xep::xep_0384_omemo::Flavour;
/// assert_eq!(Flavour::Legacy.bundle_node(31415), "eu.siacs.conversations.axolotl.bundles:31415");
/// assert_eq!((Flavour::V2.bundle_node(31415), Flavour::V2.bundle_item(31415)), ("urn:xmpp:omemo:2:bundles".to_owned(), "31415".to_owned()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Flavour {
    /// `eu.siacs.conversations.axolotl` (XEP-0384 0.3).
    Legacy,
    /// `urn:xmpp:omemo:2` (XEP-0384 0.8 and later).
    V2,
}

impl Flavour {
    /// The namespace of its elements.
    pub fn ns(self) -> &'static str {
        match self {
            Flavour::Legacy => NS_LEGACY,
            Flavour::V2 => NS_2,
        }
    }

    /// The flavour of a namespace.
    pub fn of_ns(ns: &str) -> Option<Flavour> {
        match ns {
            NS_LEGACY => Some(Flavour::Legacy),
            NS_2 => Some(Flavour::V2),
            _ => None,
        }
    }

    /// The device-list node.
    pub fn devices_node(self) -> &'static str {
        match self {
            Flavour::Legacy => LEGACY_DEVICES,
            Flavour::V2 => DEVICES_2,
        }
    }

    /// The node holding `device`'s bundle.
    pub fn bundle_node(self, device: u32) -> String {
        match self {
            Flavour::Legacy => format!("{NS_LEGACY}.bundles:{device}"),
            Flavour::V2 => BUNDLES_2.to_owned(),
        }
    }

    /// The item id of `device`'s bundle.
    pub fn bundle_item(self, device: u32) -> String {
        match self {
            Flavour::Legacy => "current".to_owned(),
            Flavour::V2 => device.to_string(),
        }
    }

    /// The element name of the device list (`list`, `devices`).
    fn list_name(self) -> &'static str {
        match self {
            Flavour::Legacy => "list",
            Flavour::V2 => "devices",
        }
    }
}

/// One device of an account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Device {
    /// Its id, 1 to 2³¹−1.
    pub id: u32,
    /// A label the user gave it (version 2 only).
    pub label: Option<String>,
}

impl Device {
    /// A device without a label.
    pub fn new(id: u32) -> Device {
        Device { id, label: None }
    }
}

/// An account's device list.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0384_omemo::{DeviceList, Flavour};
/// let e = Element::parse("<list xmlns='eu.siacs.conversations.axolotl'><device id='12345'/><device id='4223'/></list>")?;
/// let list = DeviceList::from_element(&e).unwrap();
/// assert_eq!((list.flavour, list.ids()), (Flavour::Legacy, vec![12345, 4223]));
/// assert!(list.contains(4223));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeviceList {
    /// The flavour.
    pub flavour: Flavour,
    /// The devices, in document order (ids outside 1..2³¹ are skipped).
    pub devices: Vec<Device>,
}

impl DeviceList {
    /// A list of `devices`.
    pub fn new(flavour: Flavour, devices: impl IntoIterator<Item = Device>) -> DeviceList {
        DeviceList { flavour, devices: devices.into_iter().collect() }
    }

    /// Reads a `<list/>` (legacy) or `<devices/>` (version 2).
    pub fn from_element(e: &Element) -> Option<DeviceList> {
        let flavour = Flavour::of_ns(e.ns())?;
        if e.name() != flavour.list_name() {
            return None;
        }
        let devices = e
            .children()
            .filter(|d| d.is("device", flavour.ns()))
            .filter_map(|d| {
                let id = device_id(&d.attr("id")?)?;
                Some(Device { id, label: d.attr("label").filter(|l| !l.is_empty()).map(Cow::into_owned) })
            })
            .collect();
        Some(DeviceList { flavour, devices })
    }

    /// The ids.
    pub fn ids(&self) -> Vec<u32> {
        self.devices.iter().map(|d| d.id).collect()
    }

    /// Whether `id` is listed: § "Announcing support": a device that finds itself missing from its own
    /// account's list MUST announce itself again.
    pub fn contains(&self, id: u32) -> bool {
        self.devices.iter().any(|d| d.id == id)
    }

    /// The element.
    ///
    /// ```
    /// use moxl_xep::xep_0384_omemo::{Device, DeviceList, Flavour};
    /// let mut d = Device::new(12345);
    /// d.label = Some("Gajim".into());
    /// assert_eq!(DeviceList::new(Flavour::V2, [d]).to_element().build()?.to_xml(),
    ///     "<devices xmlns='urn:xmpp:omemo:2'><device id='12345' label='Gajim'/></devices>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_element(&self) -> ElementBuilder {
        let ns = self.flavour.ns();
        self.devices.iter().fold(ElementBuilder::new(self.flavour.list_name(), ns), |list, d| {
            let label = d.label.clone().filter(|_| self.flavour == Flavour::V2);
            list.append(ElementBuilder::new("device", ns).attr("id", d.id.to_string()).attr_opt("label", label))
        })
    }
}

/// A device id: 1 to 2³¹−1 (§ "Setup").
fn device_id(text: &str) -> Option<u32> {
    text.trim().parse::<u32>().ok().filter(|id| (1..=0x7fff_ffff).contains(id))
}

/// A device's bundle: the public keys another device needs to start a session with it.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0384_omemo::{Bundle, Flavour};
/// let e = Element::parse("<bundle xmlns='urn:xmpp:omemo:2'><spk id='0'>AQI=</spk><spks>AwQ=</spks><ik>BQY=</ik>\
///     <prekeys><pk id='0'>Bw==</pk><pk id='1'>CA==</pk></prekeys></bundle>")?;
/// let b = Bundle::from_element(31415, &e).unwrap();
/// assert_eq!((b.flavour, b.identity_key.as_slice(), b.prekeys.len()), (Flavour::V2, &[5u8, 6][..], 2));
/// assert_eq!(Bundle::from_element(31415, &b.to_element().build()?), Some(b));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Bundle {
    /// The flavour.
    pub flavour: Flavour,
    /// The device it belongs to.
    pub device: u32,
    /// The identity key (public).
    pub identity_key: Vec<u8>,
    /// The signed prekey's id.
    pub signed_prekey_id: u32,
    /// The signed prekey (public).
    pub signed_prekey: Vec<u8>,
    /// The signature of the signed prekey.
    pub signed_prekey_signature: Vec<u8>,
    /// The one-time prekeys (id, public key).
    pub prekeys: Vec<(u32, Vec<u8>)>,
}

impl Bundle {
    /// Element names of (signed prekey, its signature, identity key, prekey) in a flavour.
    fn names(flavour: Flavour) -> [&'static str; 4] {
        match flavour {
            Flavour::Legacy => ["signedPreKeyPublic", "signedPreKeySignature", "identityKey", "preKeyPublic"],
            Flavour::V2 => ["spk", "spks", "ik", "pk"],
        }
    }

    /// Id attribute names of (signed prekey, prekey) in a flavour.
    fn id_names(flavour: Flavour) -> [&'static str; 2] {
        match flavour {
            Flavour::Legacy => ["signedPreKeyId", "preKeyId"],
            Flavour::V2 => ["id", "id"],
        }
    }

    /// Reads the `<bundle/>` of `device`: `None` if a key is missing or not base64, or no prekey is valid.
    pub fn from_element(device: u32, e: &Element) -> Option<Bundle> {
        let flavour = Flavour::of_ns(e.ns()).filter(|_| e.name() == "bundle")?;
        let ns = flavour.ns();
        let [spk, spks, ik, pk] = Self::names(flavour);
        let [spk_id, pk_id] = Self::id_names(flavour);
        let bytes = |name: &str| e.child(name, ns).and_then(|c| decode_base64(&c.text()));
        let signed = e.child(spk, ns)?;
        let prekeys: Vec<(u32, Vec<u8>)> = e
            .child("prekeys", ns)?
            .children()
            .filter(|k| k.is(pk, ns))
            .filter_map(|k| Some((k.attr(pk_id)?.trim().parse().ok()?, decode_base64(&k.text())?)))
            .collect();
        (!prekeys.is_empty()).then_some(())?;
        Some(Bundle {
            flavour,
            device,
            identity_key: bytes(ik)?,
            signed_prekey_id: signed.attr(spk_id)?.trim().parse().ok()?,
            signed_prekey: decode_base64(&signed.text())?,
            signed_prekey_signature: bytes(spks)?,
            prekeys,
        })
    }

    /// Reads the bundle of a PEP item: the device is the item id (version 2) or comes from the node name
    /// (legacy).
    pub fn from_item(node: &str, item: &Item) -> Option<Bundle> {
        let payload = item.payload.as_ref()?;
        let device = match Flavour::of_ns(payload.ns())? {
            Flavour::V2 => device_id(item.id.as_deref()?)?,
            Flavour::Legacy => device_id(node.strip_prefix(NS_LEGACY)?.strip_prefix(".bundles:")?)?,
        };
        Bundle::from_element(device, payload)
    }

    /// The `<bundle/>` element.
    pub fn to_element(&self) -> ElementBuilder {
        let ns = self.flavour.ns();
        let [spk, spks, ik, pk] = Self::names(self.flavour);
        let [spk_id, pk_id] = Self::id_names(self.flavour);
        let text = |name: &'static str, bytes: &[u8]| ElementBuilder::new(name, ns).text(encode_base64(bytes));
        let prekeys = self.prekeys.iter().fold(ElementBuilder::new("prekeys", ns), |keys, (id, key)| {
            keys.append(text(pk, key).attr(pk_id, id.to_string()))
        });
        ElementBuilder::new("bundle", ns)
            .append(text(spk, &self.signed_prekey).attr(spk_id, self.signed_prekey_id.to_string()))
            .append(text(spks, &self.signed_prekey_signature))
            .append(text(ik, &self.identity_key))
            .append(prekeys)
    }
}

/// One encrypted copy of the message key, for one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageKey {
    /// The recipient's bare JID (version 2 groups keys per JID; `None` in legacy messages).
    pub jid: Option<String>,
    /// The recipient device.
    pub rid: u32,
    /// Whether it starts a session (legacy `prekey='true'`, version 2 `kex='true'`).
    pub key_exchange: bool,
    /// The encrypted key.
    pub data: Vec<u8>,
}

/// An `<encrypted/>` element.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0384_omemo::{Encrypted, Flavour};
/// let m = Element::parse("<message xmlns='jabber:client' to='juliet@capulet.lit' from='romeo@montague.lit' id='send1'>\
///     <encrypted xmlns='urn:xmpp:omemo:2'><header sid='27183'>\
///     <keys jid='juliet@capulet.lit'><key rid='31415'>AAE=</key></keys>\
///     <keys jid='romeo@montague.lit'><key rid='1337'>AAI=</key><key kex='true' rid='12321'>AAM=</key></keys>\
///     </header><payload>BAU=</payload></encrypted><store xmlns='urn:xmpp:hints'/></message>")?;
/// let e = Encrypted::of(&m).unwrap();
/// assert_eq!((e.flavour, e.sid, e.keys.len()), (Flavour::V2, 27183, 3));
/// assert_eq!(e.key_for("juliet@capulet.lit", 31415).map(|k| k.data.as_slice()), Some(&[0u8, 1][..]));
/// assert!(e.keys[2].key_exchange);
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Encrypted {
    /// The flavour.
    pub flavour: Flavour,
    /// The sending device.
    pub sid: u32,
    /// The copies of the message key.
    pub keys: Vec<MessageKey>,
    /// The IV of the payload (legacy only).
    pub iv: Option<Vec<u8>>,
    /// The encrypted payload; `None` for a key-transport element (no message, only keys).
    pub payload: Option<Vec<u8>>,
}

impl Encrypted {
    /// The `<encrypted/>` of a message, in either flavour.
    pub fn of(message: &Element) -> Option<Encrypted> {
        [Flavour::V2, Flavour::Legacy]
            .into_iter()
            .find_map(|f| message.child("encrypted", f.ns()))
            .and_then(|e| Encrypted::from_element(&e))
    }

    /// Reads an `<encrypted/>`; keys that are not base64 or have no valid `rid` are skipped.
    pub fn from_element(e: &Element) -> Option<Encrypted> {
        let flavour = Flavour::of_ns(e.ns()).filter(|_| e.name() == "encrypted")?;
        let ns = flavour.ns();
        let header = e.child("header", ns)?;
        let key = |k: &Element, jid: Option<&str>| -> Option<MessageKey> {
            let flag = |name: &str| k.attr(name).is_some_and(|v| v == "true" || v == "1");
            Some(MessageKey {
                jid: jid.map(str::to_owned),
                rid: device_id(&k.attr("rid")?)?,
                key_exchange: flag("prekey") || flag("kex"),
                data: decode_base64(&k.text())?,
            })
        };
        let keys = match flavour {
            Flavour::Legacy => header.children().filter(|k| k.is("key", ns)).filter_map(|k| key(&k, None)).collect(),
            Flavour::V2 => header
                .children()
                .filter(|g| g.is("keys", ns))
                .flat_map(|g| {
                    let jid = g.attr("jid").map(Cow::into_owned);
                    g.children().filter(|k| k.is("key", ns)).filter_map(|k| key(&k, jid.as_deref())).collect::<Vec<_>>()
                })
                .collect(),
        };
        Some(Encrypted {
            flavour,
            sid: device_id(&header.attr("sid")?)?,
            keys,
            iv: header.child("iv", ns).and_then(|iv| decode_base64(&iv.text())),
            payload: e.child("payload", ns).and_then(|p| decode_base64(&p.text())),
        })
    }

    /// The key for our device: `jid` our bare JID (compared in version 2 only), `rid` our device id. `None`: the
    /// message was not encrypted for this device (§ "Receiving a message": tell the user).
    pub fn key_for(&self, jid: &str, rid: u32) -> Option<&MessageKey> {
        self.keys.iter().find(|k| k.rid == rid && k.jid.as_deref().is_none_or(|j| j == jid))
    }

    /// The element. Legacy keys carry `prekey='true'`, version-2 keys `kex='true'`, grouped by JID in
    /// first-seen order.
    ///
    /// ```
    /// use moxl_xep::xep_0384_omemo::{Encrypted, Flavour, MessageKey};
    /// let e = Encrypted::new(Flavour::Legacy, 27183, vec![MessageKey::new(None, 31415, false, vec![1])], Some(vec![2]), Some(vec![3]));
    /// assert_eq!(e.to_element().build()?.to_xml(), "<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='27183'>\
    ///     <key rid='31415'>AQ==</key><iv>Ag==</iv></header><payload>Aw==</payload></encrypted>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_element(&self) -> ElementBuilder {
        let ns = self.flavour.ns();
        let key = |k: &MessageKey| {
            let flag = match self.flavour {
                Flavour::Legacy => "prekey",
                Flavour::V2 => "kex",
            };
            ElementBuilder::new("key", ns)
                .attr_opt(flag, k.key_exchange.then(|| "true".to_owned()))
                .attr("rid", k.rid.to_string())
                .text(encode_base64(&k.data))
        };
        let mut header = ElementBuilder::new("header", ns).attr("sid", self.sid.to_string());
        match self.flavour {
            Flavour::Legacy => {
                for k in &self.keys {
                    header = header.append(key(k));
                }
            }
            Flavour::V2 => {
                let mut jids: Vec<Option<&str>> = Vec::new();
                for k in &self.keys {
                    if !jids.contains(&k.jid.as_deref()) {
                        jids.push(k.jid.as_deref());
                    }
                }
                for jid in jids {
                    let group = self
                        .keys
                        .iter()
                        .filter(|k| k.jid.as_deref() == jid)
                        .fold(ElementBuilder::new("keys", ns).attr_opt("jid", jid.map(str::to_owned)), |g, k| {
                            g.append(key(k))
                        });
                    header = header.append(group);
                }
            }
        }
        if let Some(iv) = &self.iv {
            header = header.append(ElementBuilder::new("iv", ns).text(encode_base64(iv)));
        }
        let e = ElementBuilder::new("encrypted", ns).append(header);
        match &self.payload {
            Some(p) => e.append(ElementBuilder::new("payload", ns).text(encode_base64(p))),
            None => e,
        }
    }

    /// An element from its parts.
    pub fn new(
        flavour: Flavour,
        sid: u32,
        keys: Vec<MessageKey>,
        iv: Option<Vec<u8>>,
        payload: Option<Vec<u8>>,
    ) -> Encrypted {
        Encrypted { flavour, sid, keys, iv, payload }
    }
}

impl MessageKey {
    /// A key for device `rid` (of `jid`, in version 2).
    pub fn new(jid: Option<String>, rid: u32, key_exchange: bool, data: Vec<u8>) -> MessageKey {
        MessageKey { jid, rid, key_exchange, data }
    }
}

/// The publish-options of our device list (§ "Announcing support": access model `open`, RECOMMENDED).
///
/// ```
/// assert_eq!(moxl_xep::xep_0384_omemo::devices_options().value("pubsub#access_model"), Some("open"));
/// ```
pub fn devices_options() -> DataForm {
    pubsub::publish_options().with_value("pubsub#access_model", "open")
}

/// The publish-options of our bundle: open, and for version 2's shared node, as many items as allowed (MUST).
///
/// ```
/// use moxl_xep::xep_0384_omemo::{bundle_options, Flavour};
/// assert_eq!(bundle_options(Flavour::V2).value("pubsub#max_items"), Some("max"));
/// assert_eq!(bundle_options(Flavour::Legacy).value("pubsub#max_items"), None);
/// ```
pub fn bundle_options(flavour: Flavour) -> DataForm {
    let open = devices_options();
    match flavour {
        Flavour::Legacy => open,
        Flavour::V2 => open.with_value("pubsub#max_items", "max"),
    }
}

/// Publishes our account's device list (item `current`, access `open`). Its `Output` is the [`Published`]
/// item.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `omemo_publishdevices_handle` | [`Published`] |
/// | error | `omemo_publishdevices_error<condition>` | the [`StanzaError`] |
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublishDevices {
    list: DeviceList,
}

impl PublishDevices {
    /// Publishes `list`, which must include every device of ours that should stay reachable.
    pub fn new(list: DeviceList) -> PublishDevices {
        PublishDevices { list }
    }
}

#[action(group = "omemo")]
impl PublishDevices {
    /// The published item.
    type Output = Published;

    fn request(&self) -> ElementBuilder {
        let node = self.list.flavour.devices_node();
        pubsub::publish_with_options(None, node, Some("current"), self.list.to_element(), &devices_options())
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<Published> {
        Ok(Published::from_result(stanza).unwrap_or_else(|| Published {
            node: self.list.flavour.devices_node().to_owned(),
            id: Some("current".to_owned()),
        }))
    }
}

/// Publishes our device's bundle. A service that refuses `pubsub#max_items` in the form (ejabberd 23.01) gets
/// the publish again with the access model alone, then the node's limit raised by configuring it (XEP-0060
/// §8.2), as § "Bundles" asks. Its `Output` is the [`Published`] item.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `omemo_publishbundle_handle` | [`Published`] |
/// | error | `omemo_publishbundle_error<condition>` | the [`StanzaError`] |
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublishBundle {
    bundle: Bundle,
    #[serde(default)]
    step: PublishStep,
}

/// The requests of a [`PublishBundle`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
enum PublishStep {
    #[default]
    Publish,
    PublishOpen,
    RaiseLimit,
}

impl PublishBundle {
    /// Publishes `bundle` (its device and flavour say where).
    pub fn new(bundle: Bundle) -> PublishBundle {
        PublishBundle { bundle, step: PublishStep::Publish }
    }

    fn next(&self, step: PublishStep) -> PublishBundle {
        PublishBundle { bundle: self.bundle.clone(), step }
    }

    /// The request this Action sends.
    ///
    /// ```
    /// use moxl_xep::xep_0384_omemo::{Bundle, Flavour, PublishBundle};
    /// # let e = moxl_core::xml::Element::parse("<bundle xmlns='urn:xmpp:omemo:2'><spk id='0'>AQI=</spk><spks>AwQ=</spks><ik>BQY=</ik><prekeys><pk id='0'>Bw==</pk></prekeys></bundle>")?;
    /// let bundle = Bundle::from_element(31415, &e).unwrap();
    /// let iq = PublishBundle::new(bundle).request_stanza().build()?.to_xml();
    /// assert!(iq.contains("<publish node='urn:xmpp:omemo:2:bundles'><item id='31415'><bundle xmlns='urn:xmpp:omemo:2'>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn request_stanza(&self) -> ElementBuilder {
        let (flavour, device) = (self.bundle.flavour, self.bundle.device);
        let node = flavour.bundle_node(device);
        let publish = |options: &DataForm| {
            pubsub::publish_with_options(
                None,
                &node,
                Some(&flavour.bundle_item(device)),
                self.bundle.to_element(),
                options,
            )
        };
        match self.step {
            PublishStep::Publish => publish(&bundle_options(flavour)),
            PublishStep::PublishOpen => publish(&devices_options()),
            PublishStep::RaiseLimit => pubsub::configure_node(None, &node, &pubsub::max_items_config()),
        }
    }
}

#[action(group = "omemo")]
impl PublishBundle {
    /// The published item.
    type Output = Published;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) -> Result<Published> {
        if self.step == PublishStep::PublishOpen && self.bundle.flavour == Flavour::V2 {
            ctx.continue_with(self.next(PublishStep::RaiseLimit))?;
        }
        let (flavour, device) = (self.bundle.flavour, self.bundle.device);
        Ok(Published { node: flavour.bundle_node(device), id: Some(flavour.bundle_item(device)) })
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) -> Result<()> {
        if self.step == PublishStep::Publish && self.bundle.flavour == Flavour::V2 && pubsub::is_options_refused(error)
        {
            return ctx.continue_with(self.next(PublishStep::PublishOpen));
        }
        moxl_core::__private::unhandled_error(ctx, error)
    }
}

/// Fetches an account's device list. Its `Output` is the [`DeviceList`]; an account without one answers
/// `item-not-found`, the request's error.
///
/// ```
/// use moxl_xep::xep_0384_omemo::{Flavour, GetDevices};
/// # async fn run(ctx: &moxl_core::xec::Context) -> moxl_core::Result<()> {
/// let devices = ctx.request(GetDevices::new("romeo@montague.lit", Flavour::Legacy))?.await?;
/// println!("{:?}", devices.ids());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetDevices {
    jid: String,
    flavour: Flavour,
}

impl GetDevices {
    /// The device list of `jid` (a bare JID).
    pub fn new(jid: impl Into<String>, flavour: Flavour) -> GetDevices {
        GetDevices { jid: jid.into(), flavour }
    }
}

#[action(group = "omemo")]
impl GetDevices {
    /// The list (empty when the item holds none).
    type Output = DeviceList;

    fn request(&self) -> ElementBuilder {
        pubsub::items_by_id(Some(&self.jid), self.flavour.devices_node(), ["current"])
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<DeviceList> {
        Ok(Item::all_in(stanza)
            .iter()
            .filter_map(|i| i.payload.as_ref().and_then(DeviceList::from_element))
            .find(|l| l.flavour == self.flavour)
            .unwrap_or_else(|| DeviceList::new(self.flavour, [])))
    }
}

/// Fetches a device's bundle (§ "Building a session"). Its `Output` is the [`Bundle`]; a missing or invalid
/// one is the request's error (`item-not-found`, or a handler error naming it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetBundle {
    jid: String,
    flavour: Flavour,
    device: u32,
}

impl GetBundle {
    /// The bundle of `jid`'s `device`.
    pub fn new(jid: impl Into<String>, flavour: Flavour, device: u32) -> GetBundle {
        GetBundle { jid: jid.into(), flavour, device }
    }
}

#[action(group = "omemo")]
impl GetBundle {
    /// The bundle.
    type Output = Bundle;

    fn request(&self) -> ElementBuilder {
        let node = self.flavour.bundle_node(self.device);
        pubsub::items_by_id(Some(&self.jid), &node, [self.flavour.bundle_item(self.device)])
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<Bundle> {
        let node = self.flavour.bundle_node(self.device);
        Item::all_in(stanza)
            .iter()
            .filter_map(|i| Bundle::from_item(&node, i))
            .find(|b| b.device == self.device)
            .ok_or_else(|| {
                moxl_core::Error::handler(format!("no valid bundle for device {} of {}", self.device, self.jid))
            })
    }
}

/// A device list notified by the server (ours or a contact's).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeviceListUpdate {
    /// Whose list (the notification's sender, a bare JID).
    pub jid: String,
    /// The list.
    pub list: DeviceList,
}

/// Delivers each legacy device-list notification as a [`DeviceListUpdate`] (Packet key `omemodevicelist`;
/// version 2's come from [`DeviceListEvents2`]).
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0384_omemo::DeviceListUpdate;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// # block_on(async {
/// let xec = Xec::new()?;
/// let mut updates = xec.events::<DeviceListUpdate>();
/// xec.dispatch(Element::parse("<message xmlns='jabber:client' from='juliet@capulet.lit' to='romeo@montague.lit' type='headline'>\
///     <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='eu.siacs.conversations.axolotl.devicelist'>\
///     <item id='current'><list xmlns='eu.siacs.conversations.axolotl'><device id='12345'/><device id='4223'/></list></item>\
///     </items></event></message>")?).await;
/// let u = updates.try_recv().unwrap();
/// assert_eq!((u.jid.as_str(), u.list.ids()), ("juliet@capulet.lit", vec![12345, 4223]));
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(
    name = "event",
    ns = "http://jabber.org/protocol/pubsub#event",
    node = "eu.siacs.conversations.axolotl.devicelist",
    key = "omemodevicelist",
    at = "child"
)]
#[derive(Debug, Default)]
pub struct DeviceListEvents;

impl Payload for DeviceListEvents {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<DeviceListUpdate>()
    }

    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        deliver_device_lists(ctx, stanza);
        Ok(())
    }
}

/// The same for version 2's node, under the Packet key `omemo2devicelist` (the typed view,
/// `events::<DeviceListUpdate>()`, gets both).
#[payload(
    name = "event",
    ns = "http://jabber.org/protocol/pubsub#event",
    node = "urn:xmpp:omemo:2:devices",
    key = "omemo2devicelist",
    at = "child"
)]
#[derive(Debug, Default)]
pub struct DeviceListEvents2;

impl Payload for DeviceListEvents2 {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<DeviceListUpdate>()
    }

    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        deliver_device_lists(ctx, stanza);
        Ok(())
    }
}

/// Delivers the device lists of a PEP notification; the sender is the list's owner (XEP-0163 §4.3.1: our own
/// server sends from the owner's bare JID, or without `from` for our own account).
fn deliver_device_lists(ctx: &Context, stanza: &Element) {
    let Some(event) = Event::from_message(stanza) else { return };
    let owner = match event.from.as_deref() {
        Some(from) => match Jid::new(from) {
            Ok(j) if j.resource().is_none() => j.to_string(),
            _ => return,
        },
        None => match ctx.account() {
            Some(a) => a.to_string(),
            None => return,
        },
    };
    if let EventKind::Items { items, .. } = &event.kind {
        for list in items.iter().filter_map(|i| i.payload.as_ref().and_then(DeviceList::from_element)) {
            if list.flavour.devices_node() == event.node {
                ctx.pack(DeviceListUpdate { jid: owner.clone(), list }).deliver();
            }
        }
    }
}

/// An OMEMO-encrypted message received.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EncryptedMessage {
    /// The sender (full JID, or a room occupant).
    pub from: Option<String>,
    /// The message's `id`.
    pub id: Option<String>,
    /// The message type.
    pub kind: Option<String>,
    /// The `<encrypted/>`.
    pub encrypted: Encrypted,
}

/// Delivers each top-level message carrying a legacy `<encrypted/>` as an [`EncryptedMessage`] (Packet key
/// `omemoencrypted`; version 2's come from [`EncryptedMessages2`] as `omemo2encrypted`, and
/// `events::<EncryptedMessage>()` gets both). Carbons and archives carry their own copies and are left to their
/// modules.
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) {
/// let mut encrypted = xec.events::<moxl_xep::xep_0384_omemo::EncryptedMessage>();
/// while let Some(m) = encrypted.recv().await {
///     println!("from {:?}: {} key(s)", m.from, m.encrypted.keys.len());
/// }
/// # }
/// ```
#[payload(name = "encrypted", ns = "eu.siacs.conversations.axolotl", key = "omemoencrypted", at = "child")]
#[derive(Debug, Default)]
pub struct EncryptedMessages;

impl Payload for EncryptedMessages {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<EncryptedMessage>()
    }

    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        deliver_encrypted(ctx, element, stanza);
        Ok(())
    }
}

/// The same for version 2 (Packet key `omemo2encrypted`).
#[payload(name = "encrypted", ns = "urn:xmpp:omemo:2", key = "omemo2encrypted", at = "child")]
#[derive(Debug, Default)]
pub struct EncryptedMessages2;

impl Payload for EncryptedMessages2 {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<EncryptedMessage>()
    }

    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        deliver_encrypted(ctx, element, stanza);
        Ok(())
    }
}

/// Delivers the `<encrypted/>` child of a message (not of an error).
fn deliver_encrypted(ctx: &Context, element: &Element, stanza: &Element) {
    if !crate::rfc6121_message::is_extension_of(element, stanza) {
        return;
    }
    if let Some(encrypted) = Encrypted::from_element(element) {
        let attr = |n: &str| stanza.attr(n).map(Cow::into_owned);
        ctx.pack(EncryptedMessage { from: attr("from"), id: attr("id"), kind: attr("type"), encrypted }).deliver();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    #[test]
    fn legacy_bundles_and_messages_round_trip_and_bad_parts_are_skipped() {
        // XEP-0384 0.3, Example 3 (abridged keys)
        let e = Element::parse(
            "<bundle xmlns='eu.siacs.conversations.axolotl'>\
             <signedPreKeyPublic signedPreKeyId='1'>AQ==</signedPreKeyPublic><signedPreKeySignature>Ag==</signedPreKeySignature>\
             <identityKey>Aw==</identityKey><prekeys><preKeyPublic preKeyId='1'>BA==</preKeyPublic>\
             <preKeyPublic preKeyId='x'>BQ==</preKeyPublic><preKeyPublic preKeyId='3'>!!</preKeyPublic></prekeys></bundle>",
        )
        .unwrap();
        let b = Bundle::from_element(31415, &e).unwrap();
        assert_eq!((b.signed_prekey_id, b.prekeys.clone()), (1, vec![(1, vec![4])]));
        assert_eq!(Bundle::from_element(31415, &b.to_element().build().unwrap()), Some(b.clone()));
        let iq = PublishBundle::new(b).request_stanza().build().unwrap().to_xml();
        assert!(
            iq.contains("<publish node='eu.siacs.conversations.axolotl.bundles:31415'><item id='current'>"),
            "{iq}"
        );
        // no prekey at all: not a usable bundle
        let empty = Element::parse(
            "<bundle xmlns='eu.siacs.conversations.axolotl'><signedPreKeyPublic signedPreKeyId='1'>AQ==</signedPreKeyPublic>\
             <signedPreKeySignature>Ag==</signedPreKeySignature><identityKey>Aw==</identityKey><prekeys/></bundle>",
        )
        .unwrap();
        assert_eq!(Bundle::from_element(1, &empty), None);

        let m = Element::parse(
            "<message xmlns='jabber:client' to='juliet@capulet.lit' from='romeo@montague.lit' id='send1'>\
             <encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='27183'><key rid='31415'>AQ==</key>\
             <key prekey='true' rid='12321'>Ag==</key><key rid='0'>Aw==</key><iv>BA==</iv></header>\
             <payload>BQ==</payload></encrypted></message>",
        )
        .unwrap();
        let e = Encrypted::of(&m).unwrap();
        assert_eq!(e.keys.len(), 2, "rid 0 is not a device id");
        assert!(e.key_for("anyone", 12321).unwrap().key_exchange);
        assert_eq!(Encrypted::from_element(&e.to_element().build().unwrap()), Some(e));
    }

    #[test]
    fn device_lists_are_delivered_from_their_owner_and_encrypted_messages_typed() {
        let xec = Xec::builder().account("romeo@montague.lit".parse().unwrap()).build().unwrap();
        let (mut updates, mut encrypted) = (xec.events::<DeviceListUpdate>(), xec.events::<EncryptedMessage>());
        let event = |from: &str| {
            format!(
                "<message xmlns='jabber:client' {from} type='headline'><event xmlns='http://jabber.org/protocol/pubsub#event'>\
                 <items node='urn:xmpp:omemo:2:devices'><item id='current'><devices xmlns='urn:xmpp:omemo:2'>\
                 <device id='12345' label='Phone'/><device id='0'/></devices></item></items></event></message>"
            )
        };
        block_on(xec.dispatch(Element::parse(&event("from='juliet@capulet.lit'")).unwrap()));
        let u = updates.try_recv().unwrap();
        assert_eq!((u.jid.as_str(), u.list.ids()), ("juliet@capulet.lit", vec![12345]));
        assert_eq!(u.list.devices[0].label.as_deref(), Some("Phone"));
        // our own list (no from), and a full JID that cannot own a PEP node
        block_on(xec.dispatch(Element::parse(&event("")).unwrap()));
        assert_eq!(updates.try_recv().unwrap().jid, "romeo@montague.lit");
        block_on(xec.dispatch(Element::parse(&event("from='mallory@evil.example/x'")).unwrap()));
        assert!(updates.try_recv().is_none());

        let keys = vec![MessageKey::new(Some("romeo@montague.lit".into()), 1337, true, vec![9])];
        let body = Encrypted::new(Flavour::V2, 27183, keys, None, Some(vec![1, 2]));
        let m = moxl_core::stanza::message("romeo@montague.lit", "chat", None)
            .attr("from", "juliet@capulet.lit/balcony")
            .append(body.to_element())
            .build()
            .unwrap();
        block_on(xec.dispatch(m));
        let got = encrypted.try_recv().unwrap();
        assert_eq!(got.encrypted, body);
        assert_eq!(got.from.as_deref(), Some("juliet@capulet.lit/balcony"));
    }
}
