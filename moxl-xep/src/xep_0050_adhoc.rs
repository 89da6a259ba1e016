//! XEP-0050: Ad-Hoc Commands. Lists the commands an entity offers ([`List`], §3.2), executes one ([`Execute`],
//! §3.3) and walks multi-stage commands through their actions (`next`, `prev`, `complete`, `cancel`: §3.4, with
//! the `sessionid` kept), reading each answer as a typed [`CommandResponse`] (status, allowed and default
//! actions, notes, the data form).
//!
//! The client only uses commands offered by others (servers, components, other clients): it offers none, so this
//! module declares no disco feature.
//!
//! ```
//! use moxl_xep::xep_0004_data_forms::DataForm;
//! use moxl_xep::xep_0050_adhoc::{CommandResponse, Execute};
//! # fn run(xec: &moxl_core::xec::Xec, response: &CommandResponse) -> moxl_core::Result<()> {
//! let mut responses = xec.subscribe("adhoc_execute_handle");
//! xec.context().request(Execute::new("shakespeare.lit", "http://jabber.org/protocol/admin#add-user"))?;
//! // … a CommandResponse comes back with a form: fill it in and go on (same session)
//! if let Some(form) = &response.form {
//!     let filled = form.submission().with_value("accountjid", "juliet@shakespeare.lit");
//!     xec.context().request(response.complete(filled))?;
//! }
//! # Ok(()) }
//! ```

use moxl_core::action;
use moxl_core::stanza::{StanzaError, iq_set};
use moxl_core::xec::Context;
use moxl_core::xml::{Element, ElementBuilder};
use serde::{Deserialize, Serialize};

use crate::xep_0004_data_forms::DataForm;
use crate::xep_0030_disco::{DiscoItems, items_query};

/// `http://jabber.org/protocol/commands` (§1): the namespace of `<command/>`, and the disco node listing the
/// commands (§3.2).
///
/// ```
/// assert_eq!(moxl_xep::xep_0050_adhoc::NS, "http://jabber.org/protocol/commands");
/// ```
pub const NS: &str = "http://jabber.org/protocol/commands";

/// The request for the command list of `to` (§3.2): a disco#items query (XEP-0030) on the node [`NS`].
///
/// ```
/// let iq = moxl_xep::xep_0050_adhoc::list("responder@domain").attr("id", "list1").build()?;
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='get' to='responder@domain' id='list1'>\
///      <query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'/></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn list(to: &str) -> ElementBuilder {
    items_query(Some(to), Some(NS))
}

/// What a requester asks of a command (§4.1 `action`; §3.4 for the multi-stage ones).
///
/// ```
/// use moxl_xep::xep_0050_adhoc::CommandAction;
/// assert_eq!(CommandAction::parse("prev"), Some(CommandAction::Prev));
/// assert_eq!(CommandAction::Complete.as_str(), "complete");
/// assert_eq!(CommandAction::parse("reboot"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CommandAction {
    /// Start the command, or perform the stage's default action (§3.4).
    Execute,
    /// The next stage.
    Next,
    /// The previous stage (the responder keeps what was submitted so far).
    Prev,
    /// Finish with what was submitted.
    Complete,
    /// Stop the command (§3.3.3; the responder answers `status='canceled'`).
    Cancel,
}

impl CommandAction {
    /// The attribute value.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0050_adhoc::CommandAction::Next.as_str(), "next");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            CommandAction::Execute => "execute",
            CommandAction::Next => "next",
            CommandAction::Prev => "prev",
            CommandAction::Complete => "complete",
            CommandAction::Cancel => "cancel",
        }
    }

    /// Reads an attribute value or an `<actions/>` child's name; `None` for anything else.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0050_adhoc::CommandAction::parse("cancel").map(|a| a.as_str()), Some("cancel"));
    /// ```
    pub fn parse(value: &str) -> Option<CommandAction> {
        Some(match value {
            "execute" => CommandAction::Execute,
            "next" => CommandAction::Next,
            "prev" => CommandAction::Prev,
            "complete" => CommandAction::Complete,
            "cancel" => CommandAction::Cancel,
            _ => return None,
        })
    }
}

/// The `status` of a command response (§4.1).
///
/// ```
/// use moxl_xep::xep_0050_adhoc::Status;
/// assert_eq!(Status::parse("completed"), Some(Status::Completed));
/// assert_eq!(Status::parse("done"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// Waiting for the next action (a form to fill, usually).
    Executing,
    /// Finished; the session is over.
    Completed,
    /// Canceled by the requester; the session is over.
    Canceled,
}

impl Status {
    /// Reads the attribute value.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0050_adhoc::Status::parse("canceled"), Some(moxl_xep::xep_0050_adhoc::Status::Canceled));
    /// ```
    pub fn parse(value: &str) -> Option<Status> {
        Some(match value {
            "executing" => Status::Executing,
            "completed" => Status::Completed,
            "canceled" => Status::Canceled,
            _ => return None,
        })
    }
}

/// The `type` of a note (§4.3): `info` when absent.
///
/// ```
/// use moxl_xep::xep_0050_adhoc::NoteType;
/// assert_eq!(NoteType::parse(None), NoteType::Info);
/// assert_eq!(NoteType::parse(Some("warn")), NoteType::Warn);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NoteType {
    /// Informative (the default).
    Info,
    /// A warning; the command went on.
    Warn,
    /// The command could not do what was asked.
    Error,
}

impl NoteType {
    /// Reads the attribute (absent or unknown: `info`).
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0050_adhoc::NoteType::parse(Some("error")), moxl_xep::xep_0050_adhoc::NoteType::Error);
    /// ```
    pub fn parse(value: Option<&str>) -> NoteType {
        match value {
            Some("warn") => NoteType::Warn,
            Some("error") => NoteType::Error,
            _ => NoteType::Info,
        }
    }
}

/// A `<note/>` of a command response (§4.3).
///
/// ```
/// use moxl_xep::xep_0050_adhoc::{Note, NoteType};
/// let note = Note { kind: NoteType::Info, text: "Service 'httpd' has been configured.".into() };
/// assert_eq!(note.kind, NoteType::Info);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// `info`, `warn` or `error`.
    pub kind: NoteType,
    /// The human-readable text.
    pub text: String,
}

/// A command an entity offers: an item of its command list (§3.2).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0050_adhoc::Command;
/// let iq = Element::parse("<iq xmlns='jabber:client' type='result' from='responder@domain' id='list1'>\
///     <query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'>\
///     <item jid='responder@domain' node='config' name='Configure Service'/></query></iq>")?;
/// let commands = Command::all_in(&iq);
/// assert_eq!(commands[0].node, "config");
/// assert_eq!(commands[0].name.as_deref(), Some("Configure Service"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// The entity that executes it (the item's `jid`).
    pub jid: String,
    /// Its node, to give to [`Execute::new`].
    pub node: String,
    /// Its human-readable name.
    pub name: Option<String>,
}

impl Command {
    /// The commands of a disco#items result on the node [`NS`]. Items without `jid` or `node` are left out;
    /// a result for another node gives none.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let other = Element::parse("<iq xmlns='jabber:client' type='result' id='x'>\
    ///     <query xmlns='http://jabber.org/protocol/disco#items'><item jid='a@b' node='n'/></query></iq>")?;
    /// assert!(moxl_xep::xep_0050_adhoc::Command::all_in(&other).is_empty());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn all_in(stanza: &Element) -> Vec<Command> {
        DiscoItems::from_stanza(stanza)
            .filter(|q| q.node.as_deref() == Some(NS))
            .into_iter()
            .flat_map(|q| q.items)
            .filter_map(|i| Some(Command { jid: i.jid, node: i.node?, name: i.name }))
            .collect()
    }
}

/// The `<iq type='set'><command/></iq>` that executes a command or moves a session on (§3.3, §3.4): `action`
/// `None` means "execute" (start, or the stage's default action); a `sessionid` continues a session; `form` is
/// the stage's submitted (or canceled) data form.
///
/// ```
/// use moxl_xep::xep_0004_data_forms::DataForm;
/// use moxl_xep::xep_0050_adhoc::{command, CommandAction};
/// // §3.3.1
/// let start = command("responder@domain", "list", Some(CommandAction::Execute), None, None).attr("id", "exec1");
/// assert_eq!(
///     start.build()?.to_xml(),
///     "<iq xmlns='jabber:client' type='set' to='responder@domain' id='exec1'>\
///      <command xmlns='http://jabber.org/protocol/commands' node='list' action='execute'/></iq>"
/// );
/// // §3.4: the next stage, with the form of the first one
/// let form = DataForm::submit(None).with_value("service", "httpd");
/// let next = command("responder@domain", "config", None, Some("config:20020923T213616Z-700"), Some(&form)).build()?;
/// let cmd = next.child("command", moxl_xep::xep_0050_adhoc::NS).unwrap();
/// assert_eq!(cmd.attr("sessionid").as_deref(), Some("config:20020923T213616Z-700"));
/// assert_eq!(DataForm::find_in(&cmd).unwrap().value("service"), Some("httpd"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn command(
    to: &str,
    node: &str,
    action: Option<CommandAction>,
    sessionid: Option<&str>,
    form: Option<&DataForm>,
) -> ElementBuilder {
    let mut command = ElementBuilder::new("command", NS)
        .attr("node", node.to_owned())
        .attr_opt("sessionid", sessionid.map(str::to_owned))
        .attr_opt("action", action.map(|a| a.as_str()));
    if let Some(form) = form {
        command = command.append(form.to_element());
    }
    iq_set(Some(to)).append(command)
}

/// A command response (§3.3, §4.1): the `<command/>` of the responder's result, and who sent it.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0050_adhoc::{CommandAction, CommandResponse, Status};
/// // §3.4: the second stage of a multi-stage command
/// let iq = Element::parse("<iq xmlns='jabber:client' type='result' from='responder@domain' to='requester@domain' id='exec2'>\
///     <command xmlns='http://jabber.org/protocol/commands' sessionid='config:20020923T213616Z-700' node='config' status='executing'>\
///     <actions execute='complete'><prev/><complete/></actions>\
///     <x xmlns='jabber:x:data' type='form'><title>Configure Service</title>\
///     <field var='state' label='Run State' type='list-single'><value>off</value></field></x></command></iq>")?;
/// let response = CommandResponse::from_stanza(&iq, "responder@domain").unwrap();
/// assert_eq!(response.status, Some(Status::Executing));
/// assert_eq!(response.actions, vec![CommandAction::Prev, CommandAction::Complete]);
/// assert_eq!(response.default_action(), Some(CommandAction::Complete));
/// assert!(response.allows(CommandAction::Cancel) && !response.allows(CommandAction::Next));
/// assert_eq!(response.form.as_ref().and_then(|f| f.value("state")), Some("off"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandResponse {
    /// The entity executing the command (where the next stages go).
    pub jid: String,
    /// The command's node.
    pub node: String,
    /// The session, to give back at every later stage (§3.4.1). Absent only in single-stage answers.
    pub sessionid: Option<String>,
    /// `executing`, `completed` or `canceled` (absent: an invalid response; treat as over).
    pub status: Option<Status>,
    /// The actions the `<actions/>` element lists (`prev`, `next`, `complete`), in document order.
    pub actions: Vec<CommandAction>,
    /// The `execute` attribute of `<actions/>`: the action that "execute" performs.
    pub execute: Option<CommandAction>,
    /// The notes (§4.3), in document order.
    pub notes: Vec<Note>,
    /// The data form of the stage (a form to fill while executing, a result when completed).
    pub form: Option<DataForm>,
}

impl CommandResponse {
    /// Reads the `<command/>` of a result. `jid` is the responder when the stanza carries no `from` (a request
    /// to our own server). `None` without a `<command/>` or without a `node`.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0050_adhoc::{CommandResponse, NoteType, Status};
    /// // §3.3.2 (abridged): completed, with a note
    /// let iq = Element::parse("<iq xmlns='jabber:client' type='result' from='responder@domain' id='exec3'>\
    ///     <command xmlns='http://jabber.org/protocol/commands' sessionid='config:20020923T213616Z-700' node='config' status='completed'>\
    ///     <note type='info'>Service 'httpd' has been configured.</note></command></iq>")?;
    /// let done = CommandResponse::from_stanza(&iq, "ignored@domain").unwrap();
    /// assert_eq!((done.jid.as_str(), done.status), ("responder@domain", Some(Status::Completed)));
    /// assert_eq!(done.notes[0].kind, NoteType::Info);
    /// assert!(done.is_over() && done.actions.is_empty());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_stanza(stanza: &Element, responder: &str) -> Option<CommandResponse> {
        let command = stanza.child("command", NS)?;
        let actions_el = command.child("actions", NS);
        let actions = actions_el
            .iter()
            .flat_map(|a| a.children())
            .filter(|a| a.ns() == NS)
            .filter_map(|a| CommandAction::parse(a.name()))
            .filter(|a| matches!(a, CommandAction::Prev | CommandAction::Next | CommandAction::Complete))
            .collect();
        Some(CommandResponse {
            jid: stanza.attr("from").map_or_else(|| responder.to_owned(), |f| f.into_owned()),
            node: command.attr("node")?.into_owned(),
            sessionid: command.attr("sessionid").map(|s| s.into_owned()),
            status: command.attr("status").and_then(|s| Status::parse(&s)),
            actions,
            execute: actions_el.and_then(|a| a.attr("execute").and_then(|e| CommandAction::parse(&e))),
            notes: command
                .children()
                .filter(|n| n.is("note", NS))
                .map(|n| Note { kind: NoteType::parse(n.attr("type").as_deref()), text: n.text().into_owned() })
                .collect(),
            form: DataForm::find_in(&command),
        })
    }

    /// Whether the command is finished (completed, canceled, or without a valid status): no action is left.
    ///
    /// ```
    /// # use moxl_xep::xep_0050_adhoc::*;
    /// let r = CommandResponse { jid: "a@b".into(), node: "n".into(), sessionid: None, status: Some(Status::Canceled),
    ///     actions: vec![], execute: None, notes: vec![], form: None };
    /// assert!(r.is_over());
    /// ```
    pub fn is_over(&self) -> bool {
        self.status != Some(Status::Executing)
    }

    /// The action "execute" performs at this stage (§3.4): the `execute` attribute; else `next` if allowed;
    /// else `complete` (a stage without `<actions/>` can only be completed). `None` once the command is over.
    ///
    /// ```
    /// # use moxl_xep::xep_0050_adhoc::*;
    /// let r = CommandResponse { jid: "a@b".into(), node: "n".into(), sessionid: Some("s".into()),
    ///     status: Some(Status::Executing), actions: vec![], execute: None, notes: vec![], form: None };
    /// assert_eq!(r.default_action(), Some(CommandAction::Complete));
    /// ```
    pub fn default_action(&self) -> Option<CommandAction> {
        if self.is_over() {
            return None;
        }
        if let Some(execute) = self.execute.filter(|e| self.actions.contains(e)) {
            return Some(execute);
        }
        if self.actions.contains(&CommandAction::Next) {
            return Some(CommandAction::Next);
        }
        Some(CommandAction::Complete)
    }

    /// Whether `action` may be requested now: while executing, `cancel` and `execute` always, and the listed
    /// actions (or only `complete` when none is listed, §3.4); nothing once the command is over.
    ///
    /// ```
    /// # use moxl_xep::xep_0050_adhoc::*;
    /// let r = CommandResponse { jid: "a@b".into(), node: "n".into(), sessionid: Some("s".into()),
    ///     status: Some(Status::Executing), actions: vec![CommandAction::Next], execute: None, notes: vec![], form: None };
    /// assert!(r.allows(CommandAction::Next) && r.allows(CommandAction::Cancel) && !r.allows(CommandAction::Prev));
    /// ```
    pub fn allows(&self, action: CommandAction) -> bool {
        if self.is_over() {
            return false;
        }
        match action {
            CommandAction::Cancel | CommandAction::Execute => true,
            CommandAction::Complete if self.actions.is_empty() => true,
            other => self.actions.contains(&other),
        }
    }

    /// The notes of type `error`: what went wrong, if anything.
    ///
    /// ```
    /// # use moxl_xep::xep_0050_adhoc::*;
    /// let r = CommandResponse { jid: "a@b".into(), node: "n".into(), sessionid: None, status: Some(Status::Completed),
    ///     actions: vec![], execute: None, notes: vec![Note { kind: NoteType::Error, text: "no".into() }], form: None };
    /// assert_eq!(r.errors().next(), Some("no"));
    /// ```
    pub fn errors(&self) -> impl Iterator<Item = &str> {
        self.notes.iter().filter(|n| n.kind == NoteType::Error).map(|n| n.text.as_str())
    }

    fn stage(&self, action: Option<CommandAction>, form: Option<DataForm>) -> Execute {
        Execute { to: self.jid.clone(), node: self.node.clone(), sessionid: self.sessionid.clone(), action, form }
    }

    /// The next stage, submitting `form` (§3.4: `action='next'`).
    ///
    /// ```
    /// # use moxl_xep::xep_0050_adhoc::*;
    /// # use moxl_xep::xep_0004_data_forms::DataForm;
    /// let r = CommandResponse { jid: "responder@domain".into(), node: "config".into(), sessionid: Some("s1".into()),
    ///     status: Some(Status::Executing), actions: vec![CommandAction::Next], execute: None, notes: vec![], form: None };
    /// let next = r.next(DataForm::submit(None).with_value("service", "httpd"));
    /// assert_eq!((next.sessionid.as_deref(), next.action), (Some("s1"), Some(CommandAction::Next)));
    /// ```
    pub fn next(&self, form: DataForm) -> Execute {
        self.stage(Some(CommandAction::Next), Some(form))
    }

    /// The previous stage (§3.4: `action='prev'`, no form).
    ///
    /// ```
    /// # use moxl_xep::xep_0050_adhoc::*;
    /// let r = CommandResponse { jid: "a@b".into(), node: "n".into(), sessionid: Some("s1".into()),
    ///     status: Some(Status::Executing), actions: vec![CommandAction::Prev], execute: None, notes: vec![], form: None };
    /// assert_eq!(r.prev().action, Some(CommandAction::Prev));
    /// ```
    pub fn prev(&self) -> Execute {
        self.stage(Some(CommandAction::Prev), None)
    }

    /// Finishes, submitting `form` (§3.4: `action='complete'`).
    ///
    /// ```
    /// # use moxl_xep::xep_0050_adhoc::*;
    /// # use moxl_xep::xep_0004_data_forms::DataForm;
    /// let r = CommandResponse { jid: "a@b".into(), node: "n".into(), sessionid: Some("s1".into()),
    ///     status: Some(Status::Executing), actions: vec![], execute: None, notes: vec![], form: None };
    /// assert_eq!(r.complete(DataForm::submit(None)).action, Some(CommandAction::Complete));
    /// ```
    pub fn complete(&self, form: DataForm) -> Execute {
        self.stage(Some(CommandAction::Complete), Some(form))
    }

    /// Performs the stage's default action, submitting `form` (no `action` attribute: "execute", §3.4).
    ///
    /// ```
    /// # use moxl_xep::xep_0050_adhoc::*;
    /// # use moxl_xep::xep_0004_data_forms::DataForm;
    /// let r = CommandResponse { jid: "a@b".into(), node: "n".into(), sessionid: Some("s1".into()),
    ///     status: Some(Status::Executing), actions: vec![], execute: None, notes: vec![], form: None };
    /// assert_eq!(r.execute(DataForm::submit(None)).action, None);
    /// ```
    pub fn execute(&self, form: DataForm) -> Execute {
        self.stage(None, Some(form))
    }

    /// Cancels the session (§3.3.3: `action='cancel'`); the responder answers `status='canceled'`.
    ///
    /// ```
    /// # use moxl_xep::xep_0050_adhoc::*;
    /// let r = CommandResponse { jid: "a@b".into(), node: "n".into(), sessionid: Some("s1".into()),
    ///     status: Some(Status::Executing), actions: vec![], execute: None, notes: vec![], form: None };
    /// assert_eq!(r.cancel().action, Some(CommandAction::Cancel));
    /// ```
    pub fn cancel(&self) -> Execute {
        self.stage(Some(CommandAction::Cancel), None)
    }
}

/// The command-specific error conditions (§4.4), carried next to the general condition of an error reply.
///
/// ```
/// use moxl_core::stanza::StanzaError;
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0050_adhoc::CommandError;
/// // §4.4: bad-request with <bad-sessionid/>
/// let reply = Element::parse("<iq xmlns='jabber:client' type='error' from='responder@domain' id='exec2'>\
///     <error type='modify'><bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
///     <bad-sessionid xmlns='http://jabber.org/protocol/commands'/></error></iq>")?;
/// assert_eq!(CommandError::in_stanza(&reply), Some(CommandError::BadSessionid));
/// # let _ = StanzaError::from_stanza(&reply);
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CommandError {
    /// The action is not known or not allowed now.
    MalformedAction,
    /// The action is not allowed at this stage.
    BadAction,
    /// The requested language is not supported.
    BadLocale,
    /// The data form is wrong.
    BadPayload,
    /// The session is unknown.
    BadSessionid,
    /// The session expired.
    SessionExpired,
}

impl CommandError {
    /// The command-specific condition of an error reply, if any.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let reply = Element::parse("<iq xmlns='jabber:client' type='error' id='x'><error type='cancel'>\
    ///     <not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><session-expired xmlns='http://jabber.org/protocol/commands'/></error></iq>")?;
    /// assert_eq!(moxl_xep::xep_0050_adhoc::CommandError::in_stanza(&reply), Some(moxl_xep::xep_0050_adhoc::CommandError::SessionExpired));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn in_stanza(stanza: &Element) -> Option<CommandError> {
        let error = stanza.child("error", moxl_core::xml::ns::CLIENT)?;
        error.children().filter(|c| c.ns() == NS).find_map(|c| {
            Some(match c.name() {
                "malformed-action" => CommandError::MalformedAction,
                "bad-action" => CommandError::BadAction,
                "bad-locale" => CommandError::BadLocale,
                "bad-payload" => CommandError::BadPayload,
                "bad-sessionid" => CommandError::BadSessionid,
                "session-expired" => CommandError::SessionExpired,
                _ => return None,
            })
        })
    }
}

/// An error reply to a command request: the stanza error and the command-specific condition (§4.4).
///
/// ```
/// use moxl_core::stanza::{Condition, StanzaError};
/// use moxl_xep::xep_0050_adhoc::{CommandError, CommandFailure};
/// let failure = CommandFailure { error: StanzaError::new(Condition::BadRequest), command: Some(CommandError::BadAction) };
/// assert_eq!(failure.error.condition(), Some(Condition::BadRequest));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandFailure {
    /// The general error (`forbidden` for a command we may not run, `item-not-found` for an unknown node…).
    pub error: StanzaError,
    /// The command-specific condition, if the responder gave one.
    pub command: Option<CommandError>,
}

/// Lists the commands of an entity (§3.2). Output: the commands, a `Vec<`[`Command`]`>` (maybe empty); an error
/// is `Err(Error::Stanza(..))`. The Packets are the second view:
///
/// | answer | Packet key |
/// |---|---|
/// | the list (maybe empty) | `adhoc_list_handle` |
/// | an error | `adhoc_list_error` ([`StanzaError`]) |
///
/// ```
/// use moxl_xep::xep_0050_adhoc::List;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let commands = xec.context().request(List { to: "shakespeare.lit".into() })?.await?;
/// let nodes: Vec<&str> = commands.iter().map(|c| c.node.as_str()).collect();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct List {
    /// The entity whose commands to list.
    pub to: String,
}

#[action(group = "adhoc")]
impl List {
    /// The entity's commands.
    type Output = Vec<Command>;

    fn request(&self) -> ElementBuilder {
        list(&self.to)
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> moxl_core::Result<Vec<Command>> {
        Ok(Command::all_in(stanza))
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Executes a command or moves its session on (§3.3, §3.4). Delivers a [`CommandResponse`]; go on with its
/// [`next`](CommandResponse::next), [`prev`](CommandResponse::prev), [`complete`](CommandResponse::complete),
/// [`execute`](CommandResponse::execute) or [`cancel`](CommandResponse::cancel), which keep the session.
///
/// Output: the [`CommandResponse`]; an error is `Err(Error::Stanza(..))` (the command-specific condition, §4.4,
/// is in the error Packet's [`CommandFailure`]), a result without a valid `<command/>` a handler error.
/// The Packets are the second view:
///
/// | answer | Packet key |
/// |---|---|
/// | a command response | `adhoc_execute_handle` ([`CommandResponse`]) |
/// | a result without a valid `<command/>` | `adhoc_execute_error` ([`CommandFailure`], `undefined-condition`) |
/// | an error | `adhoc_execute_error` ([`CommandFailure`]) |
///
/// ```
/// use moxl_xep::xep_0050_adhoc::Execute;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let response = xec.context().request(Execute::new("responder@domain", "config"))?.await?;
/// let form = response.form.as_ref();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Execute {
    /// The entity executing the command.
    pub to: String,
    /// The command's node.
    pub node: String,
    /// The session to continue (`None` to start one).
    pub sessionid: Option<String>,
    /// The action; `None` performs the default one ("execute").
    pub action: Option<CommandAction>,
    /// The submitted data form.
    pub form: Option<DataForm>,
}

impl Execute {
    /// Starts the command `node` of `to` (`action='execute'`, §3.3.1).
    ///
    /// ```
    /// let start = moxl_xep::xep_0050_adhoc::Execute::new("responder@domain", "list");
    /// assert_eq!(start.action, Some(moxl_xep::xep_0050_adhoc::CommandAction::Execute));
    /// ```
    pub fn new(to: impl Into<String>, node: impl Into<String>) -> Execute {
        Execute { to: to.into(), node: node.into(), sessionid: None, action: Some(CommandAction::Execute), form: None }
    }
}

#[action(group = "adhoc")]
impl Execute {
    /// The responder's answer: status, actions, form, notes.
    type Output = CommandResponse;

    fn request(&self) -> ElementBuilder {
        command(&self.to, &self.node, self.action, self.sessionid.as_deref(), self.form.as_ref())
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> moxl_core::Result<CommandResponse> {
        match CommandResponse::from_stanza(stanza, &self.to) {
            Some(response) => Ok(response),
            None => {
                let error = StanzaError::new(moxl_core::stanza::Condition::UndefinedCondition)
                    .with_text("the result holds no <command/> with a node");
                ctx.__method("error").pack(CommandFailure { error, command: None }).deliver();
                Err(moxl_core::Error::handler("the result holds no <command/> with a node (XEP-0050 §3.4)"))
            }
        }
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, stanza: &Element) {
        ctx.pack(CommandFailure { error: error.clone(), command: CommandError::in_stanza(stanza) }).deliver();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{answer_last, block_on};
    use crate::xep_0004_data_forms::FormType;
    use moxl_core::xec::Xec;

    /// §3.2.
    const LIST_RESULT: &str = "<iq xmlns='jabber:client' type='result' to='requester@domain' from='responder@domain' id='list1'>\
        <query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'>\
        <item jid='responder@domain' node='list' name='List Service Configurations'/>\
        <item jid='responder@domain' node='config' name='Configure Service'/>\
        <item jid='responder@domain' node='reset' name='Reset Service Configuration'/>\
        <item jid='responder@domain' node='start' name='Start Service'/>\
        <item jid='responder@domain' node='stop' name='Stop Service'/>\
        <item jid='responder@domain' node='restart' name='Restart Service'/></query></iq>";

    /// §3.4: the first stage.
    const STAGE1: &str = "<iq xmlns='jabber:client' type='result' from='responder@domain' to='requester@domain' id='ID'>\
        <command xmlns='http://jabber.org/protocol/commands' sessionid='config:20020923T213616Z-700' node='config' status='executing'>\
        <actions execute='next'><next/></actions>\
        <x xmlns='jabber:x:data' type='form'><title>Configure Service</title>\
        <instructions>Please select the service to configure.</instructions>\
        <field var='service' label='Service' type='list-single'>\
        <option><value>httpd</value></option><option><value>jabberd</value></option></field></x></command></iq>";

    #[test]
    fn the_list_is_read_from_the_spec_example_and_delivered() {
        let xec = Xec::new().unwrap();
        let mut lists = xec.subscribe("adhoc_list_handle");
        let typed = xec.context().request(List { to: "responder@domain".into() }).unwrap();
        let template = LIST_RESULT.replace("id='list1'", "id='ID'");
        block_on(xec.dispatch(answer_last(&xec, &template)));
        let nodes: Vec<String> = block_on(typed).unwrap().into_iter().map(|c| c.node).collect();
        assert_eq!(nodes, ["list", "config", "reset", "start", "stop", "restart"]);
        let commands = lists.try_recv().unwrap();
        let commands = commands.content::<Vec<Command>>().unwrap();
        assert_eq!(commands.len(), 6);
        assert_eq!(commands[5].node, "restart");
        assert_eq!(commands[1].name.as_deref(), Some("Configure Service"));
    }

    #[test]
    fn a_multi_stage_command_keeps_its_session_through_next_prev_and_complete() {
        let xec = Xec::new().unwrap();
        let mut responses = xec.subscribe("adhoc_execute_handle");
        xec.context().request(Execute::new("responder@domain", "config")).unwrap();
        block_on(xec.dispatch(answer_last(&xec, STAGE1)));
        let first = responses.try_recv().unwrap().content::<CommandResponse>().unwrap().clone();
        assert_eq!(first.sessionid.as_deref(), Some("config:20020923T213616Z-700"));
        assert_eq!(
            (first.default_action(), first.actions.as_slice()),
            (Some(CommandAction::Next), &[CommandAction::Next][..])
        );
        let form = first.form.as_ref().unwrap();
        assert_eq!((form.form_type, form.field("service").unwrap().options.len()), (FormType::Form, 2));

        // next, with the form; the sessionid goes back
        xec.context().request(first.next(DataForm::submit(None).with_value("service", "httpd"))).unwrap();
        let sent = xec.take_outgoing();
        let cmd = sent[0].child("command", NS).unwrap();
        assert_eq!(cmd.attr("sessionid").as_deref(), Some("config:20020923T213616Z-700"));
        assert_eq!(cmd.attr("action").as_deref(), Some("next"));
        assert_eq!(sent[0].attr("to").as_deref(), Some("responder@domain"));
        let submitted = DataForm::find_in(&cmd).unwrap();
        assert_eq!((submitted.form_type, submitted.value("service")), (FormType::Submit, Some("httpd")));
        // the second stage answers
        let id = sent[0].attr("id").unwrap().into_owned();
        let stage2 = format!(
            "<iq xmlns='jabber:client' type='result' from='responder@domain' id='{id}'>\
            <command xmlns='http://jabber.org/protocol/commands' sessionid='config:20020923T213616Z-700' node='config' status='executing'>\
            <actions execute='complete'><prev/><complete/></actions>\
            <x xmlns='jabber:x:data' type='form'><field var='state' type='list-single'><value>off</value></field></x></command></iq>"
        );
        block_on(xec.dispatch(Element::parse(&stage2).unwrap()));
        let second = responses.try_recv().unwrap().content::<CommandResponse>().unwrap().clone();
        assert_eq!(second.default_action(), Some(CommandAction::Complete));
        assert!(second.allows(CommandAction::Prev) && !second.allows(CommandAction::Next));
        let prev = second.prev().request().build().unwrap();
        let cmd = prev.child("command", NS).unwrap();
        assert_eq!((cmd.attr("action").as_deref(), cmd.children().count()), (Some("prev"), 0));
        // complete, then the final answer (§3.4) with its note
        xec.context().request(second.complete(DataForm::submit(None).with_value("state", "on"))).unwrap();
        let done = "<iq xmlns='jabber:client' type='result' from='responder@domain' id='ID'>\
            <command xmlns='http://jabber.org/protocol/commands' sessionid='config:20020923T213616Z-700' node='config' status='completed'>\
            <note type='info'>Service 'httpd' has been configured.</note></command></iq>";
        block_on(xec.dispatch(answer_last(&xec, done)));
        let done = responses.try_recv().unwrap().content::<CommandResponse>().unwrap().clone();
        assert!(done.is_over() && done.default_action().is_none() && !done.allows(CommandAction::Cancel));
        assert_eq!(
            done.notes,
            vec![Note { kind: NoteType::Info, text: "Service 'httpd' has been configured.".into() }]
        );
    }

    #[test]
    fn cancel_and_errors_are_delivered() {
        let xec = Xec::new().unwrap();
        let mut responses = xec.subscribe("adhoc_execute_handle");
        let mut errors = xec.subscribe("adhoc_execute_error");
        let first = {
            xec.context().request(Execute::new("responder@domain", "config")).unwrap();
            block_on(xec.dispatch(answer_last(&xec, STAGE1)));
            responses.try_recv().unwrap().content::<CommandResponse>().unwrap().clone()
        };
        // §3.3.3
        xec.context().request(first.cancel()).unwrap();
        let canceled = "<iq xmlns='jabber:client' type='result' from='responder@domain' id='ID'>\
            <command xmlns='http://jabber.org/protocol/commands' sessionid='config:20020923T213616Z-700' node='config' status='canceled'/></iq>";
        block_on(xec.dispatch(answer_last(&xec, canceled)));
        let canceled = responses.try_recv().unwrap().content::<CommandResponse>().unwrap().clone();
        assert_eq!(canceled.status, Some(Status::Canceled));
        // a bad session (§4.4)
        xec.context().request(first.execute(DataForm::submit(None))).unwrap();
        let bad = "<iq xmlns='jabber:client' type='error' from='responder@domain' id='ID'><error type='modify'>\
            <bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><bad-sessionid xmlns='http://jabber.org/protocol/commands'/></error></iq>";
        block_on(xec.dispatch(answer_last(&xec, bad)));
        let failure = errors.try_recv().unwrap().content::<CommandFailure>().unwrap().clone();
        assert_eq!(failure.command, Some(CommandError::BadSessionid));
        assert_eq!(failure.error.condition(), Some(moxl_core::stanza::Condition::BadRequest));
        // a result without <command/> is no response
        xec.context().request(Execute::new("responder@domain", "config")).unwrap();
        block_on(
            xec.dispatch(answer_last(
                &xec,
                "<iq xmlns='jabber:client' type='result' from='responder@domain' id='ID'/>",
            )),
        );
        assert!(responses.try_recv().is_none());
        assert!(errors.try_recv().unwrap().content::<CommandFailure>().is_some());
        // a forged answer from another entity is not taken
        xec.context().request(Execute::new("responder@domain", "config")).unwrap();
        block_on(xec.dispatch(answer_last(&xec, &STAGE1.replace("from='responder@domain'", "from='mallory@evil'"))));
        assert!(responses.try_recv().is_none());
    }
}
