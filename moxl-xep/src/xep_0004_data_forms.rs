//! XEP-0004: Data Forms (version 2.13), with XEP-0221 media elements (read-only). A typed [`DataForm`] read
//! from `<x xmlns='jabber:x:data'/>` and written back, for the forms services send (room configuration, node
//! configuration, ad-hoc commands, registration, archive filters) and the submissions the client returns.
//!
//! The usual flow: read the form a service sends, turn it into a [`submission`](DataForm::submission), set
//! the values the user chose, send it.
//!
//! ```
//! use moxl_core::xml::Element;
//! use moxl_xep::xep_0004_data_forms::{DataForm, FormType};
//! let x = Element::parse("<x xmlns='jabber:x:data' type='form'><title>Bot Configuration</title>\
//!     <field type='hidden' var='FORM_TYPE'><value>jabber:bot</value></field>\
//!     <field type='text-single' label='The name of your bot' var='botname'/>\
//!     <field type='boolean' label='Public bot?' var='public'><required/><value>0</value></field></x>")?;
//! let form = DataForm::from_element(&x).unwrap();
//! assert_eq!(form.form_type_value(), Some("jabber:bot"));
//! let answer = form.submission().with_value("botname", "The Jabber Google Bot").with_bool("public", true);
//! assert_eq!(answer.form_type, FormType::Submit);
//! assert_eq!(form.missing_required(&answer), Vec::<&str>::new());
//! assert_eq!(
//!     answer.to_element().build()?.to_xml(),
//!     "<x xmlns='jabber:x:data' type='submit'>\
//!      <field var='FORM_TYPE' type='hidden'><value>jabber:bot</value></field>\
//!      <field var='botname'><value>The Jabber Google Bot</value></field>\
//!      <field var='public'><value>1</value></field></x>"
//! );
//! # Ok::<(), moxl_core::Error>(())
//! ```

use moxl_core::xml::{Element, ElementBuilder};
use serde::{Deserialize, Serialize};

/// `jabber:x:data` (§9).
///
/// ```
/// assert_eq!(moxl_xep::xep_0004_data_forms::NS, "jabber:x:data");
/// ```
pub const NS: &str = "jabber:x:data";

/// `urn:xmpp:media-element` (XEP-0221 §5): media (images, audio, video) attached to a form field.
///
/// ```
/// assert_eq!(moxl_xep::xep_0004_data_forms::NS_MEDIA, "urn:xmpp:media-element");
/// ```
pub const NS_MEDIA: &str = "urn:xmpp:media-element";

moxl_core::feature!("jabber:x:data");

/// The name of the hidden field that names the form's kind (XEP-0068 §2).
///
/// ```
/// assert_eq!(moxl_xep::xep_0004_data_forms::FORM_TYPE, "FORM_TYPE");
/// ```
pub const FORM_TYPE: &str = "FORM_TYPE";

/// What a form is for (§3.1).
///
/// ```
/// use moxl_xep::xep_0004_data_forms::FormType;
/// assert_eq!(FormType::parse("submit"), Some(FormType::Submit));
/// assert_eq!(FormType::Result.as_str(), "result");
/// assert_eq!(FormType::parse("unknown"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FormType {
    /// A form to fill in (`form`).
    Form,
    /// A filled-in form (`submit`).
    Submit,
    /// Declining to fill in a form (`cancel`).
    Cancel,
    /// Data returned by a service, maybe a table of items (`result`).
    Result,
}

impl FormType {
    /// Reads the `type` attribute's value.
    pub fn parse(value: &str) -> Option<FormType> {
        Some(match value {
            "form" => FormType::Form,
            "submit" => FormType::Submit,
            "cancel" => FormType::Cancel,
            "result" => FormType::Result,
            _ => return None,
        })
    }

    /// The `type` attribute's value.
    pub fn as_str(self) -> &'static str {
        match self {
            FormType::Form => "form",
            FormType::Submit => "submit",
            FormType::Cancel => "cancel",
            FormType::Result => "result",
        }
    }
}

/// The type of a field (§3.3). A field without a type is `text-single` (§3.3), see [`Field::kind`].
///
/// ```
/// use moxl_xep::xep_0004_data_forms::FieldType;
/// assert_eq!(FieldType::parse("jid-multi"), Some(FieldType::JidMulti));
/// assert_eq!(FieldType::ListSingle.as_str(), "list-single");
/// assert!(FieldType::TextMulti.is_multi() && !FieldType::TextPrivate.is_multi());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FieldType {
    /// `boolean`: `0`/`false` or `1`/`true`.
    Boolean,
    /// `fixed`: text shown to the user, not a value to submit.
    Fixed,
    /// `hidden`: a value to submit unchanged, not shown.
    Hidden,
    /// `jid-multi`: several JIDs.
    JidMulti,
    /// `jid-single`: one JID.
    JidSingle,
    /// `list-multi`: several of the options.
    ListMulti,
    /// `list-single`: one of the options.
    ListSingle,
    /// `text-multi`: lines of text, one value per line.
    TextMulti,
    /// `text-private`: a secret, such as a password.
    TextPrivate,
    /// `text-single`: one line of text (the default).
    TextSingle,
}

impl FieldType {
    /// Reads the `type` attribute's value; `None` for a type this version does not define.
    pub fn parse(value: &str) -> Option<FieldType> {
        Some(match value {
            "boolean" => FieldType::Boolean,
            "fixed" => FieldType::Fixed,
            "hidden" => FieldType::Hidden,
            "jid-multi" => FieldType::JidMulti,
            "jid-single" => FieldType::JidSingle,
            "list-multi" => FieldType::ListMulti,
            "list-single" => FieldType::ListSingle,
            "text-multi" => FieldType::TextMulti,
            "text-private" => FieldType::TextPrivate,
            "text-single" => FieldType::TextSingle,
            _ => return None,
        })
    }

    /// The `type` attribute's value.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Boolean => "boolean",
            FieldType::Fixed => "fixed",
            FieldType::Hidden => "hidden",
            FieldType::JidMulti => "jid-multi",
            FieldType::JidSingle => "jid-single",
            FieldType::ListMulti => "list-multi",
            FieldType::ListSingle => "list-single",
            FieldType::TextMulti => "text-multi",
            FieldType::TextPrivate => "text-private",
            FieldType::TextSingle => "text-single",
        }
    }

    /// Whether the field may hold several values (§3.3: `jid-multi`, `list-multi`, `text-multi`).
    pub fn is_multi(self) -> bool {
        matches!(self, FieldType::JidMulti | FieldType::ListMulti | FieldType::TextMulti)
    }
}

/// One option of a `list-single` or `list-multi` field (§3.2).
///
/// ```
/// let o = moxl_xep::xep_0004_data_forms::FieldOption::new("news", Some("news"));
/// assert_eq!((o.value.as_str(), o.label.as_deref()), ("news", Some("news")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FieldOption {
    /// What is shown.
    pub label: Option<String>,
    /// What is submitted.
    pub value: String,
}

impl FieldOption {
    /// An option with its value and label.
    pub fn new(value: impl Into<String>, label: Option<&str>) -> FieldOption {
        FieldOption { label: label.map(str::to_owned), value: value.into() }
    }
}

/// One way to get a medium: its MIME type and URI (XEP-0221 §3).
///
/// ```
/// use moxl_xep::xep_0004_data_forms::MediaUri;
/// let u = MediaUri { mime: "image/jpeg".into(), uri: "http://www.victim.com/challenges/ocr.jpeg?F3A6292C".into() };
/// assert!(u.uri.starts_with("http:"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaUri {
    /// The MIME type (`type` attribute).
    pub mime: String,
    /// The URI (`http:`, `cid:` for XEP-0231 bits of binary…).
    pub uri: String,
}

/// A medium attached to a field (XEP-0221 §3): an image, say, for a CAPTCHA. Read-only: a client shows it (or
/// not); nothing is fetched by this library.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0004_data_forms::DataForm;
/// // XEP-0221 §3, Example 1 (abridged)
/// let x = Element::parse("<x xmlns='jabber:x:data' type='form'><field var='ocr' label='Enter the text you see'>\
///     <media xmlns='urn:xmpp:media-element' height='80' width='290'>\
///     <uri type='image/jpeg'>http://www.victim.com/challenges/ocr.jpeg?F3A6292C</uri>\
///     <uri type='image/jpeg'>cid:sha1+f24030b8d91d233bac14777be5ab531ca3b9f102@bob.xmpp.org</uri></media></field></x>")?;
/// let form = DataForm::from_element(&x).unwrap();
/// let media = &form.field("ocr").unwrap().media[0];
/// assert_eq!((media.height, media.width, media.uris.len()), (Some(80), Some(290), 2));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Media {
    /// Suggested display height, in pixels.
    pub height: Option<u32>,
    /// Suggested display width, in pixels.
    pub width: Option<u32>,
    /// The same medium at several URIs or in several formats, in the sender's order of preference.
    pub uris: Vec<MediaUri>,
}

impl Media {
    fn from_element(media: &Element) -> Media {
        let number = |name: &str| media.attr(name).and_then(|v| v.trim().parse().ok());
        Media {
            height: number("height"),
            width: number("width"),
            uris: media
                .children()
                .filter(|u| u.is("uri", NS_MEDIA))
                .map(|u| MediaUri {
                    mime: u.attr("type").map(|t| t.into_owned()).unwrap_or_default(),
                    uri: u.text().trim().to_owned(),
                })
                .collect(),
        }
    }

    fn to_element(&self) -> ElementBuilder {
        let mut m = ElementBuilder::new("media", NS_MEDIA)
            .attr_opt("height", self.height.map(|h| h.to_string()))
            .attr_opt("width", self.width.map(|w| w.to_string()));
        for u in &self.uris {
            m.push(ElementBuilder::new("uri", NS_MEDIA).attr("type", u.mime.clone()).text(u.uri.clone()));
        }
        m
    }
}

/// One field (§3.2).
///
/// ```
/// use moxl_xep::xep_0004_data_forms::{Field, FieldType};
/// let f = Field::new("public").with_type(FieldType::Boolean).with_values(["true"]);
/// assert_eq!(f.as_bool(), Some(true));
/// assert_eq!(f.kind(), FieldType::Boolean);
/// assert_eq!(Field::new("name").kind(), FieldType::TextSingle);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Field {
    /// The field's name; only `fixed` fields may have none.
    pub var: Option<String>,
    /// The declared type, if any (see [`kind`](Field::kind)).
    pub field_type: Option<FieldType>,
    /// What is shown for the field.
    pub label: Option<String>,
    /// A longer description (`<desc/>`), such as a tooltip.
    pub desc: Option<String>,
    /// Whether the form is only valid with a value here (`<required/>`).
    pub required: bool,
    /// The values, in order (one per line of a `text-multi`).
    pub values: Vec<String>,
    /// The choices of a list field.
    pub options: Vec<FieldOption>,
    /// Media (XEP-0221).
    pub media: Vec<Media>,
}

impl Field {
    /// A field named `var`, without type or values.
    pub fn new(var: impl Into<String>) -> Field {
        Field { var: Some(var.into()), ..Field::default() }
    }

    /// With a declared type.
    pub fn with_type(mut self, field_type: FieldType) -> Field {
        self.field_type = Some(field_type);
        self
    }

    /// With these values instead of the current ones.
    pub fn with_values(mut self, values: impl IntoIterator<Item = impl Into<String>>) -> Field {
        self.values = values.into_iter().map(Into::into).collect();
        self
    }

    /// The type, `text-single` when none is declared (§3.3).
    pub fn kind(&self) -> FieldType {
        self.field_type.unwrap_or(FieldType::TextSingle)
    }

    /// The first value.
    ///
    /// ```
    /// let f = moxl_xep::xep_0004_data_forms::Field::new("x").with_values(["a", "b"]);
    /// assert_eq!(f.value(), Some("a"));
    /// ```
    pub fn value(&self) -> Option<&str> {
        self.values.first().map(String::as_str)
    }

    /// The value of a boolean field: `1`/`true` or `0`/`false` (§3.3); `None` for anything else.
    ///
    /// ```
    /// use moxl_xep::xep_0004_data_forms::Field;
    /// assert_eq!(Field::new("x").with_values(["0"]).as_bool(), Some(false));
    /// assert_eq!(Field::new("x").with_values(["yes"]).as_bool(), None);
    /// ```
    pub fn as_bool(&self) -> Option<bool> {
        match self.value()?.trim() {
            "1" | "true" => Some(true),
            "0" | "false" => Some(false),
            _ => None,
        }
    }

    /// Reads a `<field/>`; `None` for any other element.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0004_data_forms::{Field, FieldType};
    /// // §3.2 (from Example 2)
    /// let f = Element::parse("<field xmlns='jabber:x:data' type='list-single' label='Security of the bot' var='security'>\
    ///     <option label='None'><value>none</value></option><option label='High'><value>high</value></option>\
    ///     <value>high</value></field>")?;
    /// let f = Field::from_element(&f).unwrap();
    /// assert_eq!((f.kind(), f.value(), f.options.len()), (FieldType::ListSingle, Some("high"), 2));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(field: &Element) -> Option<Field> {
        if !field.is("field", NS) {
            return None;
        }
        let mut out = Field {
            var: field.attr("var").map(|v| v.into_owned()),
            field_type: field.attr("type").and_then(|t| FieldType::parse(&t)),
            label: field.attr("label").map(|l| l.into_owned()),
            ..Field::default()
        };
        for child in field.children() {
            match (child.name(), child.ns()) {
                ("value", NS) => out.values.push(child.text().into_owned()),
                ("desc", NS) => out.desc = Some(child.text().into_owned()),
                ("required", NS) => out.required = true,
                ("option", NS) => {
                    if let Some(value) = child.child_text("value", NS) {
                        out.options.push(FieldOption { label: child.attr("label").map(|l| l.into_owned()), value });
                    }
                }
                ("media", NS_MEDIA) => out.media.push(Media::from_element(&child)),
                _ => {}
            }
        }
        Some(out)
    }

    /// The `<field/>` element.
    ///
    /// ```
    /// use moxl_xep::xep_0004_data_forms::{Field, FieldType};
    /// let f = Field::new("features").with_type(FieldType::ListMulti).with_values(["news", "search"]);
    /// assert_eq!(
    ///     f.to_element().build()?.to_xml(),
    ///     "<field xmlns='jabber:x:data' var='features' type='list-multi'><value>news</value><value>search</value></field>"
    /// );
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_element(&self) -> ElementBuilder {
        let mut f = ElementBuilder::new("field", NS)
            .attr_opt("var", self.var.clone())
            .attr_opt("type", self.field_type.map(FieldType::as_str))
            .attr_opt("label", self.label.clone());
        if let Some(desc) = &self.desc {
            f.push(ElementBuilder::new("desc", NS).text(desc.clone()));
        }
        if self.required {
            f.push(ElementBuilder::new("required", NS));
        }
        for v in &self.values {
            f.push(ElementBuilder::new("value", NS).text(v.clone()));
        }
        for o in &self.options {
            let option = ElementBuilder::new("option", NS).attr_opt("label", o.label.clone());
            f.push(option.append(ElementBuilder::new("value", NS).text(o.value.clone())));
        }
        for m in &self.media {
            f.push(m.to_element());
        }
        f
    }
}

/// A data form (§3): a form to fill in, a submission, a cancellation, or a result (with a table of items,
/// §3.4).
///
/// ```
/// use moxl_xep::xep_0004_data_forms::{DataForm, FormType};
/// let filter = DataForm::submit(Some("urn:xmpp:mam:2")).with_value("with", "juliet@capulet.lit");
/// assert_eq!((filter.form_type, filter.value("with")), (FormType::Submit, Some("juliet@capulet.lit")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DataForm {
    /// What the form is for.
    pub form_type: FormType,
    /// The title (`<title/>`).
    pub title: Option<String>,
    /// The instructions, one per `<instructions/>`.
    pub instructions: Vec<String>,
    /// The fields, in order (not those of `reported` and `item`).
    pub fields: Vec<Field>,
    /// A result's column headers (`<reported/>`, §3.4).
    pub reported: Vec<Field>,
    /// A result's rows (`<item/>`, §3.4), each a list of fields.
    pub items: Vec<Vec<Field>>,
}

impl DataForm {
    /// An empty form of the given type.
    ///
    /// ```
    /// use moxl_xep::xep_0004_data_forms::{DataForm, FormType};
    /// assert_eq!(DataForm::new(FormType::Cancel).to_element().build()?.to_xml(), "<x xmlns='jabber:x:data' type='cancel'/>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn new(form_type: FormType) -> DataForm {
        DataForm {
            form_type,
            title: None,
            instructions: Vec::new(),
            fields: Vec::new(),
            reported: Vec::new(),
            items: Vec::new(),
        }
    }

    /// A submission, with the hidden `FORM_TYPE` field when `form_type` is given (XEP-0068 §2).
    ///
    /// ```
    /// use moxl_xep::xep_0004_data_forms::DataForm;
    /// let f = DataForm::submit(Some("http://jabber.org/protocol/muc#roomconfig"));
    /// assert_eq!(f.form_type_value(), Some("http://jabber.org/protocol/muc#roomconfig"));
    /// assert_eq!(DataForm::submit(None).fields.len(), 0);
    /// ```
    pub fn submit(form_type: Option<&str>) -> DataForm {
        let mut form = DataForm::new(FormType::Submit);
        if let Some(value) = form_type {
            form.fields.push(Field::new(FORM_TYPE).with_type(FieldType::Hidden).with_values([value]));
        }
        form
    }

    /// Reads `<x xmlns='jabber:x:data'/>`; `None` for any other element or an `<x/>` without a valid `type`.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0004_data_forms::DataForm;
    /// assert!(DataForm::from_element(&Element::parse("<x xmlns='jabber:x:data' type='bogus'/>")?).is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(x: &Element) -> Option<DataForm> {
        if !x.is("x", NS) {
            return None;
        }
        let mut form = DataForm::new(FormType::parse(&x.attr("type")?)?);
        let fields_of = |e: &Element| e.children().filter_map(|f| Field::from_element(&f)).collect::<Vec<_>>();
        for child in x.children() {
            if child.ns() != NS {
                continue;
            }
            match child.name() {
                "title" => form.title = Some(child.text().into_owned()),
                "instructions" => form.instructions.push(child.text().into_owned()),
                "field" => form.fields.extend(Field::from_element(&child)),
                "reported" => form.reported = fields_of(&child),
                "item" => form.items.push(fields_of(&child)),
                _ => {}
            }
        }
        Some(form)
    }

    /// The first data form among the children of `parent` (a `<query/>`, `<command/>`, `<configure/>`…).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0004_data_forms::DataForm;
    /// let q = Element::parse("<query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='form'/></query>")?;
    /// assert!(DataForm::find_in(&q).is_some());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn find_in(parent: &Element) -> Option<DataForm> {
        parent.children().filter(|x| x.is("x", NS)).find_map(|x| DataForm::from_element(&x))
    }

    /// The value of the hidden `FORM_TYPE` field: which kind of form this is (XEP-0068 §2).
    pub fn form_type_value(&self) -> Option<&str> {
        self.field(FORM_TYPE).and_then(Field::value)
    }

    /// The field named `var`.
    ///
    /// ```
    /// use moxl_xep::xep_0004_data_forms::DataForm;
    /// let f = DataForm::submit(None).with_value("a", "1");
    /// assert!(f.field("a").is_some() && f.field("b").is_none());
    /// ```
    pub fn field(&self, var: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.var.as_deref() == Some(var))
    }

    /// The first value of the field named `var`.
    pub fn value(&self, var: &str) -> Option<&str> {
        self.field(var).and_then(Field::value)
    }

    /// All values of the field named `var` (none if there is no such field).
    ///
    /// ```
    /// use moxl_xep::xep_0004_data_forms::DataForm;
    /// let f = DataForm::submit(None).with_values("admins", ["a@b", "c@d"]);
    /// assert_eq!(f.values("admins"), ["a@b", "c@d"]);
    /// assert!(f.values("owners").is_empty());
    /// ```
    pub fn values(&self, var: &str) -> &[String] {
        self.field(var).map_or(&[], |f| f.values.as_slice())
    }

    /// Sets the field `var` to the single value `value`, adding the field if it is missing.
    pub fn with_value(self, var: &str, value: impl Into<String>) -> DataForm {
        self.with_values(var, [value.into()])
    }

    /// Sets the field `var` to `values`, adding the field if it is missing.
    pub fn with_values(mut self, var: &str, values: impl IntoIterator<Item = impl Into<String>>) -> DataForm {
        let values: Vec<String> = values.into_iter().map(Into::into).collect();
        match self.fields.iter_mut().find(|f| f.var.as_deref() == Some(var)) {
            Some(field) => field.values = values,
            None => self.fields.push(Field::new(var).with_values(values)),
        }
        self
    }

    /// Sets the boolean field `var` (written `1` or `0`, §3.3).
    ///
    /// ```
    /// use moxl_xep::xep_0004_data_forms::DataForm;
    /// assert_eq!(DataForm::submit(None).with_bool("muc#roomconfig_persistentroom", false).value("muc#roomconfig_persistentroom"), Some("0"));
    /// ```
    pub fn with_bool(self, var: &str, value: bool) -> DataForm {
        self.with_value(var, if value { "1" } else { "0" })
    }

    /// This form turned into a submission (§3.1): every field that has a name and is not `fixed`, with its
    /// current values (the defaults the service offered). The hidden fields keep their type, so that
    /// `FORM_TYPE` reads as such; the others are written without type, labels or options (§3.2).
    pub fn submission(&self) -> DataForm {
        let mut form = DataForm::new(FormType::Submit);
        form.fields = self
            .fields
            .iter()
            .filter(|f| f.var.is_some() && f.kind() != FieldType::Fixed)
            .map(|f| Field {
                var: f.var.clone(),
                field_type: f.field_type.filter(|t| *t == FieldType::Hidden),
                values: f.values.clone(),
                ..Field::default()
            })
            .collect();
        form
    }

    /// The names of the required fields of this form that `submission` leaves without a value (§3.2: a
    /// submission without them is invalid and will be refused).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0004_data_forms::DataForm;
    /// let x = Element::parse("<x xmlns='jabber:x:data' type='form'><field var='password'><required/></field></x>")?;
    /// let form = DataForm::from_element(&x).unwrap();
    /// assert_eq!(form.missing_required(&form.submission()), ["password"]);
    /// assert!(form.missing_required(&form.submission().with_value("password", "secret")).is_empty());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn missing_required<'a>(&'a self, submission: &DataForm) -> Vec<&'a str> {
        self.fields
            .iter()
            .filter(|f| f.required)
            .filter_map(|f| f.var.as_deref())
            .filter(|var| submission.values(var).iter().all(|v| v.is_empty()))
            .collect()
    }

    /// The `<x xmlns='jabber:x:data'/>` element.
    pub fn to_element(&self) -> ElementBuilder {
        let mut x = ElementBuilder::new("x", NS).attr("type", self.form_type.as_str());
        if let Some(title) = &self.title {
            x.push(ElementBuilder::new("title", NS).text(title.clone()));
        }
        for i in &self.instructions {
            x.push(ElementBuilder::new("instructions", NS).text(i.clone()));
        }
        if !self.reported.is_empty() {
            let mut reported = ElementBuilder::new("reported", NS);
            self.reported.iter().for_each(|f| reported.push(f.to_element()));
            x.push(reported);
        }
        for row in &self.items {
            let mut item = ElementBuilder::new("item", NS);
            row.iter().for_each(|f| item.push(f.to_element()));
            x.push(item);
        }
        for f in &self.fields {
            x.push(f.to_element());
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(xml: &str) -> Element {
        Element::parse(xml).unwrap()
    }

    /// §8.1, Example 2: the configuration form of a bot, every field type.
    const BOT_FORM: &str = "<x xmlns='jabber:x:data' type='form'>\
        <title>Bot Configuration</title>\
        <instructions>Fill out this form to configure your new bot!</instructions>\
        <field type='hidden' var='FORM_TYPE'><value>jabber:bot</value></field>\
        <field type='fixed'><value>Section 1: Bot Info</value></field>\
        <field type='text-single' label='The name of your bot' var='botname'/>\
        <field type='text-multi' label='Helpful description of your bot' var='description'/>\
        <field type='boolean' label='Public bot?' var='public'><required/></field>\
        <field type='text-private' label='Password for special access' var='password'/>\
        <field type='fixed'><value>Section 2: Features</value></field>\
        <field type='list-multi' label='What features will the bot support?' var='features'>\
          <option label='Contests'><value>contests</value></option>\
          <option label='News'><value>news</value></option>\
          <option label='Polls'><value>polls</value></option>\
          <option label='Reminders'><value>reminders</value></option>\
          <option label='Search'><value>search</value></option>\
          <value>news</value><value>search</value></field>\
        <field type='fixed'><value>Section 3: Subscriber List</value></field>\
        <field type='list-single' label='Maximum number of subscribers' var='maxsubs'>\
          <value>20</value>\
          <option label='10'><value>10</value></option>\
          <option label='20'><value>20</value></option>\
          <option label='30'><value>30</value></option>\
          <option label='50'><value>50</value></option>\
          <option label='100'><value>100</value></option>\
          <option label='None'><value>none</value></option></field>\
        <field type='fixed'><value>Section 4: Invitations</value></field>\
        <field type='jid-multi' label='People to invite' var='invitelist'>\
          <desc>Tell all your friends about your new bot!</desc></field></x>";

    #[test]
    fn the_bot_form_reads_with_every_field_type() {
        let form = DataForm::from_element(&e(BOT_FORM)).unwrap();
        assert_eq!(form.form_type, FormType::Form);
        assert_eq!(form.title.as_deref(), Some("Bot Configuration"));
        assert_eq!(form.instructions, ["Fill out this form to configure your new bot!"]);
        assert_eq!(form.fields.len(), 12);
        assert_eq!(form.form_type_value(), Some("jabber:bot"));
        assert!(form.field("public").unwrap().required);
        assert_eq!(form.values("features"), ["news", "search"]);
        assert_eq!(form.field("features").unwrap().options.len(), 5);
        assert_eq!(form.field("maxsubs").unwrap().kind(), FieldType::ListSingle);
        assert_eq!(
            form.field("invitelist").unwrap().desc.as_deref(),
            Some("Tell all your friends about your new bot!")
        );
        assert_eq!(form.fields.iter().filter(|f| f.kind() == FieldType::Fixed).count(), 4);
    }

    #[test]
    fn the_bot_form_round_trips() {
        let form = DataForm::from_element(&e(BOT_FORM)).unwrap();
        let again = DataForm::from_element(&form.to_element().build().unwrap()).unwrap();
        assert_eq!(again, form);
        let json = serde_json::to_string(&form).unwrap();
        assert_eq!(serde_json::from_str::<DataForm>(&json).unwrap(), form);
    }

    #[test]
    fn the_bot_submission_matches_example_3() {
        let form = DataForm::from_element(&e(BOT_FORM)).unwrap();
        let submit = form
            .submission()
            .with_value("botname", "The Jabber Google Bot")
            .with_values("description", ["This bot enables you to perform Google searches.", "It also supports news."])
            .with_bool("public", false)
            .with_value("password", "v3r0na")
            .with_values("features", ["news", "search"])
            .with_value("maxsubs", "50")
            .with_values("invitelist", ["juliet@capulet.com", "benvolio@montague.net"]);
        assert!(form.missing_required(&submit).is_empty());
        let x = submit.to_element().build().unwrap();
        // §8.1, Example 3: the fixed fields are gone, FORM_TYPE stays hidden, values in order.
        let back = DataForm::from_element(&x).unwrap();
        assert_eq!(back.form_type, FormType::Submit);
        assert_eq!(back.fields.len(), 8);
        assert_eq!(back.form_type_value(), Some("jabber:bot"));
        assert_eq!(back.values("invitelist"), ["juliet@capulet.com", "benvolio@montague.net"]);
        assert_eq!(back.field("public").unwrap().as_bool(), Some(false));
        assert!(x.to_xml().contains("<field var='botname'><value>The Jabber Google Bot</value></field>"));
    }

    #[test]
    fn a_result_table_reads_reported_and_items() {
        // §8.4, Example 9 (abridged)
        let x = e("<x xmlns='jabber:x:data' type='result'><title>Joogle Search: verona</title>\
            <reported><field var='name'/><field var='url'/></reported>\
            <item><field var='name'><value>Comune di Verona - Benvenuti nel sito ufficiale</value></field>\
              <field var='url'><value>http://www.comune.verona.it/</value></field></item>\
            <item><field var='name'><value>benvenuto!</value></field>\
              <field var='url'><value>http://www.hellasverona.it/</value></field></item></x>");
        let form = DataForm::from_element(&x).unwrap();
        assert_eq!(form.form_type, FormType::Result);
        assert_eq!(form.reported.len(), 2);
        assert_eq!(form.items.len(), 2);
        assert_eq!(form.items[1][1].value(), Some("http://www.hellasverona.it/"));
        assert_eq!(DataForm::from_element(&form.to_element().build().unwrap()).unwrap(), form);
    }

    #[test]
    fn foreign_children_and_bad_options_are_ignored() {
        let x = e("<x xmlns='jabber:x:data' type='form'><field var='a'><option label='no value'/>\
            <value>1</value><other xmlns='urn:x'/></field><title xmlns='urn:other'>not ours</title></x>");
        let form = DataForm::from_element(&x).unwrap();
        assert_eq!(form.title, None);
        assert!(form.field("a").unwrap().options.is_empty());
        assert_eq!(form.value("a"), Some("1"));
        assert!(DataForm::from_element(&e("<x xmlns='jabber:x:data'/>")).is_none());
    }
}
