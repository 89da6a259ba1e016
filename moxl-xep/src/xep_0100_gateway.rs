//! XEP-0100: Gateway Interaction, the `jabber:iq:gateway` protocol (§6.3): ask a gateway how to enter a legacy
//! address ([`GetPrompt`] → [`Prompt`]), and have it translate one into a JID ([`Translate`]).
//!
//! Registering with a gateway (§4.1.1) is XEP-0077 with `to` the gateway: see
//! [`xep_0077_register`](crate::xep_0077_register). The client offers no gateway, so this module declares no
//! disco feature.

use moxl_core::action;
use moxl_core::stanza::{StanzaError, iq_get, iq_set};
use moxl_core::xec::Context;
use moxl_core::xml::{Element, ElementBuilder};
use serde::{Deserialize, Serialize};

/// `jabber:iq:gateway` (§6.3).
///
/// ```
/// assert_eq!(moxl_xep::xep_0100_gateway::NS, "jabber:iq:gateway");
/// ```
pub const NS: &str = "jabber:iq:gateway";

/// The request for the gateway's prompt (§6.3).
///
/// ```
/// let iq = moxl_xep::xep_0100_gateway::prompt_request("aim.shakespeare.lit").attr("id", "gate1").build()?;
/// assert_eq!(iq.to_xml(), "<iq xmlns='jabber:client' type='get' to='aim.shakespeare.lit' id='gate1'><query xmlns='jabber:iq:gateway'/></iq>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn prompt_request(gateway: &str) -> ElementBuilder {
    iq_get(Some(gateway)).append(ElementBuilder::new("query", NS))
}

/// The request translating a legacy address into a JID (§6.3).
///
/// ```
/// let iq = moxl_xep::xep_0100_gateway::translate("aim.shakespeare.lit", "Foo Bar").attr("id", "gate2").build()?;
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='set' to='aim.shakespeare.lit' id='gate2'><query xmlns='jabber:iq:gateway'><prompt>Foo Bar</prompt></query></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn translate(gateway: &str, legacy_address: &str) -> ElementBuilder {
    iq_set(Some(gateway)).append(
        ElementBuilder::new("query", NS).append(ElementBuilder::new("prompt", NS).text(legacy_address.to_owned())),
    )
}

/// How to enter a legacy address: the gateway's description and the prompt's label (§6.3).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0100_gateway::Prompt;
/// let iq = Element::parse("<iq xmlns='jabber:client' type='result' from='aim.shakespeare.lit' id='gate1'>\
///     <query xmlns='jabber:iq:gateway'><desc>Please enter the AOL Screen Name of the person you would like to contact.</desc>\
///     <prompt>Contact ID</prompt></query></iq>")?;
/// let prompt = Prompt::from_stanza(&iq).unwrap();
/// assert_eq!(prompt.prompt, "Contact ID");
/// assert!(prompt.desc.unwrap().starts_with("Please enter"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    /// What to enter, in a sentence.
    pub desc: Option<String>,
    /// The label of the entry field.
    pub prompt: String,
}

impl Prompt {
    /// Reads the `<query/>` of a result; `None` without a `<prompt/>`.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let iq = Element::parse("<iq xmlns='jabber:client' type='result' id='g'><query xmlns='jabber:iq:gateway'/></iq>")?;
    /// assert!(moxl_xep::xep_0100_gateway::Prompt::from_stanza(&iq).is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_stanza(stanza: &Element) -> Option<Prompt> {
        let query = stanza.child("query", NS)?;
        Some(Prompt { desc: query.child_text("desc", NS), prompt: query.child_text("prompt", NS)? })
    }
}

/// The JID of a translation result (§6.3): `<jid/>`, or `<prompt/>` as older gateways answer.
/// `None` when neither holds text.
///
/// ```
/// use moxl_core::xml::Element;
/// let iq = Element::parse("<iq xmlns='jabber:client' type='result' from='aim.shakespeare.lit' id='gate2'>\
///     <query xmlns='jabber:iq:gateway'><jid>foobar@aim.shakespeare.lit</jid></query></iq>")?;
/// assert_eq!(moxl_xep::xep_0100_gateway::translated_jid(&iq).as_deref(), Some("foobar@aim.shakespeare.lit"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn translated_jid(stanza: &Element) -> Option<String> {
    let query = stanza.child("query", NS)?;
    query
        .child_text("jid", NS)
        .or_else(|| query.child_text("prompt", NS))
        .map(|j| j.trim().to_owned())
        .filter(|j| !j.is_empty())
}

/// Asks a gateway for its prompt (§6.3). Output: the [`Prompt`]; an error (`service-unavailable`: no such
/// protocol) is `Err(Error::Stanza(..))`, a result without a prompt a handler error (`Err(Error::Handler(..))`). The Packets are the
/// second view:
///
/// | answer | Packet key |
/// |---|---|
/// | the prompt | `gateway_getprompt_handle` ([`Prompt`]) |
/// | an error (`service-unavailable`: no such protocol), or no prompt | `gateway_getprompt_error` ([`StanzaError`]) |
///
/// ```
/// use moxl_xep::xep_0100_gateway::GetPrompt;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let prompt = xec.context().request(GetPrompt { gateway: "aim.shakespeare.lit".into() })?.await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetPrompt {
    /// The gateway.
    pub gateway: String,
}

#[action(group = "gateway")]
impl GetPrompt {
    /// The gateway's prompt.
    type Output = Prompt;

    fn request(&self) -> ElementBuilder {
        prompt_request(&self.gateway)
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> moxl_core::Result<Prompt> {
        Prompt::from_stanza(stanza).ok_or_else(|| {
            ctx.__method("error").pack(no_answer("prompt")).deliver();
            moxl_core::Error::handler("the gateway's result holds no prompt (XEP-0100 §6.3)")
        })
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Translates a legacy address into a JID through a gateway (§6.3). Output: the JID (a `String`); an error is
/// `Err(Error::Stanza(..))`, a result without a JID a handler error. The Packets are the second view:
///
/// | answer | Packet key |
/// |---|---|
/// | the JID | `gateway_translate_handle` (`String`) |
/// | an error, or no JID | `gateway_translate_error` ([`StanzaError`]) |
///
/// ```
/// use moxl_xep::xep_0100_gateway::Translate;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let jid = xec.context().request(Translate { gateway: "aim.shakespeare.lit".into(), address: "Foo Bar".into() })?.await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Translate {
    /// The gateway.
    pub gateway: String,
    /// The legacy address.
    pub address: String,
}

#[action(group = "gateway")]
impl Translate {
    /// The JID of the legacy address.
    type Output = String;

    fn request(&self) -> ElementBuilder {
        translate(&self.gateway, &self.address)
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> moxl_core::Result<String> {
        translated_jid(stanza).ok_or_else(|| {
            ctx.__method("error").pack(no_answer("jid")).deliver();
            moxl_core::Error::handler("the gateway's result holds no JID (XEP-0100 §6.3)")
        })
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

fn no_answer(what: &str) -> StanzaError {
    StanzaError::new(moxl_core::stanza::Condition::UndefinedCondition)
        .with_text(format!("the gateway's result holds no {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{answer_last, block_on};
    use moxl_core::xec::Xec;

    #[test]
    fn prompt_and_translation_from_the_spec_examples() {
        let xec = Xec::new().unwrap();
        let mut prompts = xec.subscribe("gateway_getprompt_handle");
        let mut jids = xec.subscribe("gateway_translate_handle");
        let mut errors = xec.subscribe("gateway_translate_error");
        let typed = xec.context().request(GetPrompt { gateway: "aim.shakespeare.lit".into() }).unwrap();
        let reply = "<iq xmlns='jabber:client' type='result' from='aim.shakespeare.lit' id='ID'><query xmlns='jabber:iq:gateway'>\
            <desc>Please enter the AOL Screen Name of the person you would like to contact.</desc><prompt>Contact ID</prompt></query></iq>";
        block_on(xec.dispatch(answer_last(&xec, reply)));
        assert_eq!(block_on(typed).unwrap().prompt, "Contact ID");
        assert_eq!(prompts.try_recv().unwrap().content::<Prompt>().map(|p| p.prompt.as_str()), Some("Contact ID"));
        xec.context().request(Translate { gateway: "aim.shakespeare.lit".into(), address: "Foo Bar".into() }).unwrap();
        let out = xec.take_outgoing();
        assert_eq!(out[0].child("query", NS).unwrap().child_text("prompt", NS).as_deref(), Some("Foo Bar"));
        let id = out[0].attr("id").unwrap().into_owned();
        let reply = format!(
            "<iq xmlns='jabber:client' type='result' from='aim.shakespeare.lit' id='{id}'>\
            <query xmlns='jabber:iq:gateway'><jid>foobar@aim.shakespeare.lit</jid></query></iq>"
        );
        block_on(xec.dispatch(Element::parse(&reply).unwrap()));
        assert_eq!(
            jids.try_recv().unwrap().content::<String>().map(String::as_str),
            Some("foobar@aim.shakespeare.lit")
        );
        // an empty answer is an error, not an empty JID
        let out =
            xec.context().request(Translate { gateway: "aim.shakespeare.lit".into(), address: "x".into() }).unwrap();
        let empty = "<iq xmlns='jabber:client' type='result' from='aim.shakespeare.lit' id='ID'><query xmlns='jabber:iq:gateway'><jid/></query></iq>";
        block_on(xec.dispatch(answer_last(&xec, empty)));
        assert!(jids.try_recv().is_none());
        assert!(errors.try_recv().unwrap().content::<StanzaError>().is_some());
        assert!(matches!(block_on(out), Err(moxl_core::Error::Handler(_))), "the typed view: the error");
    }
}
