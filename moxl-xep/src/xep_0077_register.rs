//! XEP-0077: In-Band Registration. Reads what a server or service asks for ([`GetFields`] → [`RegistrationFields`]:
//! the legacy fields, the data form of §6, or a `jabber:x:oob` redirection to a web page, §5), registers
//! ([`Submit`], §3.1; also with a service such as a gateway, XEP-0100 §4.1), changes the password ([`ChangePassword`],
//! §3.3) and cancels the account ([`Cancel`], §3.2).
//!
//! Registering a new account on a server happens before authentication: `ClientBuilder::register(true)` does it at
//! connect time, with the same requests ([`moxl_core::stream::register`]). The Actions here run on an
//! authenticated stream: they register with services, and manage the account we are logged in with.
//!
//! The client offers no registration, so this module declares no disco feature.

use moxl_core::action;
use moxl_core::stanza::{StanzaError, iq_set};
use moxl_core::stream::register;
use moxl_core::xec::Context;
use moxl_core::xml::{Element, ElementBuilder};
use serde::{Deserialize, Serialize};

use crate::xep_0004_data_forms::DataForm;

/// `jabber:iq:register` (§3).
///
/// ```
/// assert_eq!(moxl_xep::xep_0077_register::NS, "jabber:iq:register");
/// ```
pub const NS: &str = register::NS;

/// `jabber:x:oob` (XEP-0066), with which a service points to a web page instead of registering in band (§5).
///
/// ```
/// assert_eq!(moxl_xep::xep_0077_register::NS_OOB, "jabber:x:oob");
/// ```
pub const NS_OOB: &str = "jabber:x:oob";

/// The `FORM_TYPE` of the data form of a password change (§3.3).
///
/// ```
/// assert_eq!(moxl_xep::xep_0077_register::FORM_TYPE_CHANGE_PASSWORD, "jabber:iq:register:changepassword");
/// ```
pub const FORM_TYPE_CHANGE_PASSWORD: &str = "jabber:iq:register:changepassword";

/// One legacy field of a registration query (§3.1, §14.1: `username`, `password`, `email`, `nick`…): its name,
/// and its value when the server gave one (the current data of a registered account, §3.1).
///
/// ```
/// let f = moxl_xep::xep_0077_register::LegacyField { name: "email".into(), value: None };
/// assert_eq!(f.name, "email");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyField {
    /// The element's name.
    pub name: String,
    /// Its text, if not empty.
    pub value: Option<String>,
}

/// A `jabber:x:oob` redirection: register on this web page instead (§5).
///
/// ```
/// let oob = moxl_xep::xep_0077_register::OutOfBand { url: "http://www.shakespeare.lit/contactus/".into(), desc: None };
/// assert!(oob.url.starts_with("http"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutOfBand {
    /// The page's URL.
    pub url: String,
    /// Its description.
    pub desc: Option<String>,
}

/// What a registration-fields result says (§3.1): whether we are registered already, the instructions, the
/// legacy fields, the data form (§6; when present it takes precedence over the legacy fields) and an out-of-band
/// redirection (§5).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0077_register::RegistrationFields;
/// // §3.1
/// let iq = Element::parse("<iq xmlns='jabber:client' type='result' id='reg1'><query xmlns='jabber:iq:register'>\
///     <instructions>Choose a username and password for use with this service. Please also provide your email address.</instructions>\
///     <username/><password/><email/></query></iq>")?;
/// let fields = RegistrationFields::from_stanza(&iq).unwrap();
/// assert!(!fields.registered && fields.asks("email") && !fields.asks("nick"));
/// assert_eq!(fields.fields.len(), 3);
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationFields {
    /// `<registered/>`: the account is registered already (the fields then carry its current data).
    pub registered: bool,
    /// The human-readable instructions.
    pub instructions: Option<String>,
    /// The legacy fields, in document order.
    pub fields: Vec<LegacyField>,
    /// The data form (`jabber:x:data`), if any (§6).
    pub form: Option<DataForm>,
    /// An out-of-band redirection to a web page (§5), if any.
    pub oob: Option<OutOfBand>,
}

impl RegistrationFields {
    /// Reads the `<query xmlns='jabber:iq:register'/>` of a result; `None` without one.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0077_register::RegistrationFields;
    /// // §3.1: already registered
    /// let iq = Element::parse("<iq xmlns='jabber:client' type='result' id='reg1'><query xmlns='jabber:iq:register'>\
    ///     <registered/><username>juliet</username><password>R0m30</password><email>juliet@capulet.com</email></query></iq>")?;
    /// let fields = RegistrationFields::from_stanza(&iq).unwrap();
    /// assert!(fields.registered);
    /// assert_eq!(fields.value("username"), Some("juliet"));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_stanza(stanza: &Element) -> Option<RegistrationFields> {
        let query = stanza.child("query", NS)?;
        let (_, registered) = register::asked_fields(stanza);
        let fields = query
            .children()
            .filter(|f| f.ns() == NS && !matches!(f.name(), "registered" | "instructions" | "remove"))
            .map(|f| {
                let text = f.text();
                LegacyField { name: f.name().to_owned(), value: (!text.is_empty()).then(|| text.into_owned()) }
            })
            .collect();
        let oob = query.child("x", NS_OOB).and_then(|x| {
            Some(OutOfBand { url: x.child_text("url", NS_OOB)?.trim().to_owned(), desc: x.child_text("desc", NS_OOB) })
        });
        Some(RegistrationFields {
            registered,
            instructions: query.child_text("instructions", NS).map(|i| i.trim().to_owned()),
            fields,
            form: DataForm::find_in(&query),
            oob,
        })
    }

    /// Whether the legacy field `name` is asked for.
    ///
    /// ```
    /// # use moxl_xep::xep_0077_register::*;
    /// let f = RegistrationFields { registered: false, instructions: None, fields: vec![LegacyField { name: "nick".into(), value: None }], form: None, oob: None };
    /// assert!(f.asks("nick"));
    /// ```
    pub fn asks(&self, name: &str) -> bool {
        self.fields.iter().any(|f| f.name == name)
    }

    /// The value of the legacy field `name`, if given.
    ///
    /// ```
    /// # use moxl_xep::xep_0077_register::*;
    /// let f = RegistrationFields { registered: true, instructions: None, fields: vec![LegacyField { name: "username".into(), value: Some("juliet".into()) }], form: None, oob: None };
    /// assert_eq!(f.value("username"), Some("juliet"));
    /// ```
    pub fn value(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|f| f.name == name).and_then(|f| f.value.as_deref())
    }

    /// The web page to register on when the service registers only out of band: an [`OutOfBand`] URL and
    /// neither legacy fields nor a form (§5).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0077_register::RegistrationFields;
    /// // §5: a redirection
    /// let iq = Element::parse("<iq xmlns='jabber:client' type='result' from='contests.shakespeare.lit' id='reg3'>\
    ///     <query xmlns='jabber:iq:register'><instructions>To register, visit http://www.shakespeare.lit/contests.php</instructions>\
    ///     <x xmlns='jabber:x:oob'><url>http://www.shakespeare.lit/contests.php</url></x></query></iq>")?;
    /// assert_eq!(RegistrationFields::from_stanza(&iq).unwrap().redirect(), Some("http://www.shakespeare.lit/contests.php"));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn redirect(&self) -> Option<&str> {
        match (&self.oob, self.fields.is_empty() && self.form.is_none()) {
            (Some(oob), true) => Some(&oob.url),
            _ => None,
        }
    }
}

/// A registration submitting legacy fields (§3.1) or a data form (§6), to `to` (`None`: our server).
///
/// ```
/// use moxl_xep::xep_0077_register::submission;
/// let iq = submission(None, &[("username", "bill"), ("password", "Calliope"), ("email", "bard@shakespeare.lit")], None)
///     .attr("id", "reg2")
///     .build()?;
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='set' id='reg2'><query xmlns='jabber:iq:register'><username>bill</username>\
///      <password>Calliope</password><email>bard@shakespeare.lit</email></query></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn submission<N: AsRef<str>, V: AsRef<str>>(
    to: Option<&str>,
    fields: &[(N, V)],
    form: Option<&DataForm>,
) -> ElementBuilder {
    let mut query = ElementBuilder::new("query", NS);
    for (name, value) in fields {
        query = query.append(ElementBuilder::new(name.as_ref().to_owned(), NS).text(value.as_ref().to_owned()));
    }
    if let Some(form) = form {
        query = query.append(form.to_element());
    }
    iq_set(to).append(query)
}

/// The cancellation of a registration (§3.2): `<remove/>`. To our server it deletes the account.
///
/// ```
/// let iq = moxl_xep::xep_0077_register::remove(None).attr("id", "unreg1").build()?;
/// assert_eq!(iq.to_xml(), "<iq xmlns='jabber:client' type='set' id='unreg1'><query xmlns='jabber:iq:register'><remove/></query></iq>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn remove(to: Option<&str>) -> ElementBuilder {
    iq_set(to).append(ElementBuilder::new("query", NS).append(ElementBuilder::new("remove", NS)))
}

/// An error reply to a registration request: the stanza error, and the data form the server sent with it, if
/// any (a password change refused with a form asking for the old password, §3.3).
///
/// ```
/// use moxl_core::stanza::{Condition, StanzaError};
/// let e = moxl_xep::xep_0077_register::RegistrationError { error: StanzaError::new(Condition::Conflict), form: None };
/// assert_eq!(e.error.condition(), Some(Condition::Conflict));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationError {
    /// `conflict` (the username is taken), `not-acceptable` (a required field is missing), `not-authorized`…
    pub error: StanzaError,
    /// The form of the error reply's `<query/>`, if any.
    pub form: Option<DataForm>,
}

impl RegistrationError {
    fn new(error: &StanzaError, stanza: &Element) -> RegistrationError {
        RegistrationError { error: error.clone(), form: stanza.child("query", NS).and_then(|q| DataForm::find_in(&q)) }
    }
}

/// Asks for the registration fields (§3.1). Output: the [`RegistrationFields`]; an error is
/// `Err(Error::Stanza(..))`, a result without a query a handler error. The Packets are the second view:
///
/// | answer | Packet key |
/// |---|---|
/// | the fields | `register_getfields_handle` ([`RegistrationFields`]) |
/// | an error (or a result without query) | `register_getfields_error` ([`RegistrationError`]) |
///
/// ```
/// use moxl_xep::xep_0077_register::GetFields;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let fields = xec.context().request(GetFields { to: Some("marlowe.shakespeare.lit".into()) })?.await?;
/// let with_form = fields.form.is_some();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GetFields {
    /// The service (`None`: our server, which then describes our account).
    pub to: Option<String>,
}

#[action(group = "register")]
impl GetFields {
    /// The fields (legacy, and the data form if any).
    type Output = RegistrationFields;

    fn request(&self) -> ElementBuilder {
        register::fields_request(self.to.as_deref())
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> moxl_core::Result<RegistrationFields> {
        match RegistrationFields::from_stanza(stanza) {
            Some(fields) => Ok(fields),
            None => {
                let error = StanzaError::new(moxl_core::stanza::Condition::UndefinedCondition)
                    .with_text("the result holds no registration query");
                ctx.__method("error").pack(RegistrationError { error, form: None }).deliver();
                Err(moxl_core::Error::handler("the result holds no registration query (XEP-0077 §3.1)"))
            }
        }
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, stanza: &Element) {
        ctx.pack(RegistrationError::new(error, stanza)).deliver();
    }
}

/// Registers (§3.1) with legacy fields or a data form (§6; fill it from [`RegistrationFields::form`] with
/// `DataForm::submission`). Output: `()` once registered; an error is `Err(Error::Stanza(..))` (`conflict`: the
/// username is taken; `not-acceptable`: a field is missing). A form the service sends back with its error is
/// in the error Packet's [`RegistrationError`]. The Packets are the second view:
///
/// | answer | Packet key |
/// |---|---|
/// | registered | `register_submit_handle` (no content) |
/// | the username is taken | `register_submit_errorconflict` ([`RegistrationError`]) |
/// | a required field is missing | `register_submit_errornotacceptable` ([`RegistrationError`]) |
/// | any other error | `register_submit_error` ([`RegistrationError`]) |
///
/// ```
/// use moxl_xep::xep_0077_register::Submit;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let fields = vec![("username".into(), "RomeoMontague".into()), ("password".into(), "ILoveJuliet".into())];
/// xec.context().request(Submit { to: Some("aim.shakespeare.lit".into()), fields, form: None })?.await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Submit {
    /// The service (`None`: our server).
    pub to: Option<String>,
    /// The legacy fields, as (name, value).
    pub fields: Vec<(String, String)>,
    /// The submitted data form.
    pub form: Option<DataForm>,
}

#[action(group = "register")]
impl Submit {
    fn request(&self) -> ElementBuilder {
        submission(self.to.as_deref(), &self.fields, self.form.as_ref())
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) {
        ctx.deliver();
    }

    async fn error_conflict(&mut self, ctx: &Context, error: &StanzaError, stanza: &Element) {
        ctx.pack(RegistrationError::new(error, stanza)).deliver();
    }

    async fn error_not_acceptable(&mut self, ctx: &Context, error: &StanzaError, stanza: &Element) {
        ctx.pack(RegistrationError::new(error, stanza)).deliver();
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, stanza: &Element) {
        ctx.pack(RegistrationError::new(error, stanza)).deliver();
    }
}

/// Changes the password of the account we are logged in with (§3.3): `username` is the account's
/// localpart. Log in with the new password afterwards. Output: `()` once changed; a refusal is
/// `Err(Error::Stanza(..))` (a form asking more, §3.3, is in the error Packet's [`RegistrationError`]).
///
/// | answer | Packet key |
/// |---|---|
/// | changed | `register_changepassword_handle` (no content) |
/// | refused (maybe with a form asking more, §3.3) | `register_changepassword_error` ([`RegistrationError`]) |
///
/// ```
/// use moxl_xep::xep_0077_register::ChangePassword;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let change = ChangePassword { to: Some("shakespeare.lit".into()), username: "bill".into(), password: "newpass".into() };
/// xec.context().request(change)?.await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangePassword {
    /// Our server (`None` works too: then the reply comes from our account).
    pub to: Option<String>,
    /// Our account's username.
    pub username: String,
    /// The new password.
    pub password: String,
}

#[action(group = "register")]
impl ChangePassword {
    fn request(&self) -> ElementBuilder {
        register::credentials(self.to.as_deref(), &self.username, &self.password)
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) {
        ctx.deliver();
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, stanza: &Element) {
        ctx.pack(RegistrationError::new(error, stanza)).deliver();
    }
}

/// Cancels a registration (§3.2): with our server (`to: None`) it deletes our account, and the server then
/// closes the stream. Output: `()` once canceled; a refusal is `Err(Error::Stanza(..))`.
///
/// | answer | Packet key |
/// |---|---|
/// | canceled | `register_cancel_handle` (no content) |
/// | refused | `register_cancel_error` ([`RegistrationError`]) |
///
/// ```
/// use moxl_xep::xep_0077_register::Cancel;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// xec.context().request(Cancel { to: None })?.await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Cancel {
    /// The service (`None`: our server, deleting the account).
    pub to: Option<String>,
}

#[action(group = "register")]
impl Cancel {
    fn request(&self) -> ElementBuilder {
        remove(self.to.as_deref())
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) {
        ctx.deliver();
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, stanza: &Element) {
        ctx.pack(RegistrationError::new(error, stanza)).deliver();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{answer_last, block_on};
    use moxl_core::xec::Xec;

    #[test]
    fn fields_with_a_data_form_and_the_registration_round_trip() {
        let xec = Xec::new().unwrap();
        let mut fields = xec.subscribe("register_getfields_handle");
        let typed = xec.context().request(GetFields { to: Some("marlowe.shakespeare.lit".into()) }).unwrap();
        // §6 (abridged): a data form next to the legacy fields
        let reply = "<iq xmlns='jabber:client' type='result' from='marlowe.shakespeare.lit' id='ID'>\
            <query xmlns='jabber:iq:register'><instructions>Use the enclosed form to register.</instructions>\
            <x xmlns='jabber:x:data' type='form'><title>Contest Registration</title>\
            <field type='hidden' var='FORM_TYPE'><value>jabber:iq:register</value></field>\
            <field type='text-single' label='Given Name' var='first'><required/></field>\
            <field type='text-single' label='Family Name' var='last'><required/></field></x></query></iq>";
        block_on(xec.dispatch(answer_last(&xec, reply)));
        let got = fields.try_recv().unwrap().content::<RegistrationFields>().unwrap().clone();
        assert_eq!(block_on(typed).unwrap(), got);
        assert_eq!(got.instructions.as_deref(), Some("Use the enclosed form to register."));
        assert!(got.fields.is_empty() && got.redirect().is_none());
        let form = got.form.unwrap();
        assert_eq!(form.form_type_value(), Some("jabber:iq:register"));
        assert!(form.field("first").unwrap().required);
        // submit the filled form; the request carries it
        let filled = form.submission().with_value("first", "Juliet").with_value("last", "Capulet");
        let mut done = xec.subscribe("register_submit_handle");
        let mut conflict = xec.subscribe("register_submit_errorconflict");
        let submitted = xec
            .context()
            .request(Submit { to: Some("marlowe.shakespeare.lit".into()), fields: vec![], form: Some(filled) })
            .unwrap();
        let out = xec.take_outgoing();
        let sent = DataForm::find_in(&out[0].child("query", NS).unwrap()).unwrap();
        assert_eq!((sent.value("first"), sent.value("FORM_TYPE")), (Some("Juliet"), Some("jabber:iq:register")));
        let id = out[0].attr("id").unwrap().into_owned();
        // §3.1: conflict
        let taken = format!(
            "<iq xmlns='jabber:client' type='error' from='marlowe.shakespeare.lit' id='{id}'>\
            <query xmlns='jabber:iq:register'><username>bill</username></query>\
            <error code='409' type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
        );
        block_on(xec.dispatch(Element::parse(&taken).unwrap()));
        assert!(conflict.try_recv().unwrap().content::<RegistrationError>().is_some());
        assert!(done.try_recv().is_none());
        match block_on(submitted) {
            Err(moxl_core::Error::Stanza(e)) => assert_eq!(e.condition(), Some(moxl_core::stanza::Condition::Conflict)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn password_change_and_cancellation_deliver_their_outcome() {
        let xec = Xec::new().unwrap();
        let mut changed = xec.subscribe("register_changepassword_handle");
        let mut refused = xec.subscribe("register_changepassword_error");
        let change =
            ChangePassword { to: Some("shakespeare.lit".into()), username: "bill".into(), password: "newpass".into() };
        xec.context().request(change.clone()).unwrap();
        // §3.3
        let out = xec.take_outgoing();
        let q = out[0].child("query", NS).unwrap();
        assert_eq!(
            (q.child_text("username", NS).as_deref(), q.child_text("password", NS).as_deref()),
            (Some("bill"), Some("newpass"))
        );
        let id = out[0].attr("id").unwrap().into_owned();
        block_on(
            xec.dispatch(
                Element::parse(&format!("<iq xmlns='jabber:client' type='result' from='shakespeare.lit' id='{id}'/>"))
                    .unwrap(),
            ),
        );
        assert!(changed.try_recv().is_some());
        // §3.3: refused with a form asking for the old password
        xec.context().request(change).unwrap();
        let form_error = "<iq xmlns='jabber:client' type='error' from='shakespeare.lit' id='ID'><query xmlns='jabber:iq:register'>\
            <x xmlns='jabber:x:data' type='form'><title>Password Change</title>\
            <field type='hidden' var='FORM_TYPE'><value>jabber:iq:register:changepassword</value></field>\
            <field type='text-single' label='Username' var='username'><required/></field>\
            <field type='text-private' label='Old Password' var='old_password'><required/></field>\
            <field type='text-private' label='New Password' var='password'><required/></field></x></query>\
            <error code='401' type='modify'><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>";
        block_on(xec.dispatch(answer_last(&xec, form_error)));
        let error = refused.try_recv().unwrap().content::<RegistrationError>().unwrap().clone();
        assert_eq!(error.form.as_ref().and_then(|f| f.form_type_value()), Some(FORM_TYPE_CHANGE_PASSWORD));
        assert!(error.form.unwrap().field("old_password").is_some());
        // §3.2
        let mut canceled = xec.subscribe("register_cancel_handle");
        xec.context().request(Cancel { to: None }).unwrap();
        block_on(xec.dispatch(answer_last(&xec, "<iq xmlns='jabber:client' type='result' id='ID'/>")));
        assert!(canceled.try_recv().is_some());
    }

    #[test]
    fn an_oob_redirection_and_a_result_without_query() {
        let xec = Xec::new().unwrap();
        let mut fields = xec.subscribe("register_getfields_handle");
        let mut errors = xec.subscribe("register_getfields_error");
        let typed = xec.context().request(GetFields::default()).unwrap();
        block_on(xec.dispatch(answer_last(&xec, "<iq xmlns='jabber:client' type='result' id='ID'/>")));
        assert!(fields.try_recv().is_none());
        assert!(errors.try_recv().is_some());
        assert!(matches!(block_on(typed), Err(moxl_core::Error::Handler(_))));
        // §5: only out of band
        let oob = "<iq xmlns='jabber:client' type='result' id='ID'><query xmlns='jabber:iq:register'>\
            <instructions>To register, visit http://www.shakespeare.lit/contests.php</instructions>\
            <x xmlns='jabber:x:oob'><url>http://www.shakespeare.lit/contests.php</url></x></query></iq>";
        xec.context().request(GetFields::default()).unwrap();
        block_on(xec.dispatch(answer_last(&xec, oob)));
        let got = fields.try_recv().unwrap().content::<RegistrationFields>().unwrap().clone();
        assert_eq!(got.redirect(), Some("http://www.shakespeare.lit/contests.php"));
    }
}
