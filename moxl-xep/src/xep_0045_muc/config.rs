//! Room configuration through data forms (§10.1 creation, §10.2 configuration).

use moxl_core::action;
use moxl_core::stanza::iq_set;
use moxl_core::xec::Context;
use moxl_core::xml::{Element, ElementBuilder};
use serde::{Deserialize, Serialize};

use super::NS_OWNER;
use super::stanza::config_get;
use crate::xep_0004_data_forms::{DataForm, FormType};

/// Submits a configuration form (§10.2, Example 165), or an empty one to accept the defaults (an instant room,
/// §10.1.2), or a `cancel` form (§10.1.3).
///
/// ```
/// use moxl_xep::xep_0004_data_forms::{DataForm, FormType};
/// // §10.1.2, Example 155
/// assert_eq!(
///     moxl_xep::xep_0045_muc::config_submit("coven@chat.shakespeare.lit", &DataForm::new(FormType::Submit)).build()?.to_xml(),
///     "<iq xmlns='jabber:client' type='set' to='coven@chat.shakespeare.lit'><query xmlns='http://jabber.org/protocol/muc#owner'>\
///      <x xmlns='jabber:x:data' type='submit'/></query></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn config_submit(room: &str, form: &DataForm) -> ElementBuilder {
    iq_set(Some(room)).append(ElementBuilder::new("query", NS_OWNER).append(form.to_element()))
}

/// A room's configuration form (§10.2, Example 164): fields such as `muc#roomconfig_roomname`,
/// `muc#roomconfig_passwordprotectedroom`, `muc#roomconfig_roomsecret`, `muc#roomconfig_membersonly` (§15.5.3).
///
/// ```
/// use moxl_xep::xep_0004_data_forms::{DataForm, FormType};
/// let c = moxl_xep::xep_0045_muc::RoomConfig { room: "coven@chat.shakespeare.lit".into(), form: DataForm::new(FormType::Form) };
/// assert!(c.form.fields.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomConfig {
    /// The room.
    pub room: String,
    /// The form.
    pub form: DataForm,
}

/// Gets the configuration form of a room we own (§10.2; for a new reserved room, §10.1.3).
///
/// | outcome | Packet key | content |
/// |---|---|---|
/// | the form | `muc_getconfig_handle` | [`RoomConfig`] |
/// | not the owner (§10.2) | `muc_getconfig_errorforbidden` | `StanzaError` |
/// | other errors | `muc_getconfig_error<condition>` | `StanzaError` |
///
/// ```
/// use moxl_xep::xep_0045_muc::GetConfig;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let config = xec.context().request(GetConfig::new("coven@chat.shakespeare.lit"))?.await?;
/// let submission = config.form.submission().with_bool("muc#roomconfig_membersonly", true);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetConfig {
    room: String,
}

impl GetConfig {
    /// The form of `room`.
    ///
    /// ```
    /// let g = moxl_xep::xep_0045_muc::GetConfig::new("coven@chat.shakespeare.lit");
    /// # let _ = g;
    /// ```
    pub fn new(room: impl Into<String>) -> GetConfig {
        GetConfig { room: room.into() }
    }
}

#[action(group = "muc")]
impl GetConfig {
    /// The room's configuration form.
    type Output = RoomConfig;

    fn request(&self) -> ElementBuilder {
        config_get(&self.room)
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> moxl_core::Result<RoomConfig> {
        let form = stanza.child("query", NS_OWNER).and_then(|q| DataForm::find_in(&q));
        match form {
            Some(form) => Ok(RoomConfig { room: self.room.clone(), form }),
            None => Err(moxl_core::Error::handler("the configuration answer holds no form (XEP-0045 §10.2)")),
        }
    }
}

/// Submits a room configuration (§10.2), accepts the defaults of a new room ([`instant`](Self::instant),
/// §10.1.2) or cancels the creation of a reserved room ([`cancel`](Self::cancel), §10.1.3).
///
/// | outcome | Packet key | content |
/// |---|---|---|
/// | accepted | `muc_configure_handle` | the room, a `String` |
/// | a bad value (§10.2) | `muc_configure_errornotacceptable` | `StanzaError` |
/// | not the owner | `muc_configure_errorforbidden` | `StanzaError` |
/// | other errors | `muc_configure_error<condition>` | `StanzaError` |
///
/// ```
/// use moxl_xep::xep_0045_muc::{Configure, RoomConfig};
/// # async fn run(xec: &moxl_core::xec::Xec, received: &RoomConfig) -> moxl_core::Result<()> {
/// // a reserved room (§10.1.3): fill in the form received with GetConfig
/// let form = received.form.submission().with_value("muc#roomconfig_roomname", "A Dark Cave").with_bool("muc#roomconfig_membersonly", true);
/// xec.context().request(Configure::new(received.room.clone(), form))?.await?;
/// // an instant room (§10.1.2)
/// xec.context().request(Configure::instant("coven@chat.shakespeare.lit"))?.await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Configure {
    room: String,
    form: DataForm,
}

impl Configure {
    /// Submits `form` (a `submit` form, e.g. [`DataForm::submission`] of the form received).
    ///
    /// ```
    /// let c = moxl_xep::xep_0045_muc::Configure::new("a@b", moxl_xep::xep_0004_data_forms::DataForm::submit(None));
    /// # let _ = c;
    /// ```
    pub fn new(room: impl Into<String>, form: DataForm) -> Configure {
        Configure { room: room.into(), form }
    }

    /// Accepts the default configuration of a room we just created (an empty submission, §10.1.2).
    ///
    /// ```
    /// let c = moxl_xep::xep_0045_muc::Configure::instant("coven@chat.shakespeare.lit");
    /// # let _ = c;
    /// ```
    pub fn instant(room: impl Into<String>) -> Configure {
        Configure::new(room, DataForm::new(FormType::Submit))
    }

    /// Cancels the configuration of a new reserved room, which the service then destroys (§10.1.3).
    ///
    /// ```
    /// let c = moxl_xep::xep_0045_muc::Configure::cancel("coven@chat.shakespeare.lit");
    /// # let _ = c;
    /// ```
    pub fn cancel(room: impl Into<String>) -> Configure {
        Configure::new(room, DataForm::new(FormType::Cancel))
    }
}

#[action(group = "muc")]
impl Configure {
    /// The room configured.
    type Output = String;

    fn request(&self) -> ElementBuilder {
        config_submit(&self.room, &self.form)
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) -> moxl_core::Result<String> {
        Ok(self.room.clone())
    }
}
