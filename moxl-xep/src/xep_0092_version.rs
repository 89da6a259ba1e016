//! XEP-0092: Software Version. Answers queries with the application's name and version ([`VersionAnswer`],
//! configured with a [`SoftwareVersion`] extension) and asks another entity for its own ([`Query`]).

use moxl_core::stanza::{Condition, StanzaError, error_reply, iq_get, iq_result};
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder};
use moxl_core::{action, payload};
use serde::{Deserialize, Serialize};

/// `jabber:iq:version` (XEP-0092 §2).
///
/// ```
/// assert_eq!(moxl_xep::xep_0092_version::NS, "jabber:iq:version");
/// ```
pub const NS: &str = "jabber:iq:version";

moxl_core::feature!("jabber:iq:version");

/// An entity's software: the `<query/>` of a version result (§2). Also the configuration of our answer: give it
/// with `Xec::builder().extension(SoftwareVersion { … })`; without one, moxl answers with its own name and
/// version. `os` is sent only when set: revealing the operating system may expose the user to attacks against
/// it, so it is left out unless the application opts in (§5, Security Considerations).
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_xep::xep_0092_version::SoftwareVersion;
/// let xec = Xec::builder().extension(SoftwareVersion::new("Exodus", "0.7.0.4")).build()?;
/// # let _ = xec;
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoftwareVersion {
    /// The natural-language name of the software (required).
    pub name: String,
    /// Its version (required).
    pub version: String,
    /// The operating system (optional).
    pub os: Option<String>,
}

impl Default for SoftwareVersion {
    /// moxl's own: `moxl` and this crate's version, no operating system.
    ///
    /// ```
    /// let v = moxl_xep::xep_0092_version::SoftwareVersion::default();
    /// assert_eq!((v.name.as_str(), v.os), ("moxl", None));
    /// ```
    fn default() -> Self {
        SoftwareVersion::new("moxl", env!("CARGO_PKG_VERSION"))
    }
}

impl SoftwareVersion {
    /// A name and a version, no operating system.
    ///
    /// ```
    /// let v = moxl_xep::xep_0092_version::SoftwareVersion::new("Exodus", "0.7.0.4");
    /// assert_eq!(v.version, "0.7.0.4");
    /// ```
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        SoftwareVersion { name: name.into(), version: version.into(), os: None }
    }

    /// Sets the operating system (see the privacy note on [`SoftwareVersion`]).
    ///
    /// ```
    /// let v = moxl_xep::xep_0092_version::SoftwareVersion::new("Exodus", "0.7.0.4").with_os("Windows-XP 5.01.2600");
    /// assert_eq!(v.os.as_deref(), Some("Windows-XP 5.01.2600"));
    /// ```
    pub fn with_os(mut self, os: impl Into<String>) -> Self {
        self.os = Some(os.into());
        self
    }

    /// Reads the `<query xmlns='jabber:iq:version'/>` of a result stanza. `None` without a query, a `<name/>` or
    /// a `<version/>` (both required in a result, §2).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0092_version::SoftwareVersion;
    /// // XEP-0092 §3, Example 2
    /// let reply = Element::parse(
    ///     "<iq xmlns='jabber:client' type='result' to='romeo@montague.net/orchard' from='juliet@capulet.com/balcony' id='version_1'>\
    ///      <query xmlns='jabber:iq:version'><name>Exodus</name><version>0.7.0.4</version><os>Windows-XP 5.01.2600</os></query></iq>",
    /// )?;
    /// let v = SoftwareVersion::from_stanza(&reply).unwrap();
    /// assert_eq!(v, SoftwareVersion::new("Exodus", "0.7.0.4").with_os("Windows-XP 5.01.2600"));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_stanza(stanza: &Element) -> Option<SoftwareVersion> {
        let query = stanza.child("query", NS)?;
        Some(SoftwareVersion {
            name: query.child_text("name", NS)?,
            version: query.child_text("version", NS)?,
            os: query.child_text("os", NS),
        })
    }

    /// The `<query/>` with `<name/>`, `<version/>` and, if set, `<os/>` (§2).
    ///
    /// ```
    /// let q = moxl_xep::xep_0092_version::SoftwareVersion::new("moxl", "0.1.0").to_query().build()?;
    /// assert_eq!(q.to_xml(), "<query xmlns='jabber:iq:version'><name>moxl</name><version>0.1.0</version></query>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_query(&self) -> ElementBuilder {
        let query = ElementBuilder::new("query", NS)
            .append(ElementBuilder::new("name", NS).text(self.name.clone()))
            .append(ElementBuilder::new("version", NS).text(self.version.clone()));
        match &self.os {
            Some(os) => query.append(ElementBuilder::new("os", NS).text(os.clone())),
            None => query,
        }
    }
}

/// The version query to `to` (§3, Example 1).
///
/// ```
/// let iq = moxl_xep::xep_0092_version::query(Some("juliet@capulet.com/balcony")).attr("id", "version_1").build()?;
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='get' to='juliet@capulet.com/balcony' id='version_1'><query xmlns='jabber:iq:version'/></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn query(to: Option<&str>) -> ElementBuilder {
    iq_get(to).append(ElementBuilder::new("query", NS))
}

/// The answer to a received stanza if it is a version query: a result with `ours` to an `iq` `get`,
/// `bad-request` to an `iq` `set`; `None` for anything else.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0092_version::{answer, SoftwareVersion};
/// // XEP-0092 §3, Example 1
/// let get = Element::parse("<iq xmlns='jabber:client' type='get' from='romeo@montague.net/orchard' to='juliet@capulet.com/balcony' id='version_1'><query xmlns='jabber:iq:version'/></iq>")?;
/// let reply = answer(&get, &SoftwareVersion::new("Exodus", "0.7.0.4")).unwrap().build()?;
/// assert_eq!(
///     reply.to_xml(),
///     "<iq xmlns='jabber:client' type='result' id='version_1' to='romeo@montague.net/orchard'>\
///      <query xmlns='jabber:iq:version'><name>Exodus</name><version>0.7.0.4</version></query></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn answer(stanza: &Element, ours: &SoftwareVersion) -> Option<ElementBuilder> {
    if !stanza.is("iq", "jabber:client") || stanza.child("query", NS).is_none() {
        return None;
    }
    match stanza.attr("type").as_deref() {
        Some("get") => Some(iq_result(stanza).append(ours.to_query())),
        Some("set") => Some(error_reply(stanza, &StanzaError::new(Condition::BadRequest))),
        _ => None,
    }
}

/// Answers version queries (§3) with the [`SoftwareVersion`] extension of the controller, or moxl's own
/// ([`SoftwareVersion::default`]). Delivers no Packet.
///
/// ```
/// let registry = moxl_core::xec::Registry::global()?;
/// assert!(registry.handles("query", moxl_xep::xep_0092_version::NS));
/// assert!(registry.features().any(|f| f == "jabber:iq:version"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[payload(name = "query", ns = "jabber:iq:version", at = "child")]
#[derive(Debug, Default)]
pub struct VersionAnswer;

impl Payload for VersionAnswer {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> moxl_core::Result<()> {
        let reply = match ctx.get::<SoftwareVersion>() {
            Some(ours) => answer(stanza, ours),
            None => answer(stanza, &SoftwareVersion::default()),
        };
        match reply {
            Some(reply) => ctx.send(reply),
            None => Ok(()),
        }
    }
}

/// Asks `to` for its software version (§3). Output: its [`SoftwareVersion`] (its `name` or `version` empty if
/// the result lacked them, though both are required); an error (`service-unavailable` when the entity does not
/// support the namespace) is `Err(Error::Stanza(..))`. The second view: `version_query_handle` with the
/// [`SoftwareVersion`], errors under `version_query_error<condition>` with the `StanzaError`.
///
/// ```
/// use moxl_xep::xep_0092_version::Query;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let version = xec.context().request(Query { to: "capulet.com".into() })?.await?;
/// println!("{} {}", version.name, version.version);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Query {
    /// The entity asked.
    pub to: String,
}

#[action(group = "version")]
impl Query {
    /// The entity's software version.
    type Output = SoftwareVersion;

    fn request(&self) -> ElementBuilder {
        query(Some(&self.to))
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> moxl_core::Result<SoftwareVersion> {
        // A result without the required <name/> or <version/> still answers: leave them empty.
        let query = stanza.child("query", NS);
        let text = |name: &str| query.as_ref().and_then(|q| q.child_text(name, NS));
        let version = SoftwareVersion {
            name: text("name").unwrap_or_default(),
            version: text("version").unwrap_or_default(),
            os: text("os"),
        };
        Ok(version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    #[test]
    fn an_awaited_query_is_the_version() {
        let xec = Xec::new().unwrap();
        let out = xec.context().request(Query { to: "juliet@capulet.com/balcony".into() }).unwrap();
        let reply = crate::test_util::answer_last(&xec, &EXAMPLE_2.replace("id='version_1'", "id='ID'"));
        block_on(xec.dispatch(reply));
        let v = block_on(out).unwrap();
        assert_eq!((v.name.as_str(), v.version.as_str()), ("Exodus", "0.7.0.4"));
    }

    /// XEP-0092 §3, Example 2.
    const EXAMPLE_2: &str = "<iq xmlns='jabber:client' type='result' to='romeo@montague.net/orchard' from='juliet@capulet.com/balcony' id='version_1'>\
        <query xmlns='jabber:iq:version'><name>Exodus</name><version>0.7.0.4</version><os>Windows-XP 5.01.2600</os></query></iq>";

    #[test]
    fn parses_and_builds_the_spec_example() {
        let reply = Element::parse(EXAMPLE_2).unwrap();
        let v = SoftwareVersion::from_stanza(&reply).unwrap();
        assert_eq!(
            (v.name.as_str(), v.version.as_str(), v.os.as_deref()),
            ("Exodus", "0.7.0.4", Some("Windows-XP 5.01.2600"))
        );
        // §3 Example 1 → Example 2
        let get = Element::parse("<iq xmlns='jabber:client' type='get' from='romeo@montague.net/orchard' to='juliet@capulet.com/balcony' id='version_1'><query xmlns='jabber:iq:version'/></iq>").unwrap();
        let built = answer(&get, &v).unwrap().build().unwrap();
        assert_eq!(built.attr("to"), reply.attr("to"));
        assert_eq!(built.attr("id"), reply.attr("id"));
        assert_eq!(built.child("query", NS).unwrap().to_xml(), reply.child("query", NS).unwrap().to_xml());
    }

    #[test]
    fn the_default_answer_is_moxl_without_os() {
        let get = Element::parse(
            "<iq xmlns='jabber:client' type='get' from='a@b/c' id='v'><query xmlns='jabber:iq:version'/></iq>",
        )
        .unwrap();
        let xml = answer(&get, &SoftwareVersion::default()).unwrap().build().unwrap().to_xml();
        assert!(xml.contains("<name>moxl</name>"), "{xml}");
        assert!(xml.contains(&format!("<version>{}</version>", env!("CARGO_PKG_VERSION"))), "{xml}");
        assert!(!xml.contains("<os>"), "{xml}");
    }

    #[test]
    fn incomplete_results_and_other_stanzas_are_refused() {
        let no_version = Element::parse("<iq xmlns='jabber:client' type='result' id='v'><query xmlns='jabber:iq:version'><name>X</name></query></iq>").unwrap();
        assert_eq!(SoftwareVersion::from_stanza(&no_version), None);
        let set = Element::parse(
            "<iq xmlns='jabber:client' type='set' from='a@b/c' id='v'><query xmlns='jabber:iq:version'/></iq>",
        )
        .unwrap();
        assert!(answer(&set, &SoftwareVersion::default()).unwrap().build().unwrap().to_xml().contains("<bad-request"));
        assert!(answer(&no_version, &SoftwareVersion::default()).is_none());
        let message =
            Element::parse("<message xmlns='jabber:client'><query xmlns='jabber:iq:version'/></message>").unwrap();
        assert!(answer(&message, &SoftwareVersion::default()).is_none());
    }
}
