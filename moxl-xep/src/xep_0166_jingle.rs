//! XEP-0166: Jingle (version 1.1.2, namespace `urn:xmpp:jingle:1`), the signaling core, sans I/O: the
//! `<jingle/>` element ([`Jingle`], its [`Action`]s of §7.2, [`Content`]s of §7.3 and [`Reason`] of §7.4), the
//! Jingle errors of §10 ([`JingleError`]), and a [`Session`] state machine (PENDING → ACTIVE → ENDED, §5.1)
//! that says, for each action received, whether the session's peer may send it now, and answers with the error
//! the spec asks for otherwise. Sessions are addressed by sid and peer ([`Sessions`]): a stranger using the sid
//! of someone else's session gets `<item-not-found/>` with `<unknown-session/>`.
//!
//! Descriptions, transports and security preconditions stay [`Element`]s, for the application format and
//! transport modules (XEP-0167, XEP-0176, XEP-0234, …) to read. Nothing here sends a stanza: the caller acks
//! each accepted request with [`iq_result`](moxl_core::stanza::iq_result), answers a refused one with
//! [`JingleError::reply`], and sends what [`Session`] builds with [`Jingle::iq`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use moxl_core::stanza::{Condition, ErrorType, StanzaError, iq_set};
use moxl_core::xml::{Element, ElementBuilder, ns};

mod client;
pub use client::{
    Acked, ApplicationFormat, JingleEvent, JingleRefused, JingleRequests, Set, accept, application_format, initiate,
    new_sid, send, session, session_info, sessions, terminate, transport_info,
};

/// `urn:xmpp:jingle:1` (§11.1).
///
/// ```
/// assert_eq!(moxl_xep::xep_0166_jingle::NS, "urn:xmpp:jingle:1");
/// ```
pub const NS: &str = "urn:xmpp:jingle:1";

/// `urn:xmpp:jingle:errors:1`, the namespace of the Jingle error conditions (§10).
///
/// ```
/// assert_eq!(moxl_xep::xep_0166_jingle::NS_ERRORS, "urn:xmpp:jingle:errors:1");
/// ```
pub const NS_ERRORS: &str = "urn:xmpp:jingle:errors:1";

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)*
                }
            }

            /// Reads a wire name; `None` for one the spec does not define.
            #[allow(clippy::should_implement_trait)]
            pub fn from_str(s: &str) -> Option<Self> {
                match s {
                    $($wire => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum! {
    /// The `action` attribute (§7.2).
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::Action;
    /// assert_eq!(Action::from_str("session-initiate"), Some(Action::SessionInitiate));
    /// assert_eq!(Action::TransportReplace.as_str(), "transport-replace");
    /// assert_eq!(Action::from_str("session-redirect"), None);
    /// ```
    Action {
        /// Accepts a content-add (§7.2.1).
        ContentAccept = "content-accept",
        /// Adds contents (§7.2.2).
        ContentAdd = "content-add",
        /// Changes a content's `senders` (§7.2.3).
        ContentModify = "content-modify",
        /// Rejects a content-add (§7.2.4).
        ContentReject = "content-reject",
        /// Removes contents (§7.2.5).
        ContentRemove = "content-remove",
        /// Application parameters (§7.2.6).
        DescriptionInfo = "description-info",
        /// Security preconditions (§7.2.7).
        SecurityInfo = "security-info",
        /// Definitive acceptance by the responder (§7.2.8).
        SessionAccept = "session-accept",
        /// Session-level information, or a ping when empty (§7.2.9, §6.8).
        SessionInfo = "session-info",
        /// A new session (§7.2.10).
        SessionInitiate = "session-initiate",
        /// The end (§7.2.11).
        SessionTerminate = "session-terminate",
        /// Accepts a transport-replace (§7.2.12).
        TransportAccept = "transport-accept",
        /// Transport candidates (§7.2.13).
        TransportInfo = "transport-info",
        /// Rejects a transport-replace (§7.2.14).
        TransportReject = "transport-reject",
        /// Replaces a content's transport (§7.2.15).
        TransportReplace = "transport-replace",
    }
}

wire_enum! {
    /// A party of a session: the `creator` of a content (§7.3), or our role in a [`Session`].
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::Role;
    /// assert_eq!(Role::from_str("responder"), Some(Role::Responder));
    /// assert_eq!(Role::Initiator.other(), Role::Responder);
    /// ```
    Role {
        /// The party that sent session-initiate.
        Initiator = "initiator",
        /// The other one.
        Responder = "responder",
    }
}

impl Role {
    /// The other party.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0166_jingle::Role::Responder.other(), moxl_xep::xep_0166_jingle::Role::Initiator);
    /// ```
    pub fn other(self) -> Role {
        match self {
            Role::Initiator => Role::Responder,
            Role::Responder => Role::Initiator,
        }
    }
}

wire_enum! {
    /// Who sends application data for a content, the `senders` attribute (§7.3; default `both`).
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::Senders;
    /// assert_eq!(Senders::from_str("none"), Some(Senders::None));
    /// assert_eq!(Senders::default(), Senders::Both);
    /// ```
    Senders {
        /// Both (SDP `sendrecv`).
        Both = "both",
        /// The initiator only (`sendonly` from the initiator's side).
        Initiator = "initiator",
        /// The responder only.
        Responder = "responder",
        /// Nobody (`inactive`).
        None = "none",
    }
}

// Not derivable: the enum comes from `wire_enum!`.
#[allow(clippy::derivable_impls)]
impl Default for Senders {
    fn default() -> Self {
        Senders::Both
    }
}

wire_enum! {
    /// The machine-readable condition of a `<reason/>` (§7.4).
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::ReasonCondition;
    /// assert_eq!(ReasonCondition::from_str("busy"), Some(ReasonCondition::Busy));
    /// assert_eq!(ReasonCondition::FailedTransport.as_str(), "failed-transport");
    /// ```
    ReasonCondition {
        /// Prefers an existing session, whose sid is in [`Reason::alternative_sid`].
        AlternativeSession = "alternative-session",
        /// Busy.
        Busy = "busy",
        /// The initiator cancels its request.
        Cancel = "cancel",
        /// Connectivity problems.
        ConnectivityError = "connectivity-error",
        /// Formally declined.
        Decline = "decline",
        /// A time limit was reached.
        Expired = "expired",
        /// The application could not start.
        FailedApplication = "failed-application",
        /// No connectivity over the transport.
        FailedTransport = "failed-transport",
        /// A non-specific error.
        GeneralError = "general-error",
        /// Going offline.
        Gone = "gone",
        /// Unsupported parameters.
        IncompatibleParameters = "incompatible-parameters",
        /// Media processing problems.
        MediaError = "media-error",
        /// A local security policy was violated.
        SecurityError = "security-error",
        /// The normal course of things.
        Success = "success",
        /// A request was not answered in time.
        Timeout = "timeout",
        /// None of the application types is supported.
        UnsupportedApplications = "unsupported-applications",
        /// None of the transports is supported.
        UnsupportedTransports = "unsupported-transports",
    }
}

/// A `<reason/>` (§7.4): a condition, an optional text, and for `alternative-session` the other session's sid.
///
/// ```
/// use moxl_xep::xep_0166_jingle::{Reason, ReasonCondition};
/// let r = Reason::new(ReasonCondition::Busy).with_text("In a meeting");
/// let e = r.to_builder().build()?;
/// assert_eq!(e.to_xml(), "<reason xmlns='urn:xmpp:jingle:1'><busy/><text>In a meeting</text></reason>");
/// assert_eq!(Reason::from_element(&e), Some(r));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reason {
    /// The condition.
    pub condition: ReasonCondition,
    /// The human-readable text.
    pub text: Option<String>,
    /// With [`ReasonCondition::AlternativeSession`]: the sid of the session to use instead.
    pub alternative_sid: Option<String>,
}

impl Reason {
    /// A reason with this condition.
    ///
    /// ```
    /// let r = moxl_xep::xep_0166_jingle::Reason::new(moxl_xep::xep_0166_jingle::ReasonCondition::Success);
    /// assert!(r.text.is_none());
    /// ```
    pub fn new(condition: ReasonCondition) -> Reason {
        Reason { condition, text: None, alternative_sid: None }
    }

    /// `<alternative-session><sid>sid</sid></alternative-session>` (§7.4).
    ///
    /// ```
    /// let r = moxl_xep::xep_0166_jingle::Reason::alternative_session("b84tkkwlmb48kgfb");
    /// assert_eq!(r.alternative_sid.as_deref(), Some("b84tkkwlmb48kgfb"));
    /// ```
    pub fn alternative_session(sid: &str) -> Reason {
        Reason { alternative_sid: Some(sid.to_owned()), ..Reason::new(ReasonCondition::AlternativeSession) }
    }

    /// With a human-readable text.
    ///
    /// ```
    /// let r = moxl_xep::xep_0166_jingle::Reason::new(moxl_xep::xep_0166_jingle::ReasonCondition::Gone).with_text("bye");
    /// assert_eq!(r.text.as_deref(), Some("bye"));
    /// ```
    pub fn with_text(mut self, text: impl Into<String>) -> Reason {
        self.text = Some(text.into());
        self
    }

    /// Reads a `<reason/>`; `None` without a defined condition.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0166_jingle::{Reason, ReasonCondition};
    /// let e = Element::parse("<reason xmlns='urn:xmpp:jingle:1'><alternative-session><sid>b84tkkwlmb48kgfb</sid></alternative-session></reason>")?;
    /// let r = Reason::from_element(&e).unwrap();
    /// assert_eq!((r.condition, r.alternative_sid.as_deref()), (ReasonCondition::AlternativeSession, Some("b84tkkwlmb48kgfb")));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(reason: &Element) -> Option<Reason> {
        let mut out = None;
        for child in reason.children().filter(|c| c.ns() == NS && c.name() != "text") {
            if let Some(condition) = ReasonCondition::from_str(child.name()) {
                let alternative_sid = child.child_text("sid", NS).map(|s| s.trim().to_owned());
                out = Some(Reason { condition, text: None, alternative_sid });
                break;
            }
        }
        let mut r = out?;
        r.text = reason.child_text("text", NS);
        Some(r)
    }

    /// The `<reason/>` element.
    ///
    /// ```
    /// let r = moxl_xep::xep_0166_jingle::Reason::new(moxl_xep::xep_0166_jingle::ReasonCondition::Success);
    /// assert_eq!(r.to_builder().build()?.to_xml(), "<reason xmlns='urn:xmpp:jingle:1'><success/></reason>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_builder(&self) -> ElementBuilder {
        let mut condition = ElementBuilder::new(self.condition.as_str(), NS);
        if let Some(sid) = &self.alternative_sid {
            condition = condition.text_child("sid", sid.clone());
        }
        let reason = ElementBuilder::new("reason", NS).append(condition);
        match &self.text {
            Some(t) => reason.text_child("text", t.clone()),
            None => reason,
        }
    }
}

/// A `<content/>` (§7.3): who created it, its name, who sends, its disposition, and the application format's
/// `<description/>`, the `<transport/>` and the `<security/>` precondition as elements for their modules.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0166_jingle::{Content, Role, Senders};
/// let e = Element::parse("<content xmlns='urn:xmpp:jingle:1' creator='initiator' name='voice' senders='initiator'>\
///     <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'/></content>")?;
/// let c = Content::from_element(&e).unwrap();
/// assert_eq!((c.creator, c.name.as_str(), c.senders), (Role::Initiator, "voice", Senders::Initiator));
/// assert_eq!(c.description.unwrap().attr("media").as_deref(), Some("audio"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Content {
    /// The party that created it (`creator`, REQUIRED; read as `initiator` when absent, its old default).
    pub creator: Role,
    /// Its name, unique per creator.
    pub name: String,
    /// Who sends (`senders`, default `both`).
    pub senders: Senders,
    /// Whether `senders` was present (REQUIRED in content-modify, §7.3).
    pub senders_given: bool,
    /// The `disposition` (RFC 2183), when not the default `session`.
    pub disposition: Option<String>,
    /// The `<description/>` of the application format.
    pub description: Option<Element>,
    /// The `<transport/>`.
    pub transport: Option<Element>,
    /// The `<security/>` precondition (§9).
    pub security: Option<Element>,
}

impl Content {
    /// A content created by `creator`, with the default `senders` and disposition and nothing inside.
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Content, Role};
    /// let c = Content::new(Role::Initiator, "this-is-a-stub");
    /// assert_eq!(c.to_builder().build()?.to_xml(), "<content xmlns='urn:xmpp:jingle:1' creator='initiator' name='this-is-a-stub'/>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn new(creator: Role, name: &str) -> Content {
        Content {
            creator,
            name: name.to_owned(),
            senders: Senders::Both,
            senders_given: false,
            disposition: None,
            description: None,
            transport: None,
            security: None,
        }
    }

    /// With this `<description/>`.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0166_jingle::{Content, Role};
    /// let d = Element::parse("<description xmlns='urn:xmpp:jingle:apps:stub:0'/>")?;
    /// assert!(Content::new(Role::Initiator, "a").with_description(d).description.is_some());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn with_description(mut self, description: Element) -> Content {
        self.description = Some(description);
        self
    }

    /// With this `<transport/>`.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0166_jingle::{Content, Role};
    /// let t = Element::parse("<transport xmlns='urn:xmpp:jingle:transports:stub:0'/>")?;
    /// assert!(Content::new(Role::Initiator, "a").with_transport(t).transport.is_some());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn with_transport(mut self, transport: Element) -> Content {
        self.transport = Some(transport);
        self
    }

    /// With these `senders`, written out.
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Content, Role, Senders};
    /// let c = Content::new(Role::Initiator, "a").with_senders(Senders::None);
    /// assert_eq!(c.to_builder().build()?.to_xml(), "<content xmlns='urn:xmpp:jingle:1' creator='initiator' name='a' senders='none'/>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn with_senders(mut self, senders: Senders) -> Content {
        self.senders = senders;
        self.senders_given = true;
        self
    }

    /// Reads a `<content/>`; `None` without a name or with an undefined `creator` or `senders`.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0166_jingle::{Content, Role};
    /// let c = Content::from_element(&Element::parse("<content xmlns='urn:xmpp:jingle:1' creator='responder' name='video-is-back' disposition='early-session'/>")?).unwrap();
    /// assert_eq!((c.creator, c.is_session()), (Role::Responder, false));
    /// assert!(Content::from_element(&Element::parse("<content xmlns='urn:xmpp:jingle:1' creator='juliet' name='a'/>")?).is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(content: &Element) -> Option<Content> {
        let creator = match content.attr("creator") {
            Some(c) => Role::from_str(&c)?,
            None => Role::Initiator,
        };
        let name = content.attr("name").filter(|n| !n.is_empty())?.into_owned();
        let (senders, senders_given) = match content.attr("senders") {
            Some(s) => (Senders::from_str(&s)?, true),
            None => (Senders::Both, false),
        };
        let disposition = content.attr("disposition").map(Cow::into_owned).filter(|d| d != "session");
        let child = |name: &str| content.children().find(|c| c.name() == name && c.ns() != NS);
        Some(Content {
            creator,
            name,
            senders,
            senders_given,
            disposition,
            description: child("description"),
            transport: child("transport"),
            security: child("security"),
        })
    }

    /// Whether its disposition is `session` (what session-accept accepts, §7.2.8).
    ///
    /// ```
    /// assert!(moxl_xep::xep_0166_jingle::Content::new(moxl_xep::xep_0166_jingle::Role::Initiator, "a").is_session());
    /// ```
    pub fn is_session(&self) -> bool {
        self.disposition.is_none()
    }

    /// The `<content/>` element.
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Content, Role, Senders};
    /// let c = Content::new(Role::Responder, "video").with_senders(Senders::Responder);
    /// assert_eq!(c.to_builder().build()?.to_xml(), "<content xmlns='urn:xmpp:jingle:1' creator='responder' name='video' senders='responder'/>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_builder(&self) -> ElementBuilder {
        let mut c = ElementBuilder::new("content", NS)
            .attr("creator", self.creator.as_str())
            .attr("name", self.name.clone())
            .attr_opt("disposition", self.disposition.clone());
        if self.senders_given || self.senders != Senders::Both {
            c = c.attr("senders", self.senders.as_str());
        }
        for e in [&self.description, &self.transport, &self.security].into_iter().flatten() {
            c = c.append(e.clone());
        }
        c
    }

    fn key(&self) -> (Role, &str) {
        (self.creator, &self.name)
    }
}

/// A `<jingle/>` element (§7.1).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0166_jingle::{Action, Jingle};
/// // XEP-0166 §2, Example 1
/// let iq = Element::parse("<iq xmlns='jabber:client' from='romeo@montague.lit/orchard' id='zid615d9' to='juliet@capulet.lit/balcony' type='set'>\
///     <jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='romeo@montague.lit/orchard' sid='a73sjjvkla37jfea'>\
///       <content creator='initiator' name='this-is-a-stub'>\
///         <description xmlns='urn:xmpp:jingle:apps:stub:0'/><transport xmlns='urn:xmpp:jingle:transports:stub:0'/>\
///       </content></jingle></iq>")?;
/// let j = Jingle::from_iq(&iq).unwrap()?;
/// assert_eq!((j.action, j.sid.as_str()), (Action::SessionInitiate, "a73sjjvkla37jfea"));
/// assert_eq!(j.contents[0].name, "this-is-a-stub");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Jingle {
    /// The action.
    pub action: Action,
    /// The session id.
    pub sid: String,
    /// The `initiator` attribute (meant for session-initiate).
    pub initiator: Option<String>,
    /// The `responder` attribute (meant for session-accept).
    pub responder: Option<String>,
    /// The contents.
    pub contents: Vec<Content>,
    /// The reason.
    pub reason: Option<Reason>,
    /// Other children: the payloads of session-info (§7.2.9) and the like.
    pub payloads: Vec<Element>,
}

impl Jingle {
    /// A `<jingle/>` with this action and sid and nothing else.
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Action, Jingle};
    /// let j = Jingle::new(Action::SessionInfo, "a73sjjvkla37jfea");
    /// assert_eq!(j.to_builder().build()?.to_xml(), "<jingle xmlns='urn:xmpp:jingle:1' action='session-info' sid='a73sjjvkla37jfea'/>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn new(action: Action, sid: &str) -> Jingle {
        Jingle {
            action,
            sid: sid.to_owned(),
            initiator: None,
            responder: None,
            contents: Vec::new(),
            reason: None,
            payloads: Vec::new(),
        }
    }

    /// With these contents.
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Action, Content, Jingle, Role};
    /// let j = Jingle::new(Action::ContentRemove, "s").with_contents(vec![Content::new(Role::Initiator, "video")]);
    /// assert_eq!(j.contents.len(), 1);
    /// ```
    pub fn with_contents(mut self, contents: Vec<Content>) -> Jingle {
        self.contents = contents;
        self
    }

    /// With this reason.
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Action, Jingle, Reason, ReasonCondition};
    /// let j = Jingle::new(Action::SessionTerminate, "s").with_reason(Reason::new(ReasonCondition::Success));
    /// assert!(j.reason.is_some());
    /// ```
    pub fn with_reason(mut self, reason: Reason) -> Jingle {
        self.reason = Some(reason);
        self
    }

    /// With this payload (a session-info payload, for instance).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0166_jingle::{Action, Jingle};
    /// let ringing = Element::parse("<ringing xmlns='urn:xmpp:jingle:apps:rtp:info:1'/>")?;
    /// assert_eq!(Jingle::new(Action::SessionInfo, "s").with_payload(ringing).payloads.len(), 1);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn with_payload(mut self, payload: Element) -> Jingle {
        self.payloads.push(payload);
        self
    }

    /// Reads the `<jingle/>` of an IQ-set: `None` when it has none, a [`JingleError::BadRequest`] when it is
    /// malformed (an undefined action, §7.2; no sid; a content without a name).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0166_jingle::Jingle;
    /// let ping = Element::parse("<iq xmlns='jabber:client' type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>")?;
    /// assert!(Jingle::from_iq(&ping).is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_iq(iq: &Element) -> Option<Result<Jingle, JingleError>> {
        iq.child("jingle", NS).map(|j| Jingle::from_element(&j))
    }

    /// Reads a `<jingle/>`; a [`JingleError::BadRequest`] when it is malformed.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0166_jingle::{Jingle, JingleError};
    /// let e = Element::parse("<jingle xmlns='urn:xmpp:jingle:1' action='session-redirect' sid='x'/>")?;
    /// assert!(matches!(Jingle::from_element(&e), Err(JingleError::BadRequest(_))));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(jingle: &Element) -> Result<Jingle, JingleError> {
        let bad = |what: &str| JingleError::BadRequest(what.to_owned());
        let action = jingle.attr("action").ok_or_else(|| bad("no action"))?;
        let action = Action::from_str(&action).ok_or_else(|| bad("undefined action"))?;
        let sid = jingle.attr("sid").filter(|s| !s.is_empty()).ok_or_else(|| bad("no sid"))?.into_owned();
        let mut j = Jingle::new(action, &sid);
        j.initiator = jingle.attr("initiator").map(Cow::into_owned);
        j.responder = jingle.attr("responder").map(Cow::into_owned);
        for child in jingle.children() {
            if child.is("content", NS) {
                j.contents.push(Content::from_element(&child).ok_or_else(|| bad("malformed content"))?);
            } else if child.is("reason", NS) {
                j.reason = Reason::from_element(&child);
            } else {
                j.payloads.push(child);
            }
        }
        Ok(j)
    }

    /// The `<jingle/>` element.
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Action, Content, Jingle, Role};
    /// let j = Jingle::new(Action::ContentRemove, "a73sjjvkla37jfea").with_contents(vec![Content::new(Role::Initiator, "video")]);
    /// assert_eq!(
    ///     j.to_builder().build()?.to_xml(),
    ///     "<jingle xmlns='urn:xmpp:jingle:1' action='content-remove' sid='a73sjjvkla37jfea'><content creator='initiator' name='video'/></jingle>"
    /// );
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_builder(&self) -> ElementBuilder {
        let mut j = ElementBuilder::new("jingle", NS)
            .attr("action", self.action.as_str())
            .attr_opt("initiator", self.initiator.clone())
            .attr_opt("responder", self.responder.clone())
            .attr("sid", self.sid.clone());
        for c in &self.contents {
            j = j.append(c.to_builder());
        }
        if let Some(r) = &self.reason {
            j = j.append(r.to_builder());
        }
        for p in &self.payloads {
            j = j.append(p.clone());
        }
        j
    }

    /// The IQ-set carrying it to `to`.
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Action, Jingle, Reason, ReasonCondition};
    /// // XEP-0166 §2, Example 3
    /// let j = Jingle::new(Action::SessionTerminate, "a73sjjvkla37jfea").with_reason(Reason::new(ReasonCondition::Success));
    /// assert_eq!(
    ///     j.iq("romeo@montague.lit/orchard").attr("id", "le71fa63").build()?.to_xml(),
    ///     "<iq xmlns='jabber:client' type='set' to='romeo@montague.lit/orchard' id='le71fa63'>\
    ///      <jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='a73sjjvkla37jfea'><reason><success/></reason></jingle></iq>"
    /// );
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn iq(&self, to: &str) -> ElementBuilder {
        iq_set(Some(to)).append(self.to_builder())
    }
}

/// Why a Jingle request is refused: the Jingle errors of §10, and `<bad-request/>` for a malformed one (§7.2).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0166_jingle::JingleError;
/// let iq = Element::parse("<iq xmlns='jabber:client' from='romeo@montague.lit/orchard' id='hb2f164w' type='set'/>")?;
/// // XEP-0166 §7.2.16, Example 21
/// assert_eq!(
///     JingleError::TieBreak.reply(&iq).build()?.to_xml(),
///     "<iq xmlns='jabber:client' type='error' id='hb2f164w' to='romeo@montague.lit/orchard'><error type='cancel'>\
///      <conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><tie-break xmlns='urn:xmpp:jingle:errors:1'/></error></iq>"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JingleError {
    /// `<bad-request/>`: malformed, or inconsistent with the session (an unknown content, say).
    BadRequest(String),
    /// `<item-not-found/>` + `<unknown-session/>`: no such session with the sender.
    UnknownSession,
    /// `<unexpected-request/>` + `<out-of-order/>`: not valid in the session's state, or not from this party.
    OutOfOrder,
    /// `<conflict/>` + `<tie-break/>`: the same request crossed ours and ours wins (§7.2.16).
    TieBreak,
    /// `<feature-not-implemented/>` + `<unsupported-info/>`: a session-info payload we do not understand.
    UnsupportedInfo,
}

impl JingleError {
    /// The XMPP condition (§10).
    ///
    /// ```
    /// use moxl_core::stanza::Condition;
    /// assert_eq!(moxl_xep::xep_0166_jingle::JingleError::UnknownSession.condition(), Condition::ItemNotFound);
    /// ```
    pub fn condition(&self) -> Condition {
        match self {
            JingleError::BadRequest(_) => Condition::BadRequest,
            JingleError::UnknownSession => Condition::ItemNotFound,
            JingleError::OutOfOrder => Condition::UnexpectedRequest,
            JingleError::TieBreak => Condition::Conflict,
            JingleError::UnsupportedInfo => Condition::FeatureNotImplemented,
        }
    }

    /// The Jingle-specific condition (§10), if any.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0166_jingle::JingleError::OutOfOrder.jingle_condition(), Some("out-of-order"));
    /// ```
    pub fn jingle_condition(&self) -> Option<&'static str> {
        match self {
            JingleError::BadRequest(_) => None,
            JingleError::UnknownSession => Some("unknown-session"),
            JingleError::OutOfOrder => Some("out-of-order"),
            JingleError::TieBreak => Some("tie-break"),
            JingleError::UnsupportedInfo => Some("unsupported-info"),
        }
    }

    /// Reads the Jingle error of an error reply to one of our requests, if it carries one of §10.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0166_jingle::JingleError;
    /// let e = Element::parse("<iq xmlns='jabber:client' type='error' id='1'><error type='cancel'>\
    ///     <item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><unknown-session xmlns='urn:xmpp:jingle:errors:1'/></error></iq>")?;
    /// assert_eq!(JingleError::from_reply(&e), Some(JingleError::UnknownSession));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_reply(reply: &Element) -> Option<JingleError> {
        let error = reply.child("error", ns::CLIENT)?;
        error.children().filter(|c| c.ns() == NS_ERRORS).find_map(|c| match c.name() {
            "unknown-session" => Some(JingleError::UnknownSession),
            "out-of-order" => Some(JingleError::OutOfOrder),
            "tie-break" => Some(JingleError::TieBreak),
            "unsupported-info" => Some(JingleError::UnsupportedInfo),
            _ => None,
        })
    }

    /// The same error as a [`StanzaError`] (what an awaited request of ours that we refused before sending
    /// resolves to, in `Error::Stanza`).
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::JingleError;
    /// let e = JingleError::TieBreak.to_stanza_error();
    /// assert_eq!(e.condition_name(), "conflict");
    /// assert_eq!(JingleError::from_stanza_error(&e), Some(JingleError::TieBreak));
    /// ```
    pub fn to_stanza_error(&self) -> StanzaError {
        let reply = ElementBuilder::new("iq", ns::CLIENT).attr("type", "error").append(self.error_element());
        reply
            .build()
            .ok()
            .and_then(|r| StanzaError::from_stanza(&r))
            .unwrap_or_else(|| StanzaError::new(self.condition()))
    }

    /// The Jingle error a [`StanzaError`] carries (the peer's refusal of a request of ours), if one of §10.
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::JingleError;
    /// let e = moxl_core::stanza::StanzaError::new(moxl_core::stanza::Condition::ItemNotFound);
    /// assert_eq!(JingleError::from_stanza_error(&e), None);
    /// ```
    pub fn from_stanza_error(error: &StanzaError) -> Option<JingleError> {
        let app = Element::parse(error.app_condition()?).ok()?;
        if app.ns() != NS_ERRORS {
            return None;
        }
        match app.name() {
            "unknown-session" => Some(JingleError::UnknownSession),
            "out-of-order" => Some(JingleError::OutOfOrder),
            "tie-break" => Some(JingleError::TieBreak),
            "unsupported-info" => Some(JingleError::UnsupportedInfo),
            _ => None,
        }
    }

    /// The error reply to the request `iq`.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0166_jingle::JingleError;
    /// let iq = Element::parse("<iq xmlns='jabber:client' from='juliet@capulet.lit/balcony' id='x' type='set'/>")?;
    /// let reply = JingleError::OutOfOrder.reply(&iq).build()?;
    /// assert_eq!(JingleError::from_reply(&reply), Some(JingleError::OutOfOrder));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reply(&self, iq: &Element) -> ElementBuilder {
        ElementBuilder::new(iq.name().to_owned(), ns::CLIENT)
            .attr("type", "error")
            .attr_opt("id", iq.attr("id").map(Cow::into_owned))
            .attr_opt("to", iq.attr("from").map(Cow::into_owned))
            .append(self.error_element())
    }

    /// The `<error/>` element of the reply.
    fn error_element(&self) -> ElementBuilder {
        let mut stanza_error = StanzaError::new(self.condition());
        match self {
            JingleError::BadRequest(text) => stanza_error = stanza_error.with_text(text.clone()),
            // §6.8, Example 28
            JingleError::UnsupportedInfo => stanza_error = stanza_error.with_type(ErrorType::Modify),
            _ => {}
        }
        let mut error = stanza_error.to_builder(ns::CLIENT);
        if let Some(name) = self.jingle_condition() {
            error = error.append(ElementBuilder::new(name, NS_ERRORS));
        }
        error
    }
}

impl fmt::Display for JingleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JingleError::BadRequest(why) => write!(f, "bad-request: {why}"),
            other => write!(f, "{} ({})", other.condition().as_str(), other.jingle_condition().unwrap_or("")),
        }
    }
}

impl std::error::Error for JingleError {}

/// The state of a session (§5.1).
///
/// ```
/// assert_ne!(moxl_xep::xep_0166_jingle::State::Pending, moxl_xep::xep_0166_jingle::State::Active);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// After session-initiate, before session-accept.
    Pending,
    /// After session-accept.
    Active,
    /// After session-terminate (sent or received): every further request gets `<unknown-session/>` (§6.7).
    Ended,
}

/// A request the [`Session`] let through: what the application now acts on, after acking the IQ with
/// [`iq_result`](moxl_core::stanza::iq_result) (or, for a session-info payload it does not understand, answering
/// [`JingleError::UnsupportedInfo`] instead, §6.8).
///
/// ```
/// use moxl_xep::xep_0166_jingle::{Action, Content, Jingle, Role, Session, State};
/// let (mut s, _) = Session::initiate("a73sjjvkla37jfea", "romeo@montague.lit/orchard", "juliet@capulet.lit/balcony",
///     vec![Content::new(Role::Initiator, "stub")]);
/// let ping = Jingle::new(Action::SessionInfo, "a73sjjvkla37jfea");
/// let accepted = s.receive(&ping, "juliet@capulet.lit/balcony")?;
/// assert!(accepted.is_ping());
/// assert_eq!(accepted.state, State::Pending);
/// # Ok::<(), moxl_xep::xep_0166_jingle::JingleError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Accepted {
    /// The action.
    pub action: Action,
    /// The session's state after it.
    pub state: State,
    /// The contents it carried.
    pub contents: Vec<Content>,
    /// Its reason.
    pub reason: Option<Reason>,
    /// Its other children (session-info payloads and the like).
    pub payloads: Vec<Element>,
    /// Our own request (with its sid) that this one overruled in a tie (§7.2.16): the peer will refuse it with
    /// `<tie-break/>`, and the session no longer counts on it.
    pub overruled: Option<(String, Action)>,
}

impl Accepted {
    /// An empty session-info: a ping, answered with an empty result (§6.8).
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Action, Content, Jingle, Role, Session};
    /// let (mut s, _) = Session::initiate("s", "romeo@montague.lit/orchard", "juliet@capulet.lit/balcony", vec![Content::new(Role::Initiator, "a")]);
    /// assert!(s.receive(&Jingle::new(Action::SessionInfo, "s"), "juliet@capulet.lit/balcony")?.is_ping());
    /// # Ok::<(), moxl_xep::xep_0166_jingle::JingleError>(())
    /// ```
    pub fn is_ping(&self) -> bool {
        self.action == Action::SessionInfo && self.payloads.is_empty()
    }
}

/// One Jingle session seen from our side, sans I/O: it checks each action against the state machine of §5.1,
/// the sender's role and the contents it knows (§7.2), and keeps the contents (§7.2.2: each party keeps its own
/// copy). [`receive`](Session::receive) checks what the peer sends, [`send`](Session::send) what we send, and
/// [`acked`](Session::acked) reads the peer's answer to our request.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0166_jingle::{Action, Content, Jingle, Reason, ReasonCondition, Role, Session, State};
/// // XEP-0166 §2: Romeo calls Juliet, she accepts, then hangs up.
/// let stub = Content::new(Role::Initiator, "this-is-a-stub")
///     .with_description(Element::parse("<description xmlns='urn:xmpp:jingle:apps:stub:0'/>")?)
///     .with_transport(Element::parse("<transport xmlns='urn:xmpp:jingle:transports:stub:0'/>")?);
/// let (romeo, juliet) = ("romeo@montague.lit/orchard", "juliet@capulet.lit/balcony");
/// let (mut call, initiate) = Session::initiate("a73sjjvkla37jfea", romeo, juliet, vec![stub.clone()]);
///
/// let (mut answer, _) = Session::incoming(&initiate, romeo, juliet)?;
/// let accept = answer.accept(vec![stub])?;
/// assert_eq!(call.receive(&accept, juliet)?.state, State::Active);
///
/// let bye = answer.terminate(Reason::new(ReasonCondition::Success));
/// assert_eq!(call.receive(&bye, juliet)?.state, State::Ended);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Session {
    sid: String,
    role: Role,
    local: String,
    peer: String,
    state: State,
    contents: Vec<Content>,
    /// Contents of a content-add not yet accepted or rejected.
    proposed: Vec<Content>,
    /// Transport-replaces not yet accepted or rejected: who sent it, and the content with its new transport.
    replacing: Vec<(Role, Content)>,
    /// Our requests not yet answered (for ties, §7.2.16, and roll-backs), with the contents they carried.
    outstanding: Vec<(Action, Vec<Content>)>,
}

impl Session {
    /// A session we initiate with `peer` (full JIDs), and the session-initiate to send it (§6.2) with
    /// [`Jingle::iq`]. Give a random `sid` (§7.1; [`moxl_core`]'s id generator, for instance).
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Action, Content, Role, Session, State};
    /// let (s, j) = Session::initiate("a73sjjvkla37jfea", "romeo@montague.lit/orchard", "juliet@capulet.lit/balcony",
    ///     vec![Content::new(Role::Initiator, "stub")]);
    /// assert_eq!((s.state(), j.action, j.initiator.as_deref()), (State::Pending, Action::SessionInitiate, Some("romeo@montague.lit/orchard")));
    /// ```
    pub fn initiate(sid: &str, local: &str, peer: &str, contents: Vec<Content>) -> (Session, Jingle) {
        let mut j = Jingle::new(Action::SessionInitiate, sid).with_contents(contents.clone());
        j.initiator = Some(local.to_owned());
        let session = Session {
            sid: sid.to_owned(),
            role: Role::Initiator,
            local: local.to_owned(),
            peer: peer.to_owned(),
            state: State::Pending,
            contents,
            proposed: Vec::new(),
            replacing: Vec::new(),
            outstanding: vec![(Action::SessionInitiate, Vec::new())],
        };
        (session, j)
    }

    /// The session a session-initiate received from `from` opens, with us (`local`) as the responder, and what
    /// the application reads of it; ack it, then [`accept`](Session::accept) or
    /// [`terminate`](Session::terminate) (§6.3). The `initiator` attribute is ignored: `from` is the initiator
    /// (§7.1). A [`JingleError::BadRequest`] when it is not a session-initiate, has no content, a content
    /// created by the responder, or none of disposition `session` (§7.2.10).
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Action, Jingle, JingleError, Session};
    /// let empty = Jingle::new(Action::SessionInitiate, "s");
    /// assert!(matches!(Session::incoming(&empty, "romeo@montague.lit/orchard", "juliet@capulet.lit/balcony"), Err(JingleError::BadRequest(_))));
    /// ```
    pub fn incoming(jingle: &Jingle, from: &str, local: &str) -> Result<(Session, Accepted), JingleError> {
        let bad = |why: &str| Err(JingleError::BadRequest(why.to_owned()));
        if jingle.action != Action::SessionInitiate {
            return bad("not a session-initiate");
        }
        if jingle.contents.iter().any(|c| c.creator != Role::Initiator) {
            return bad("a content not created by the initiator");
        }
        if !jingle.contents.iter().any(Content::is_session) {
            return bad("no content of disposition session");
        }
        if has_duplicates(&jingle.contents) {
            return bad("two contents of the same name");
        }
        let session = Session {
            sid: jingle.sid.clone(),
            role: Role::Responder,
            local: local.to_owned(),
            peer: from.to_owned(),
            state: State::Pending,
            contents: jingle.contents.clone(),
            proposed: Vec::new(),
            replacing: Vec::new(),
            outstanding: Vec::new(),
        };
        let accepted = session.accepted(jingle, None);
        Ok((session, accepted))
    }

    /// The session id.
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Content, Role, Session, State};
    /// let (s, _) = Session::initiate("a73sjjvkla37jfea", "romeo@montague.lit/orchard", "juliet@capulet.lit/balcony",
    ///     vec![Content::new(Role::Initiator, "stub")]);
    /// assert_eq!(s.sid(), "a73sjjvkla37jfea");
    /// ```
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// Our role.
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Content, Role, Session, State};
    /// let (s, _) = Session::initiate("a73sjjvkla37jfea", "romeo@montague.lit/orchard", "juliet@capulet.lit/balcony",
    ///     vec![Content::new(Role::Initiator, "stub")]);
    /// assert_eq!(s.role(), Role::Initiator);
    /// ```
    pub fn role(&self) -> Role {
        self.role
    }

    /// Our full JID.
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Content, Role, Session, State};
    /// let (s, _) = Session::initiate("a73sjjvkla37jfea", "romeo@montague.lit/orchard", "juliet@capulet.lit/balcony",
    ///     vec![Content::new(Role::Initiator, "stub")]);
    /// assert_eq!(s.local(), "romeo@montague.lit/orchard");
    /// ```
    pub fn local(&self) -> &str {
        &self.local
    }

    /// The peer's full JID: the only one who may act on the session.
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Content, Role, Session, State};
    /// let (s, _) = Session::initiate("a73sjjvkla37jfea", "romeo@montague.lit/orchard", "juliet@capulet.lit/balcony",
    ///     vec![Content::new(Role::Initiator, "stub")]);
    /// assert_eq!(s.peer(), "juliet@capulet.lit/balcony");
    /// ```
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// The state.
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Content, Role, Session, State};
    /// let (s, _) = Session::initiate("a73sjjvkla37jfea", "romeo@montague.lit/orchard", "juliet@capulet.lit/balcony",
    ///     vec![Content::new(Role::Initiator, "stub")]);
    /// assert_eq!(s.state(), State::Pending);
    /// ```
    pub fn state(&self) -> State {
        self.state
    }

    /// The contents of the session, as both parties agreed them so far (contents added but not yet accepted are
    /// not among them).
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Content, Role, Session, State};
    /// let (s, _) = Session::initiate("a73sjjvkla37jfea", "romeo@montague.lit/orchard", "juliet@capulet.lit/balcony",
    ///     vec![Content::new(Role::Initiator, "stub")]);
    /// assert_eq!(s.contents()[0].name, "stub");
    /// ```
    pub fn contents(&self) -> &[Content] {
        &self.contents
    }

    /// Checks a request the peer sent (`from`, the IQ's sender) against the session: `Ok` to ack it
    /// (with what to act on), or the error to answer (§10): `<unknown-session/>` to anyone but the peer or after
    /// the end, `<out-of-order/>` for an action not valid now or not from this party, `<tie-break/>` when it
    /// crosses the same request of ours and ours wins (§7.2.16), `<bad-request/>` for contents the session does
    /// not have.
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Action, Content, Jingle, JingleError, Role, Session};
    /// let (mut s, _) = Session::initiate("a73sjjvkla37jfea", "romeo@montague.lit/orchard", "juliet@capulet.lit/balcony",
    ///     vec![Content::new(Role::Initiator, "stub")]);
    /// let bye = Jingle::new(Action::SessionTerminate, "a73sjjvkla37jfea");
    /// assert_eq!(s.receive(&bye, "iago@venice.lit/dagger").unwrap_err(), JingleError::UnknownSession);
    /// # Ok::<(), moxl_xep::xep_0166_jingle::JingleError>(())
    /// ```
    pub fn receive(&mut self, jingle: &Jingle, from: &str) -> Result<Accepted, JingleError> {
        if from != self.peer || jingle.sid != self.sid || self.state == State::Ended {
            return Err(JingleError::UnknownSession);
        }
        let mut overruled = None;
        if TIES.contains(&jingle.action) {
            if let Some(i) = self.outstanding.iter().position(|(ours, _)| *ours == jingle.action) {
                if self.role == Role::Initiator {
                    return Err(JingleError::TieBreak);
                }
                // We are the responder: the initiator's request wins, ours is refused (§7.2.16).
                let ours = self.outstanding.remove(i);
                self.roll_back(&ours);
                overruled = Some((self.sid.clone(), ours.0));
            }
        }
        self.apply(jingle, self.role.other())?;
        Ok(self.accepted(jingle, overruled))
    }

    /// Checks a request of ours before it is sent, and records it: the same rules as for
    /// [`receive`](Session::receive), with us as the sender. Send it with [`Jingle::iq`] to [`peer`](Session::peer)
    /// and pass the answer to [`acked`](Session::acked).
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Action, Content, Jingle, JingleError, Role, Session};
    /// let (mut s, _) = Session::initiate("s", "romeo@montague.lit/orchard", "juliet@capulet.lit/balcony",
    ///     vec![Content::new(Role::Initiator, "stub")]);
    /// // only the responder accepts a session (§7.2.8)
    /// assert_eq!(s.send(Jingle::new(Action::SessionAccept, "s")).unwrap_err(), JingleError::OutOfOrder);
    /// ```
    pub fn send(&mut self, mut jingle: Jingle) -> Result<Jingle, JingleError> {
        if self.state == State::Ended {
            return Err(JingleError::UnknownSession);
        }
        jingle.sid = self.sid.clone();
        self.apply(&jingle, self.role)?;
        if jingle.action == Action::SessionAccept {
            jingle.responder = Some(self.local.clone());
        }
        if !matches!(jingle.action, Action::SessionTerminate) {
            self.outstanding.push((jingle.action, jingle.contents.clone()));
        }
        Ok(jingle)
    }

    /// Accepts the session we were offered, with these contents (each with its description and transport,
    /// §7.2.8): the session-accept to send. The session is then ACTIVE.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0166_jingle::{Action, Content, Role, Session, State};
    /// let stub = Content::new(Role::Initiator, "stub")
    ///     .with_description(Element::parse("<description xmlns='urn:xmpp:jingle:apps:stub:0'/>")?)
    ///     .with_transport(Element::parse("<transport xmlns='urn:xmpp:jingle:transports:stub:0'/>")?);
    /// let (_, initiate) = Session::initiate("s", "romeo@montague.lit/orchard", "juliet@capulet.lit/balcony", vec![stub.clone()]);
    /// let (mut s, _) = Session::incoming(&initiate, "romeo@montague.lit/orchard", "juliet@capulet.lit/balcony")?;
    /// let accept = s.accept(vec![stub])?;
    /// assert_eq!((accept.action, accept.responder.as_deref(), s.state()), (Action::SessionAccept, Some("juliet@capulet.lit/balcony"), State::Active));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn accept(&mut self, contents: Vec<Content>) -> Result<Jingle, JingleError> {
        self.send(Jingle::new(Action::SessionAccept, &self.sid).with_contents(contents))
    }

    /// Ends the session (declining it when it is PENDING, §6.7): the session-terminate to send. The session is
    /// ENDED at once, before the ack.
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Content, Reason, ReasonCondition, Role, Session, State};
    /// let (mut s, _) = Session::initiate("s", "romeo@montague.lit/orchard", "juliet@capulet.lit/balcony", vec![Content::new(Role::Initiator, "a")]);
    /// let j = s.terminate(Reason::new(ReasonCondition::Cancel));
    /// assert_eq!((s.state(), j.reason.unwrap().condition), (State::Ended, ReasonCondition::Cancel));
    /// ```
    pub fn terminate(&mut self, reason: Reason) -> Jingle {
        self.state = State::Ended;
        self.outstanding.clear();
        Jingle::new(Action::SessionTerminate, &self.sid).with_reason(reason)
    }

    /// Reads the peer's answer (`result` or `error`) to our `request` (as [`send`](Session::send) returned it,
    /// or the session-initiate of [`initiate`](Session::initiate)). A refused request is rolled back:
    /// a refused session-initiate, or any `<unknown-session/>`, ends the session; a refused content-add drops
    /// its contents; a refused transport-replace keeps the old transport. Returns the Jingle error, if any.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0166_jingle::{Content, Role, Session, State};
    /// let (mut s, initiate) = Session::initiate("s", "romeo@montague.lit/orchard", "juliet@capulet.lit/balcony", vec![Content::new(Role::Initiator, "a")]);
    /// let refused = Element::parse("<iq xmlns='jabber:client' type='error' id='x'><error type='cancel'>\
    ///     <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")?;
    /// assert_eq!(s.acked(&initiate, &refused), None);
    /// assert_eq!(s.state(), State::Ended);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn acked(&mut self, request: &Jingle, reply: &Element) -> Option<JingleError> {
        let ours = self.outstanding.iter().position(|(action, _)| *action == request.action);
        let ours = ours.map(|i| self.outstanding.remove(i));
        if reply.attr("type").as_deref() != Some("error") {
            return None;
        }
        let error = JingleError::from_reply(reply);
        if error == Some(JingleError::UnknownSession)
            || matches!(request.action, Action::SessionInitiate | Action::SessionAccept)
        {
            self.state = State::Ended;
        }
        if let Some(ours) = ours {
            self.roll_back(&ours);
        }
        error
    }

    fn roll_back(&mut self, (action, contents): &(Action, Vec<Content>)) {
        let mine = |c: &Content| contents.iter().any(|o| o.key() == c.key());
        match action {
            Action::ContentAdd => self.proposed.retain(|c| !mine(c)),
            Action::TransportReplace => self.replacing.retain(|(by, c)| *by != self.role || !mine(c)),
            _ => {}
        }
    }

    fn accepted(&self, jingle: &Jingle, overruled: Option<(String, Action)>) -> Accepted {
        Accepted {
            action: jingle.action,
            state: self.state,
            contents: jingle.contents.clone(),
            reason: jingle.reason.clone(),
            payloads: jingle.payloads.clone(),
            overruled,
        }
    }

    fn known(&self, c: &Content) -> bool {
        self.contents.iter().chain(&self.proposed).any(|k| k.key() == c.key())
    }

    /// The rules of §7.2 for `jingle` sent by `sender`; applies it when it passes.
    fn apply(&mut self, jingle: &Jingle, sender: Role) -> Result<(), JingleError> {
        let bad = |why: &str| Err(JingleError::BadRequest(why.to_owned()));
        let needs_contents = !matches!(
            jingle.action,
            Action::SessionInfo | Action::SessionTerminate | Action::SessionInitiate | Action::SecurityInfo
        );
        // The session exists already: a second initiate is out of order (§10); only the responder accepts, once.
        let out_of_order = match jingle.action {
            Action::SessionInitiate => true,
            Action::SessionAccept => sender != Role::Responder || self.state != State::Pending,
            _ => false,
        };
        if out_of_order {
            return Err(JingleError::OutOfOrder);
        }
        if needs_contents && jingle.contents.is_empty() {
            return bad("no content");
        }
        match jingle.action {
            Action::SessionInitiate => {}
            Action::SessionAccept => {
                if jingle.contents.iter().any(|c| c.description.is_none() || c.transport.is_none()) {
                    return bad("a content without description or transport (§7.2.8)");
                }
                if !jingle.contents.iter().all(|c| self.known(c)) {
                    return bad("unknown content");
                }
                for c in &jingle.contents {
                    self.replace_content(c.clone());
                }
                self.state = State::Active;
            }
            Action::SessionTerminate => self.state = State::Ended,
            Action::ContentAdd => {
                if jingle.contents.iter().any(|c| c.creator != sender) {
                    return bad("a content-add names a content created by the other party");
                }
                if jingle.contents.iter().any(|c| self.known(c)) || has_duplicates(&jingle.contents) {
                    return bad("content already exists");
                }
                self.proposed.extend(jingle.contents.iter().cloned());
            }
            Action::ContentAccept | Action::ContentReject => {
                // Only the receiver of a content-add answers it (§7.2.1, §7.2.4).
                let answerable = |c: &Content| c.creator != sender && self.proposed.iter().any(|p| p.key() == c.key());
                if !jingle.contents.iter().all(answerable) {
                    return Err(JingleError::OutOfOrder);
                }
                for c in &jingle.contents {
                    let Some(i) = self.proposed.iter().position(|p| p.key() == c.key()) else { continue };
                    let proposed = self.proposed.remove(i);
                    if jingle.action == Action::ContentAccept {
                        self.contents.push(merge(proposed, c));
                    }
                }
            }
            Action::ContentRemove => {
                if !jingle.contents.iter().all(|c| self.known(c)) {
                    return bad("unknown content");
                }
                let gone = |k: &Content| jingle.contents.iter().any(|c| c.key() == k.key());
                self.contents.retain(|k| !gone(k));
                self.proposed.retain(|k| !gone(k));
                self.replacing.retain(|(_, k)| !gone(k));
            }
            Action::ContentModify => {
                if jingle.contents.iter().any(|c| !c.senders_given) {
                    return bad("content-modify without senders (§7.3)");
                }
                if !jingle.contents.iter().all(|c| self.contents.iter().any(|k| k.key() == c.key())) {
                    return bad("unknown content");
                }
                for c in &jingle.contents {
                    if let Some(k) = self.contents.iter_mut().find(|k| k.key() == c.key()) {
                        k.senders = c.senders;
                        k.senders_given = true;
                    }
                }
            }
            Action::TransportReplace => {
                if jingle.contents.iter().any(|c| c.transport.is_none()) {
                    return bad("transport-replace without transport");
                }
                if !jingle.contents.iter().all(|c| self.known(c)) {
                    return bad("unknown content");
                }
                self.replacing.retain(|(_, k)| !jingle.contents.iter().any(|c| c.key() == k.key()));
                self.replacing.extend(jingle.contents.iter().map(|c| (sender, c.clone())));
            }
            Action::TransportAccept | Action::TransportReject => {
                // Only the receiver of a transport-replace answers it (§7.2.12, §7.2.14).
                let answerable = |c: &Content| self.replacing.iter().any(|(by, k)| *by != sender && k.key() == c.key());
                if !jingle.contents.iter().all(answerable) {
                    return Err(JingleError::OutOfOrder);
                }
                for c in &jingle.contents {
                    let Some(i) = self.replacing.iter().position(|(_, k)| k.key() == c.key()) else { continue };
                    let (_, replacement) = self.replacing.remove(i);
                    if jingle.action == Action::TransportAccept {
                        let transport = c.transport.clone().or(replacement.transport);
                        if let Some(k) =
                            self.contents.iter_mut().chain(self.proposed.iter_mut()).find(|k| k.key() == c.key())
                        {
                            k.transport = transport;
                        }
                    }
                }
            }
            Action::TransportInfo | Action::DescriptionInfo => {
                if !jingle.contents.iter().all(|c| self.known(c)) {
                    return bad("unknown content");
                }
            }
            Action::SecurityInfo | Action::SessionInfo => {}
        }
        Ok(())
    }

    fn replace_content(&mut self, c: Content) {
        match self.contents.iter().position(|k| k.key() == c.key()) {
            Some(i) => {
                let old = self.contents.remove(i);
                self.contents.insert(i, merge(old, &c));
            }
            None => {
                if let Some(i) = self.proposed.iter().position(|k| k.key() == c.key()) {
                    let old = self.proposed.remove(i);
                    self.contents.push(merge(old, &c));
                }
            }
        }
    }
}

/// The actions that can cross the same action of the other party and are then tie-broken (§7.2.16).
const TIES: &[Action] = &[Action::ContentAdd, Action::ContentModify, Action::TransportReplace];

fn has_duplicates(contents: &[Content]) -> bool {
    let mut seen = std::collections::HashSet::new();
    !contents.iter().all(|c| seen.insert(c.key()))
}

/// `old` updated with what `new` carries.
fn merge(mut old: Content, new: &Content) -> Content {
    if new.senders_given {
        old.senders = new.senders;
        old.senders_given = true;
    }
    for (slot, value) in [
        (&mut old.description, &new.description),
        (&mut old.transport, &new.transport),
        (&mut old.security, &new.security),
    ] {
        if value.is_some() {
            slot.clone_from(value);
        }
    }
    old
}

/// Which of two crossing session-initiates wins (§7.2.16, no existing session): the lower sid in `i;octet`
/// order (RFC 4790 §9.3, plain byte order), and for equal sids the one sent by the lower JID. `true` when ours
/// (`our_sid` sent by `our_jid`) wins: then we answer theirs with [`JingleError::TieBreak`]; otherwise we ack
/// theirs and drop ours.
///
/// ```
/// use moxl_xep::xep_0166_jingle::initiate_wins;
/// assert!(initiate_wins("a73sjjvkla37jfea", "romeo@montague.lit/orchard", "b84tkkwlmb48kgfb", "juliet@capulet.lit/balcony"));
/// assert!(!initiate_wins("same", "romeo@montague.lit/orchard", "same", "juliet@capulet.lit/balcony"));
/// ```
pub fn initiate_wins(our_sid: &str, our_jid: &str, their_sid: &str, their_jid: &str) -> bool {
    (our_sid.as_bytes(), our_jid.as_bytes()) < (their_sid.as_bytes(), their_jid.as_bytes())
}

/// The Jingle sessions of one account (our full JID), addressed by peer and sid: a request for an unknown pair
/// gets `<unknown-session/>`, so nobody but its peer acts on a session. Ended sessions are forgotten.
///
/// ```
/// use moxl_xep::xep_0166_jingle::{Action, Content, Jingle, JingleError, Role, Sessions};
/// let mut juliet = Sessions::new("juliet@capulet.lit/balcony");
/// let (_, initiate) = moxl_xep::xep_0166_jingle::Session::initiate("a73sjjvkla37jfea", "romeo@montague.lit/orchard",
///     "juliet@capulet.lit/balcony", vec![Content::new(Role::Initiator, "stub")]);
/// juliet.receive(&initiate, "romeo@montague.lit/orchard")?;
/// let bye = Jingle::new(Action::SessionTerminate, "a73sjjvkla37jfea");
/// assert_eq!(juliet.receive(&bye, "iago@venice.lit/dagger").unwrap_err(), JingleError::UnknownSession);
/// assert!(juliet.get("romeo@montague.lit/orchard", "a73sjjvkla37jfea").is_some());
/// # Ok::<(), JingleError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Sessions {
    local: String,
    sessions: HashMap<(String, String), Session>,
}

impl Sessions {
    /// No session yet, for the account `local` (full JID).
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Content, Role, Sessions};
    /// let mut romeo = Sessions::new("romeo@montague.lit/orchard");
    /// let initiate = romeo.initiate("a73sjjvkla37jfea", "juliet@capulet.lit/balcony", vec![Content::new(Role::Initiator, "stub")]);
    /// assert_eq!(romeo.iter().count(), 1);
    /// ```
    pub fn new(local: &str) -> Sessions {
        Sessions { local: local.to_owned(), sessions: HashMap::new() }
    }

    /// Our full JID.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0166_jingle::Sessions::new("romeo@montague.lit/orchard").local(), "romeo@montague.lit/orchard");
    /// ```
    pub fn local(&self) -> &str {
        &self.local
    }

    /// Opens a session with `peer`: the session-initiate to send (see [`Session::initiate`]).
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Content, Role, Sessions};
    /// let mut romeo = Sessions::new("romeo@montague.lit/orchard");
    /// let initiate = romeo.initiate("a73sjjvkla37jfea", "juliet@capulet.lit/balcony", vec![Content::new(Role::Initiator, "stub")]);
    /// assert_eq!(initiate.initiator.as_deref(), Some("romeo@montague.lit/orchard"));
    /// ```
    pub fn initiate(&mut self, sid: &str, peer: &str, contents: Vec<Content>) -> Jingle {
        let (session, jingle) = Session::initiate(sid, &self.local, peer, contents);
        self.sessions.insert((peer.to_owned(), sid.to_owned()), session);
        jingle
    }

    /// The session with `peer` of this sid.
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Content, Role, Sessions};
    /// let mut romeo = Sessions::new("romeo@montague.lit/orchard");
    /// let initiate = romeo.initiate("a73sjjvkla37jfea", "juliet@capulet.lit/balcony", vec![Content::new(Role::Initiator, "stub")]);
    /// assert!(romeo.get("juliet@capulet.lit/balcony", "a73sjjvkla37jfea").is_some());
    /// assert!(romeo.get("iago@venice.lit/dagger", "a73sjjvkla37jfea").is_none());
    /// ```
    pub fn get(&self, peer: &str, sid: &str) -> Option<&Session> {
        self.sessions.get(&(peer.to_owned(), sid.to_owned()))
    }

    /// The session with `peer` of this sid, to [`send`](Session::send) on it.
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Content, Role, Sessions};
    /// let mut romeo = Sessions::new("romeo@montague.lit/orchard");
    /// let initiate = romeo.initiate("a73sjjvkla37jfea", "juliet@capulet.lit/balcony", vec![Content::new(Role::Initiator, "stub")]);
    /// let s = romeo.get_mut("juliet@capulet.lit/balcony", "a73sjjvkla37jfea").unwrap();
    /// let _bye = s.terminate(moxl_xep::xep_0166_jingle::Reason::new(moxl_xep::xep_0166_jingle::ReasonCondition::Cancel));
    /// ```
    pub fn get_mut(&mut self, peer: &str, sid: &str) -> Option<&mut Session> {
        self.sessions.get_mut(&(peer.to_owned(), sid.to_owned()))
    }

    /// The live sessions.
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Content, Role, Sessions};
    /// let mut romeo = Sessions::new("romeo@montague.lit/orchard");
    /// let initiate = romeo.initiate("a73sjjvkla37jfea", "juliet@capulet.lit/balcony", vec![Content::new(Role::Initiator, "stub")]);
    /// assert_eq!(romeo.iter().map(|s| s.sid()).collect::<Vec<_>>(), ["a73sjjvkla37jfea"]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = &Session> {
        self.sessions.values()
    }

    /// Checks a request received from `from` (see [`Session::receive`]); a session-initiate opens a session
    /// (see [`Session::incoming`]). When it crosses a session-initiate of ours to the same peer that is not
    /// answered yet, §7.2.16 decides ([`initiate_wins`]): ours wins and theirs gets `<tie-break/>`, or ours is
    /// dropped (named in [`Accepted::overruled`]) and theirs goes on.
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Content, Role, Sessions};
    /// let mut romeo = Sessions::new("romeo@montague.lit/orchard");
    /// let initiate = romeo.initiate("a73sjjvkla37jfea", "juliet@capulet.lit/balcony", vec![Content::new(Role::Initiator, "stub")]);
    /// let mut juliet = Sessions::new("juliet@capulet.lit/balcony");
    /// let got = juliet.receive(&initiate, "romeo@montague.lit/orchard")?;
    /// assert_eq!(got.contents[0].name, "stub");
    /// # Ok::<(), moxl_xep::xep_0166_jingle::JingleError>(())
    /// ```
    pub fn receive(&mut self, jingle: &Jingle, from: &str) -> Result<Accepted, JingleError> {
        let key = (from.to_owned(), jingle.sid.clone());
        if jingle.action == Action::SessionInitiate {
            if self.sessions.contains_key(&key) {
                return Err(JingleError::OutOfOrder);
            }
            let crossing = self
                .sessions
                .values()
                .find(|s| s.peer == from && s.outstanding.iter().any(|(a, _)| *a == Action::SessionInitiate))
                .map(|s| s.sid.clone());
            if let Some(ours) = &crossing {
                if initiate_wins(ours, &self.local, &jingle.sid, from) {
                    return Err(JingleError::TieBreak);
                }
            }
            let (session, mut accepted) = Session::incoming(jingle, from, &self.local)?;
            if let Some(ours) = crossing {
                self.sessions.remove(&(from.to_owned(), ours.clone()));
                accepted.overruled = Some((ours, Action::SessionInitiate));
            }
            self.sessions.insert(key, session);
            return Ok(accepted);
        }
        let session = self.sessions.get_mut(&key).ok_or(JingleError::UnknownSession)?;
        let accepted = session.receive(jingle, from);
        if session.state == State::Ended {
            self.sessions.remove(&key);
        }
        accepted
    }

    /// Reads the answer from `peer` to our `request` (see [`Session::acked`]).
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Content, Role, Sessions};
    /// let mut romeo = Sessions::new("romeo@montague.lit/orchard");
    /// let initiate = romeo.initiate("a73sjjvkla37jfea", "juliet@capulet.lit/balcony", vec![Content::new(Role::Initiator, "stub")]);
    /// let result = moxl_core::xml::Element::parse("<iq xmlns='jabber:client' type='result' id='x'/>")?;
    /// assert_eq!(romeo.acked("juliet@capulet.lit/balcony", &initiate, &result), None);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn acked(&mut self, peer: &str, request: &Jingle, reply: &Element) -> Option<JingleError> {
        let key = (peer.to_owned(), request.sid.clone());
        let session = self.sessions.get_mut(&key)?;
        let error = session.acked(request, reply);
        if session.state == State::Ended {
            self.sessions.remove(&key);
        }
        error
    }

    /// Forgets the sessions that ended (by a [`Session::terminate`] of ours).
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Content, Role, Sessions};
    /// let mut romeo = Sessions::new("romeo@montague.lit/orchard");
    /// let initiate = romeo.initiate("a73sjjvkla37jfea", "juliet@capulet.lit/balcony", vec![Content::new(Role::Initiator, "stub")]);
    /// let s = romeo.get_mut("juliet@capulet.lit/balcony", "a73sjjvkla37jfea").unwrap();
    /// s.terminate(moxl_xep::xep_0166_jingle::Reason::new(moxl_xep::xep_0166_jingle::ReasonCondition::Cancel));
    /// romeo.prune();
    /// assert_eq!(romeo.iter().count(), 0);
    /// ```
    pub fn prune(&mut self) {
        self.sessions.retain(|_, s| s.state != State::Ended);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use moxl_core::stanza::iq_result;

    const ROMEO: &str = "romeo@montague.lit/orchard";
    const JULIET: &str = "juliet@capulet.lit/balcony";
    const IAGO: &str = "iago@venice.lit/dagger";
    const SID: &str = "a73sjjvkla37jfea";

    fn iq(xml: &str) -> Element {
        Element::parse(xml).unwrap()
    }

    fn jingle(xml: &str) -> Jingle {
        Jingle::from_iq(&iq(xml)).unwrap().unwrap()
    }

    fn el(xml: &str) -> Element {
        Element::parse(xml).unwrap()
    }

    fn content(creator: Role, name: &str) -> Content {
        Content::new(creator, name)
            .with_description(el("<description xmlns='urn:xmpp:jingle:apps:stub:0'/>"))
            .with_transport(el("<transport xmlns='urn:xmpp:jingle:transports:stub:0'/>"))
    }

    /// §6.2 Example 4 (RTP over ICE-UDP), received by Juliet, who then has an active session with Romeo.
    fn active() -> (Sessions, Sessions) {
        let initiate = jingle(
            "<iq xmlns='jabber:client' from='romeo@montague.lit/orchard' id='ph37a419' to='juliet@capulet.lit/balcony' type='set'>\
             <jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='romeo@montague.lit/orchard' sid='a73sjjvkla37jfea'>\
             <content creator='initiator' name='voice'>\
             <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><payload-type id='96' name='speex' clockrate='16000'/></description>\
             <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' pwd='asd88fgpdd777uzjYhagZg' ufrag='8hhy'>\
             <candidate component='1' foundation='1' generation='0' id='el0747fg11' ip='10.0.1.1' network='1' port='8998' \
             priority='2130706431' protocol='udp' type='host'/></transport></content></jingle></iq>",
        );
        let mut romeo = Sessions::new(ROMEO);
        let sent = romeo.initiate(SID, JULIET, initiate.contents.clone());
        assert_eq!(sent.to_builder().build().unwrap().to_xml(), initiate.to_builder().build().unwrap().to_xml());
        let mut juliet = Sessions::new(JULIET);
        let got = juliet.receive(&initiate, ROMEO).unwrap();
        assert_eq!(
            (got.action, got.state, got.contents[0].name.as_str()),
            (Action::SessionInitiate, State::Pending, "voice")
        );
        assert_eq!(got.contents[0].transport.as_ref().unwrap().attr("ufrag").as_deref(), Some("8hhy"));
        assert_eq!(romeo.acked(JULIET, &sent, &iq("<iq xmlns='jabber:client' type='result' id='ph37a419'/>")), None);
        let accept = juliet.get_mut(ROMEO, SID).unwrap().accept(initiate.contents.clone()).unwrap();
        assert_eq!(accept.responder.as_deref(), Some(JULIET));
        assert_eq!(romeo.receive(&accept, JULIET).unwrap().state, State::Active);
        assert_eq!(juliet.acked(ROMEO, &accept, &iq("<iq xmlns='jabber:client' type='result' id='x'/>")), None);
        (romeo, juliet)
    }

    #[test]
    fn the_stub_session_of_section_2_runs_its_course() {
        let initiate = jingle(
            "<iq xmlns='jabber:client' from='romeo@montague.lit/orchard' id='zid615d9' to='juliet@capulet.lit/balcony' type='set'>\
             <jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='romeo@montague.lit/orchard' sid='a73sjjvkla37jfea'>\
             <content creator='initiator' name='this-is-a-stub'><description xmlns='urn:xmpp:jingle:apps:stub:0'/>\
             <transport xmlns='urn:xmpp:jingle:transports:stub:0'/></content></jingle></iq>",
        );
        let accept = jingle(
            "<iq xmlns='jabber:client' from='juliet@capulet.lit/balcony' id='rc61n59s' to='romeo@montague.lit/orchard' type='set'>\
             <jingle xmlns='urn:xmpp:jingle:1' action='session-accept' responder='juliet@capulet.lit/balcony' sid='a73sjjvkla37jfea'>\
             <content creator='initiator' name='this-is-a-stub'><description xmlns='urn:xmpp:jingle:apps:stub:0'/>\
             <transport xmlns='urn:xmpp:jingle:transports:stub:0'/></content></jingle></iq>",
        );
        let terminate_iq = iq(
            "<iq xmlns='jabber:client' from='juliet@capulet.lit/balcony' id='le71fa63' to='romeo@montague.lit/orchard' type='set'>\
             <jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='a73sjjvkla37jfea'><reason><success/></reason></jingle></iq>",
        );
        let terminate = Jingle::from_iq(&terminate_iq).unwrap().unwrap();

        let (mut romeo, _) = Session::initiate(SID, ROMEO, JULIET, initiate.contents.clone());
        let (mut juliet, _) = Session::incoming(&initiate, ROMEO, JULIET).unwrap();
        // Juliet's session-accept is the one of Example 2.
        let sent = juliet.accept(accept.contents.clone()).unwrap();
        assert_eq!(
            sent.iq(ROMEO).build().unwrap().child("jingle", NS).unwrap().to_xml(),
            accept.to_builder().build().unwrap().to_xml()
        );
        assert_eq!(romeo.receive(&accept, JULIET).unwrap().state, State::Active);
        // a second session-accept is out of order
        assert_eq!(romeo.receive(&accept, JULIET).unwrap_err(), JingleError::OutOfOrder);
        let bye = romeo.receive(&terminate, JULIET).unwrap();
        assert_eq!((bye.state, bye.reason.unwrap().condition), (State::Ended, ReasonCondition::Success));
        // ack (Example 4), then anything on the ended session is unknown (§6.7)
        assert_eq!(
            iq_result(&terminate_iq).attr("from", ROMEO).build().unwrap().to_xml(),
            "<iq xmlns='jabber:client' type='result' id='le71fa63' to='juliet@capulet.lit/balcony' from='romeo@montague.lit/orchard'/>"
        );
        let ping = Jingle::new(Action::SessionInfo, SID);
        assert_eq!(romeo.receive(&ping, JULIET).unwrap_err(), JingleError::UnknownSession);
    }

    #[test]
    fn a_stranger_cannot_end_someone_elses_session() {
        let (mut romeo, _juliet) = active();
        let forged = iq(
            "<iq xmlns='jabber:client' from='iago@venice.lit/dagger' id='ur71vs62' to='romeo@montague.lit/orchard' type='set'>\
             <jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='a73sjjvkla37jfea'><reason><success/></reason></jingle></iq>",
        );
        let error = romeo.receive(&Jingle::from_iq(&forged).unwrap().unwrap(), IAGO).unwrap_err();
        assert_eq!(error, JingleError::UnknownSession);
        // §6.7, Example 21
        assert_eq!(
            error.reply(&forged).build().unwrap().to_xml(),
            "<iq xmlns='jabber:client' type='error' id='ur71vs62' to='iago@venice.lit/dagger'><error type='cancel'>\
             <item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><unknown-session xmlns='urn:xmpp:jingle:errors:1'/></error></iq>"
        );
        assert_eq!(JingleError::from_reply(&error.reply(&forged).build().unwrap()), Some(JingleError::UnknownSession));
        assert_eq!(romeo.get(JULIET, SID).unwrap().state(), State::Active, "the session goes on");
        // the same from another resource of Juliet's is a stranger too: sessions are with a full JID
        let bye = Jingle::new(Action::SessionTerminate, SID);
        assert_eq!(romeo.receive(&bye, "juliet@capulet.lit/chamber").unwrap_err(), JingleError::UnknownSession);
        // and an unknown sid
        assert_eq!(
            romeo.receive(&Jingle::new(Action::SessionTerminate, "nope"), JULIET).unwrap_err(),
            JingleError::UnknownSession
        );
    }

    #[test]
    fn actions_are_checked_against_state_and_sender() {
        let (mut romeo, mut juliet) =
            Session::initiate(SID, ROMEO, JULIET, vec![content(Role::Initiator, "stub")]).0.clone().pair();
        // the initiator cannot accept; a second initiate is out of order
        assert_eq!(
            juliet.receive(&Jingle::new(Action::SessionAccept, SID), ROMEO).unwrap_err(),
            JingleError::OutOfOrder
        );
        let again = Jingle::new(Action::SessionInitiate, SID).with_contents(vec![content(Role::Initiator, "stub")]);
        assert_eq!(juliet.receive(&again, ROMEO).unwrap_err(), JingleError::OutOfOrder);
        // content-accept without a content-add
        let stray = Jingle::new(Action::ContentAccept, SID).with_contents(vec![content(Role::Initiator, "stub")]);
        assert_eq!(romeo.receive(&stray, JULIET).unwrap_err(), JingleError::OutOfOrder);
        // transport-accept without a transport-replace
        let stray = Jingle::new(Action::TransportAccept, SID).with_contents(vec![content(Role::Initiator, "stub")]);
        assert_eq!(romeo.receive(&stray, JULIET).unwrap_err(), JingleError::OutOfOrder);
        // transport-info for a content the session does not have
        let info = Jingle::new(Action::TransportInfo, SID).with_contents(vec![content(Role::Initiator, "video")]);
        assert!(matches!(romeo.receive(&info, JULIET), Err(JingleError::BadRequest(_))));
        // content-modify needs senders (§7.3)
        let modify = Jingle::new(Action::ContentModify, SID).with_contents(vec![Content::new(Role::Initiator, "stub")]);
        assert!(matches!(romeo.receive(&modify, JULIET), Err(JingleError::BadRequest(_))));
        // a malformed request is a bad request (§7.2)
        let bad = el(
            "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='x'><content creator='nobody' name='a'/></jingle>",
        );
        assert!(matches!(Jingle::from_element(&bad), Err(JingleError::BadRequest(_))));
        // a session-initiate of only early-session contents (§7.2.10)
        let mut early = content(Role::Initiator, "early");
        early.disposition = Some("early-session".into());
        let initiate = Jingle::new(Action::SessionInitiate, "s2").with_contents(vec![early]);
        assert!(matches!(Session::incoming(&initiate, ROMEO, JULIET), Err(JingleError::BadRequest(_))));
    }

    impl Session {
        /// This (outgoing, pending) session and the peer's side of it.
        fn pair(self) -> (Session, Session) {
            let mut initiate = Jingle::new(Action::SessionInitiate, &self.sid).with_contents(self.contents.clone());
            initiate.initiator = Some(self.local.clone());
            let (peer, _) = Session::incoming(&initiate, &self.local, &self.peer).unwrap();
            (self, peer)
        }
    }

    #[test]
    fn contents_are_added_accepted_rejected_modified_and_removed() {
        let (mut romeo, mut juliet) = active();
        let romeo = romeo.get_mut(JULIET, SID).unwrap();
        let juliet = juliet.get_mut(ROMEO, SID).unwrap();
        // Juliet adds video (created by the responder), Romeo accepts it
        let add = juliet
            .send(Jingle::new(Action::ContentAdd, SID).with_contents(vec![content(Role::Responder, "video")]))
            .unwrap();
        let got = romeo.receive(&add, JULIET).unwrap();
        assert_eq!((got.action, got.contents[0].creator), (Action::ContentAdd, Role::Responder));
        assert_eq!(romeo.contents().len(), 1, "not yet accepted");
        assert!(juliet.acked(&add, &iq("<iq xmlns='jabber:client' type='result'/>")).is_none());
        // Juliet cannot accept her own content
        let self_accept =
            Jingle::new(Action::ContentAccept, SID).with_contents(vec![content(Role::Responder, "video")]);
        assert_eq!(juliet.send(self_accept.clone()).unwrap_err(), JingleError::OutOfOrder);
        let accept = romeo.send(self_accept).unwrap();
        juliet.receive(&accept, ROMEO).unwrap();
        assert_eq!((romeo.contents().len(), juliet.contents().len()), (2, 2));
        // Romeo adds screen sharing, Juliet rejects it
        let add = romeo
            .send(Jingle::new(Action::ContentAdd, SID).with_contents(vec![content(Role::Initiator, "screen")]))
            .unwrap();
        juliet.receive(&add, ROMEO).unwrap();
        assert!(romeo.acked(&add, &iq("<iq xmlns='jabber:client' type='result'/>")).is_none());
        let reject = juliet
            .send(Jingle::new(Action::ContentReject, SID).with_contents(vec![content(Role::Initiator, "screen")]))
            .unwrap();
        romeo.receive(&reject, JULIET).unwrap();
        assert_eq!((romeo.contents().len(), juliet.contents().len()), (2, 2));
        // content-add of an existing content
        let dup = Jingle::new(Action::ContentAdd, SID).with_contents(vec![content(Role::Responder, "video")]);
        assert!(matches!(romeo.receive(&dup, JULIET), Err(JingleError::BadRequest(_))));
        // Juliet makes the video one-way
        let modify = Jingle::new(Action::ContentModify, SID)
            .with_contents(vec![Content::new(Role::Responder, "video").with_senders(Senders::Responder)]);
        romeo.receive(&juliet.send(modify).unwrap(), JULIET).unwrap();
        assert_eq!(romeo.contents()[1].senders, Senders::Responder);
        // then removes it (Example from §7.2.5: only the removed content is named)
        let remove = juliet
            .send(Jingle::new(Action::ContentRemove, SID).with_contents(vec![Content::new(Role::Responder, "video")]))
            .unwrap();
        romeo.receive(&remove, JULIET).unwrap();
        assert_eq!(romeo.contents().iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["voice"]);
        assert_eq!(juliet.contents().len(), 1);
    }

    #[test]
    fn a_transport_is_replaced_or_kept() {
        let (mut romeo, mut juliet) = active();
        let romeo = romeo.get_mut(JULIET, SID).unwrap();
        let juliet = juliet.get_mut(ROMEO, SID).unwrap();
        let ibb = el("<transport xmlns='urn:xmpp:jingle:transports:ibb:1' block-size='4096' sid='ch3d9s71'/>");
        let replace = Jingle::new(Action::TransportReplace, SID)
            .with_contents(vec![Content::new(Role::Initiator, "voice").with_transport(ibb.clone())]);
        juliet.receive(&romeo.send(replace.clone()).unwrap(), ROMEO).unwrap();
        // a reject keeps ICE-UDP
        let reject = juliet
            .send(Jingle::new(Action::TransportReject, SID).with_contents(vec![Content::new(Role::Initiator, "voice")]))
            .unwrap();
        romeo.receive(&reject, JULIET).unwrap();
        assert_eq!(romeo.contents()[0].transport.as_ref().unwrap().ns(), "urn:xmpp:jingle:transports:ice-udp:1");
        assert_eq!(romeo.receive(&reject, JULIET).unwrap_err(), JingleError::OutOfOrder, "nothing left to reject");
        // an accept switches to IBB on both sides
        assert!(romeo.acked(&replace, &iq("<iq xmlns='jabber:client' type='result'/>")).is_none());
        juliet.receive(&romeo.send(replace).unwrap(), ROMEO).unwrap();
        let accept = juliet
            .send(Jingle::new(Action::TransportAccept, SID).with_contents(vec![Content::new(Role::Initiator, "voice")]))
            .unwrap();
        romeo.receive(&accept, JULIET).unwrap();
        for s in [&*romeo, &*juliet] {
            assert_eq!(s.contents()[0].transport.as_ref().unwrap().attr("sid").as_deref(), Some("ch3d9s71"));
        }
    }

    #[test]
    fn crossing_requests_are_tie_broken_for_the_initiator() {
        let (mut romeo, mut juliet) = active();
        let romeo = romeo.get_mut(JULIET, SID).unwrap();
        let juliet = juliet.get_mut(ROMEO, SID).unwrap();
        let theirs = juliet
            .send(Jingle::new(Action::ContentAdd, SID).with_contents(vec![content(Role::Responder, "video")]))
            .unwrap();
        let ours = romeo
            .send(Jingle::new(Action::ContentAdd, SID).with_contents(vec![content(Role::Initiator, "video")]))
            .unwrap();
        // the initiator refuses the responder's (§7.2.16, Example 21) ...
        let request = theirs.iq(ROMEO).attr("from", JULIET).attr("id", "hb2f164w").build().unwrap();
        let error = romeo.receive(&theirs, JULIET).unwrap_err();
        assert_eq!(error, JingleError::TieBreak);
        let reply = error.reply(&request).build().unwrap();
        // ... the responder takes the initiator's
        let took = juliet.receive(&ours, ROMEO).unwrap();
        assert_eq!(took.overruled, Some((SID.to_owned(), Action::ContentAdd)));
        assert_eq!(juliet.acked(&theirs, &reply), Some(JingleError::TieBreak));
        // so the initiator's content is the one pending on both sides, and can be accepted
        let accept = juliet
            .send(Jingle::new(Action::ContentAccept, SID).with_contents(vec![content(Role::Initiator, "video")]))
            .unwrap();
        romeo.receive(&accept, JULIET).unwrap();
        assert_eq!(
            romeo.contents().iter().map(|c| c.key()).collect::<Vec<_>>(),
            [(Role::Initiator, "voice"), (Role::Initiator, "video")]
        );
        assert_eq!(juliet.contents().len(), 2);
    }

    #[test]
    fn a_refused_request_is_rolled_back_alone() {
        let (mut romeo, _juliet) = active();
        let romeo = romeo.get_mut(JULIET, SID).unwrap();
        let add = romeo
            .send(Jingle::new(Action::ContentAdd, SID).with_contents(vec![content(Role::Initiator, "video")]))
            .unwrap();
        let info = romeo
            .send(Jingle::new(Action::TransportInfo, SID).with_contents(vec![content(Role::Initiator, "voice")]))
            .unwrap();
        assert!(romeo.acked(&info, &iq("<iq xmlns='jabber:client' type='result'/>")).is_none());
        let refused = iq("<iq xmlns='jabber:client' type='error'><error type='cancel'>\
             <feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
        assert_eq!(romeo.acked(&add, &refused), None);
        assert_eq!(romeo.state(), State::Active, "a refused content-add does not end the session");
        // the content is gone: adding it again is fine, a transport-info for it is not
        let info = Jingle::new(Action::TransportInfo, SID).with_contents(vec![content(Role::Initiator, "video")]);
        assert!(matches!(romeo.send(info), Err(JingleError::BadRequest(_))));
        romeo.send(add).unwrap();
        // an unknown-session answer ends the session
        let gone = iq(
            "<iq xmlns='jabber:client' type='error'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <unknown-session xmlns='urn:xmpp:jingle:errors:1'/></error></iq>",
        );
        let ping = romeo.send(Jingle::new(Action::SessionInfo, SID)).unwrap();
        assert_eq!(romeo.acked(&ping, &gone), Some(JingleError::UnknownSession));
        assert_eq!(romeo.state(), State::Ended);
    }

    #[test]
    fn crossing_session_initiates_keep_the_lower_sid() {
        let stub = vec![content(Role::Initiator, "stub")];
        let mut romeo = Sessions::new(ROMEO);
        let mut juliet = Sessions::new(JULIET);
        let from_romeo = romeo.initiate("a73sjjvkla37jfea", JULIET, stub.clone());
        let from_juliet = juliet.initiate("b84tkkwlmb48kgfb", ROMEO, stub);
        // Romeo's sid is the lower: he refuses Juliet's, she takes his and drops hers
        assert_eq!(romeo.receive(&from_juliet, JULIET).unwrap_err(), JingleError::TieBreak);
        let took = juliet.receive(&from_romeo, ROMEO).unwrap();
        assert_eq!(took.overruled, Some(("b84tkkwlmb48kgfb".to_owned(), Action::SessionInitiate)));
        assert!(juliet.get(ROMEO, "b84tkkwlmb48kgfb").is_none());
        assert_eq!(juliet.iter().count(), 1);
        assert!(!initiate_wins("b", JULIET, "a", ROMEO));
        assert!(initiate_wins("a", "a@x/1", "a", "b@x/1"));
    }

    #[test]
    fn session_info_is_a_ping_or_a_payload() {
        let (mut romeo, _) = active();
        let ping = iq(
            "<iq xmlns='jabber:client' from='juliet@capulet.lit/balcony' id='ug37vb25' to='romeo@montague.lit/orchard' type='set'>\
             <jingle xmlns='urn:xmpp:jingle:1' action='session-info' sid='a73sjjvkla37jfea'/></iq>",
        );
        assert!(romeo.receive(&Jingle::from_iq(&ping).unwrap().unwrap(), JULIET).unwrap().is_ping());
        let ringing = iq(
            "<iq xmlns='jabber:client' from='juliet@capulet.lit/balcony' id='hq7rg186' to='romeo@montague.lit/orchard' type='set'>\
             <jingle xmlns='urn:xmpp:jingle:1' action='session-info' sid='a73sjjvkla37jfea'><ringing xmlns='urn:xmpp:jingle:apps:rtp:1:info'/></jingle></iq>",
        );
        let got = romeo.receive(&Jingle::from_iq(&ringing).unwrap().unwrap(), JULIET).unwrap();
        assert_eq!(got.payloads[0].name(), "ringing");
        // an application that does not know it answers §6.8, Example 28
        assert_eq!(
            JingleError::UnsupportedInfo.reply(&ringing).build().unwrap().to_xml(),
            "<iq xmlns='jabber:client' type='error' id='hq7rg186' to='juliet@capulet.lit/balcony'><error type='modify'>\
             <feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><unsupported-info xmlns='urn:xmpp:jingle:errors:1'/></error></iq>"
        );
    }

    #[test]
    fn reasons_read_as_in_section_6_7() {
        let t = jingle(
            "<iq xmlns='jabber:client' from='juliet@capulet.lit/balcony' id='ay3r2b86' to='romeo@montague.lit/orchard' type='set'>\
             <jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='a73sjjvkla37jfea'>\
             <reason><alternative-session><sid>b84tkkwlmb48kgfb</sid></alternative-session></reason></jingle></iq>",
        );
        assert_eq!(t.reason, Some(Reason::alternative_session("b84tkkwlmb48kgfb")));
        assert_eq!(
            Reason::alternative_session("b84tkkwlmb48kgfb").to_builder().build().unwrap().to_xml(),
            "<reason xmlns='urn:xmpp:jingle:1'><alternative-session><sid>b84tkkwlmb48kgfb</sid></alternative-session></reason>"
        );
        let busy = el("<reason xmlns='urn:xmpp:jingle:1'><busy/><text>Gone to Mantua</text></reason>");
        assert_eq!(Reason::from_element(&busy), Some(Reason::new(ReasonCondition::Busy).with_text("Gone to Mantua")));
        assert_eq!(Reason::from_element(&el("<reason xmlns='urn:xmpp:jingle:1'><text>?</text></reason>")), None);
    }
}
