//! XEP-0433: Extended Channel Search (version 0.1.0). A search service (search.jabber.network is the deployed
//! one) finds public group chats across domains: the searcher may fetch the service's search form
//! ([`GetForm`], §4.2.1), then submits a query ([`Search`], §4.2.2) and gets one page of typed [`Channel`]s with
//! XEP-0059 paging ([`SearchPage`]); the next page is the same query with [`SearchPage::next`]. The service's
//! refusals (§4.2.2.2–§4.2.2.7) are read by [`SearchError::of`].
//!
//! A service announces `urn:xmpp:channel-search:0:search` (§4.1); a client announces nothing. Neither local test
//! server (Prosody 0.12, ejabberd 23.01) implements a search service, so this module is tested with the XEP's
//! own examples as fixtures.
//!
//! ```
//! use moxl_xep::xep_0433_channel_search::{Search, SearchQuery, SortKey};
//! # async fn run(ctx: &moxl_core::xec::Context) -> moxl_core::Result<()> {
//! let query = SearchQuery::keywords("xmpp").sort(SortKey::Users);
//! let page = ctx.request(Search::new("api@search.jabber.network", query.clone()).max(20))?.await?;
//! for c in &page.channels {
//!     println!("{} ({:?} users): {:?}", c.address, c.users, c.name);
//! }
//! if let Some(next) = page.next(&Search::new("api@search.jabber.network", query).max(20)) {
//!     let _second = ctx.request(next)?.await?;
//! }
//! # Ok(()) }
//! ```

use moxl_core::Result;
use moxl_core::action;
use moxl_core::stanza::{StanzaError, iq_get};
use moxl_core::xec::Context;
use moxl_core::xml::{Element, ElementBuilder};
use serde::{Deserialize, Serialize};

use crate::xep_0004_data_forms::DataForm;
use crate::xep_0059_rsm::{SetQuery, SetResult};

/// `urn:xmpp:channel-search:0:search`: the namespace of `<search/>`, `<result/>` and its items, and the
/// service's disco feature (§4.1).
///
/// ```
/// assert_eq!(moxl_xep::xep_0433_channel_search::NS, "urn:xmpp:channel-search:0:search");
/// ```
pub const NS: &str = "urn:xmpp:channel-search:0:search";

/// `urn:xmpp:channel-search:0:search-params`: the `FORM_TYPE` of the search form (§4.2).
pub const FORM_TYPE: &str = "urn:xmpp:channel-search:0:search-params";

/// `urn:xmpp:channel-search:0:order`: the namespace of the sort keys (§6.1).
pub const NS_ORDER: &str = "urn:xmpp:channel-search:0:order";

/// `urn:xmpp:channel-search:0:error`: the namespace of the application conditions of errors (§4.2.2).
pub const NS_ERROR: &str = "urn:xmpp:channel-search:0:error";

/// `urn:xmpp:channel-search:0:anonymity`: the namespace of the anonymity modes (§6.2).
pub const NS_ANONYMITY: &str = "urn:xmpp:channel-search:0:anonymity";

/// How results are ordered (the `key` field, §6.1).
///
/// ```
/// use moxl_xep::xep_0433_channel_search::SortKey;
/// assert_eq!(SortKey::Address.value(), "{urn:xmpp:channel-search:0:order}address");
/// assert_eq!(SortKey::parse("{urn:xmpp:channel-search:0:order}nusers"), SortKey::Users);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SortKey {
    /// By address: pages without duplicates or omissions.
    Address,
    /// By number of users, descending (pages may overlap).
    Users,
    /// A service's own key, in Clark notation (§6.1.1).
    Other(String),
}

impl SortKey {
    /// The field value.
    pub fn value(&self) -> String {
        match self {
            SortKey::Address => format!("{{{NS_ORDER}}}address"),
            SortKey::Users => format!("{{{NS_ORDER}}}nusers"),
            SortKey::Other(v) => v.clone(),
        }
    }

    /// Reads a field value.
    pub fn parse(value: &str) -> SortKey {
        match value.strip_prefix(&format!("{{{NS_ORDER}}}")) {
            Some("address") => SortKey::Address,
            Some("nusers") => SortKey::Users,
            _ => SortKey::Other(value.to_owned()),
        }
    }
}

/// The kind of service hosting a channel (the `types` field and `<service-type/>`, §6.2).
///
/// ```
/// use moxl_xep::xep_0433_channel_search::ServiceType;
/// assert_eq!(ServiceType::parse("xep-0369"), ServiceType::Mix);
/// assert_eq!(ServiceType::Muc.as_str(), "xep-0045");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ServiceType {
    /// `xep-0045`: a multi-user chat room.
    Muc,
    /// `xep-0369`: a MIX channel.
    Mix,
    /// Another value.
    Other(String),
}

impl ServiceType {
    /// Reads a value.
    pub fn parse(value: &str) -> ServiceType {
        match value {
            "xep-0045" => ServiceType::Muc,
            "xep-0369" => ServiceType::Mix,
            other => ServiceType::Other(other.to_owned()),
        }
    }

    /// The value.
    pub fn as_str(&self) -> &str {
        match self {
            ServiceType::Muc => "xep-0045",
            ServiceType::Mix => "xep-0369",
            ServiceType::Other(v) => v,
        }
    }
}

/// Who can see whom in a channel (`<anonymity-mode/>`, §6.2).
///
/// ```
/// use moxl_xep::xep_0433_channel_search::Anonymity;
/// assert_eq!(Anonymity::parse("{urn:xmpp:channel-search:0:anonymity}none"), Anonymity::NonAnonymous);
/// assert_eq!(Anonymity::parse("muc_semianonymous"), Anonymity::SemiAnonymous);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Anonymity {
    /// Every occupant's JID is visible to every other occupant.
    NonAnonymous,
    /// XEP-0045's semi-anonymous rooms.
    SemiAnonymous,
    /// An unknown mode: §6.2.1 recommends treating it as non-anonymous, or asking the channel.
    Other(String),
}

impl Anonymity {
    /// Reads a value.
    pub fn parse(value: &str) -> Anonymity {
        if value == format!("{{{NS_ANONYMITY}}}none") {
            Anonymity::NonAnonymous
        } else if value == "muc_semianonymous" {
            Anonymity::SemiAnonymous
        } else {
            Anonymity::Other(value.to_owned())
        }
    }
}

/// What to search for: the search form submitted (§4.2.2, fields of §6.1). Unset fields are left out, so the
/// service's defaults apply (§5).
///
/// ```
/// use moxl_xep::xep_0433_channel_search::{SearchQuery, ServiceType, SortKey};
/// let form = SearchQuery::keywords("xmpp.org").sort(SortKey::Address).to_form();
/// assert_eq!(form.form_type_value(), Some("urn:xmpp:channel-search:0:search-params"));
/// assert_eq!(form.value("q"), Some("xmpp.org"));
/// assert_eq!(form.value("key"), Some("{urn:xmpp:channel-search:0:order}address"));
/// let all = SearchQuery::all().types([ServiceType::Muc, ServiceType::Mix]).min_users(5).to_form();
/// assert_eq!((all.value("all"), all.values("types").len(), all.value("min_users")), (Some("1"), 2, Some("5")));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SearchQuery {
    /// Keywords (`q`).
    pub keywords: Option<String>,
    /// Every channel, ignoring keywords (`all`; conflicts with `q`).
    pub all: bool,
    /// Search in names (`sinname`).
    pub in_name: Option<bool>,
    /// Search in descriptions (`sindescription`).
    pub in_description: Option<bool>,
    /// Search in addresses (`sinaddress`).
    pub in_address: Option<bool>,
    /// At least this many users (`min_users`).
    pub min_users: Option<u32>,
    /// Only these service types (`types`; without it, a service searches XEP-0045 rooms only).
    pub types: Vec<ServiceType>,
    /// The order (`key`).
    pub sort: Option<SortKey>,
}

impl SearchQuery {
    /// A keyword search (`q`).
    pub fn keywords(q: impl Into<String>) -> SearchQuery {
        SearchQuery { keywords: Some(q.into()), ..SearchQuery::default() }
    }

    /// Every channel (`all`), if the service allows it (§4.2.2.5).
    pub fn all() -> SearchQuery {
        SearchQuery { all: true, ..SearchQuery::default() }
    }

    /// Ordered by `key`.
    pub fn sort(mut self, key: SortKey) -> SearchQuery {
        self.sort = Some(key);
        self
    }

    /// Only channels of these service types.
    pub fn types(mut self, types: impl IntoIterator<Item = ServiceType>) -> SearchQuery {
        self.types = types.into_iter().collect();
        self
    }

    /// Only channels with at least `n` users.
    pub fn min_users(mut self, n: u32) -> SearchQuery {
        self.min_users = Some(n);
        self
    }

    /// The submitted form.
    pub fn to_form(&self) -> DataForm {
        let mut form = DataForm::submit(Some(FORM_TYPE));
        if let Some(q) = &self.keywords {
            form = form.with_value("q", q.clone());
        }
        if self.all {
            form = form.with_bool("all", true);
        }
        for (var, value) in
            [("sinname", self.in_name), ("sindescription", self.in_description), ("sinaddress", self.in_address)]
        {
            if let Some(v) = value {
                form = form.with_bool(var, v);
            }
        }
        if let Some(n) = self.min_users {
            form = form.with_value("min_users", n.to_string());
        }
        if !self.types.is_empty() {
            form = form.with_values("types", self.types.iter().map(|t| t.as_str().to_owned()));
        }
        if let Some(key) = &self.sort {
            form = form.with_value("key", key.value());
        }
        form
    }
}

/// One channel found (`<item/>` of `<result/>`, §6.2). Every child is optional; unknown ones are ignored
/// (§6.2.1).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0433_channel_search::Channel;
/// let item = Element::parse("<item xmlns='urn:xmpp:channel-search:0:search' address='operators@muc.xmpp.org'>\
///     <name>XMPP Service Operators</name><nusers>43</nusers><is-open/></item>")?;
/// let c = Channel::from_element(&item).unwrap();
/// assert_eq!((c.address.as_str(), c.users, c.is_open), ("operators@muc.xmpp.org", Some(43), Some(true)));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Channel {
    /// The channel's JID (`address`).
    pub address: String,
    /// Its name.
    pub name: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// Its main language (an `xml:lang` code).
    pub language: Option<String>,
    /// Its number of users (may be stale).
    pub users: Option<u64>,
    /// The kind of service hosting it.
    pub service_type: Option<ServiceType>,
    /// Whether it can be joined without credentials (`<is-open/>`, empty or `true`/`1`).
    pub is_open: Option<bool>,
    /// Its anonymity mode.
    pub anonymity: Option<Anonymity>,
}

impl Channel {
    /// Reads an `<item/>`; `None` without `address`.
    pub fn from_element(item: &Element) -> Option<Channel> {
        if !item.is("item", NS) {
            return None;
        }
        let text = |n: &str| item.child_text(n, NS).map(|t| t.trim().to_owned());
        let is_open = item.child("is-open", NS).map(|e| {
            let t = e.text();
            matches!(t.trim(), "" | "true" | "1")
        });
        Some(Channel {
            address: item.attr("address").filter(|a| !a.is_empty())?.into_owned(),
            name: text("name"),
            description: text("description"),
            language: text("language"),
            users: text("nusers").and_then(|n| n.parse().ok()),
            service_type: text("service-type").map(|t| ServiceType::parse(&t)),
            is_open,
            anonymity: text("anonymity-mode").map(|a| Anonymity::parse(&a)),
        })
    }
}

/// One page of results (§4.2.2.1): the channels, and the XEP-0059 `<set/>` to page on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SearchPage {
    /// The channels of this page (none: no result, §5).
    pub channels: Vec<Channel>,
    /// The paging information, if the service paged.
    pub page: Option<SetResult>,
}

impl SearchPage {
    /// Reads the `<result/>` of a result iq.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0433_channel_search::SearchPage;
    /// let r = Element::parse("<iq xmlns='jabber:client' type='result' id='id3'><result xmlns='urn:xmpp:channel-search:0:search'/></iq>")?;
    /// assert!(SearchPage::from_stanza(&r).unwrap().channels.is_empty());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_stanza(stanza: &Element) -> Option<SearchPage> {
        let result = stanza.child("result", NS)?;
        let channels = result.children().filter_map(|i| Channel::from_element(&i)).collect();
        Some(SearchPage { channels, page: SetResult::find_in(&result) })
    }

    /// The search for the next page: `search` (the same query, §4.2.2.1) after this page's last item; `None`
    /// when this page was empty or unpaged.
    pub fn next(&self, search: &Search) -> Option<Search> {
        let last = self.page.as_ref()?.last.clone().filter(|_| !self.channels.is_empty())?;
        let mut next = search.clone();
        next.page = next.page.take().unwrap_or_default().after(last).into();
        Some(next)
    }
}

/// Why a search service refused (the application conditions of §4.2.2.2–§4.2.2.7).
///
/// ```
/// use moxl_core::stanza::StanzaError;
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0433_channel_search::SearchError;
/// // §4.2.2.4, Example 8
/// let iq = Element::parse("<iq xmlns='jabber:client' type='error' id='id3'><error type='wait'>\
///     <resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
///     <rate-limit xmlns='urn:xmpp:channel-search:0:error' retry-after='30'/></error></iq>")?;
/// let e = StanzaError::from_stanza(&iq).unwrap();
/// assert_eq!(SearchError::of(&e), Some(SearchError::RateLimit { retry_after: Some(30) }));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SearchError {
    /// `invalid-sort-key`: the service does not know the `key` asked for.
    InvalidSortKey,
    /// `invalid-search-terms`: the keywords gave nothing to search for (the error's text says why).
    InvalidSearchTerms,
    /// `rate-limit`: not before `retry_after` seconds (§5: without it, back off exponentially).
    RateLimit {
        /// Seconds to wait, if the service said.
        retry_after: Option<u64>,
    },
    /// `full-set-retrieval-rejected`: `all` is not allowed.
    FullSetRetrievalRejected,
    /// `conflicting-fields`: these fields may not be used together; change one of them.
    ConflictingFields(Vec<String>),
    /// `no-search-conditions`: neither `q` nor `all`.
    NoSearchConditions,
}

impl SearchError {
    /// The application condition of a search service's error; `None` if it has none of this XEP.
    pub fn of(error: &StanzaError) -> Option<SearchError> {
        let app = Element::parse(error.app_condition()?).ok()?;
        if app.ns() != NS_ERROR {
            return None;
        }
        Some(match app.name() {
            "invalid-sort-key" => SearchError::InvalidSortKey,
            "invalid-search-terms" => SearchError::InvalidSearchTerms,
            "rate-limit" => {
                SearchError::RateLimit { retry_after: app.attr("retry-after").and_then(|s| s.parse().ok()) }
            }
            "full-set-retrieval-rejected" => SearchError::FullSetRetrievalRejected,
            "conflicting-fields" => SearchError::ConflictingFields(
                app.children().filter(|v| v.is("var", NS_ERROR)).map(|v| v.text().trim().to_owned()).collect(),
            ),
            "no-search-conditions" => SearchError::NoSearchConditions,
            _ => return None,
        })
    }
}

/// Fetches a search service's form (§4.2.1): the fields it supports with their defaults (§5). Its `Output` is
/// the [`DataForm`].
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `channelsearch_getform_handle` | the [`DataForm`] |
/// | error | `channelsearch_getform_error<condition>` | the [`StanzaError`] |
///
/// ```
/// use moxl_xep::xep_0433_channel_search::GetForm;
/// // §4.2.1, Example 2
/// let iq = GetForm::new("search.service.example").request_stanza().build()?;
/// assert!(iq.to_xml().ends_with("<search xmlns='urn:xmpp:channel-search:0:search'/></iq>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetForm {
    service: String,
}

impl GetForm {
    /// The form of `service`.
    pub fn new(service: impl Into<String>) -> GetForm {
        GetForm { service: service.into() }
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        iq_get(Some(&self.service)).append(ElementBuilder::new("search", NS))
    }
}

#[action(group = "channelsearch")]
impl GetForm {
    /// The service's search form.
    type Output = DataForm;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<DataForm> {
        stanza
            .child("search", NS)
            .and_then(|s| DataForm::find_in(&s))
            .ok_or_else(|| moxl_core::Error::handler("the search service sent no form (XEP-0433 §4.2.1)"))
    }
}

/// Searches (§4.2.2): submits a [`SearchQuery`] to a service, optionally with a page request. Its `Output` is a
/// [`SearchPage`]; the service's refusal is the request's error, read with [`SearchError::of`].
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `channelsearch_search_handle` | [`SearchPage`] |
/// | error | `channelsearch_search_error<condition>` | the [`StanzaError`] |
///
/// ```
/// use moxl_xep::xep_0433_channel_search::{Search, SearchQuery, SortKey};
/// // §4.2.2, Example 3
/// let s = Search::new("search.service.example", SearchQuery::keywords("xmpp.org").sort(SortKey::Address)).max(5);
/// let xml = s.request_stanza().build()?.to_xml();
/// assert!(xml.contains("<search xmlns='urn:xmpp:channel-search:0:search'>\
///     <set xmlns='http://jabber.org/protocol/rsm'><max>5</max></set><x xmlns='jabber:x:data' type='submit'>"), "{xml}");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Search {
    service: String,
    query: SearchQuery,
    page: Option<SetQuery>,
}

impl Search {
    /// Submits `query` to `service`.
    pub fn new(service: impl Into<String>, query: SearchQuery) -> Search {
        Search { service: service.into(), query, page: None }
    }

    /// Asks for pages of at most `max` channels (the service may choose otherwise).
    pub fn max(mut self, max: u32) -> Search {
        let mut page = self.page.take().unwrap_or_default();
        page.max = Some(max);
        self.page = Some(page);
        self
    }

    /// With a page request of its own.
    pub fn page(mut self, page: SetQuery) -> Search {
        self.page = Some(page);
        self
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        let mut search = ElementBuilder::new("search", NS);
        if let Some(page) = &self.page {
            search.push(page.to_element());
        }
        search.push(self.query.to_form().to_element());
        iq_get(Some(&self.service)).append(search)
    }
}

#[action(group = "channelsearch")]
impl Search {
    /// One page of channels.
    type Output = SearchPage;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<SearchPage> {
        SearchPage::from_stanza(stanza)
            .ok_or_else(|| moxl_core::Error::handler("the search service sent no <result/> (XEP-0433 §4.2.2.1)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{answer_last, block_on};
    use moxl_core::xec::Xec;

    /// §4.2.1, Example 2 (the form).
    const FORM: &str = "<iq xmlns='jabber:client' from='search.service.example' id='ID' type='result' xml:lang='en'>\
        <search xmlns='urn:xmpp:channel-search:0:search'><x xmlns='jabber:x:data' type='form'>\
        <field type='hidden' var='FORM_TYPE'><value>urn:xmpp:channel-search:0:search-params</value></field>\
        <field type='text-single' var='q' label='Search for'/>\
        <field type='boolean' var='all' label='Return all entries (ignore search terms)'/>\
        <field type='boolean' var='sinname' label='Search in name'><value>true</value></field>\
        <field type='boolean' var='sindescription' label='Search in description'><value>true</value></field>\
        <field type='boolean' var='sinaddr' label='Search in address'><value>true</value></field>\
        <field type='text-single' var='min_users' label='Minimum number of users'><value>1</value></field>\
        <field var='types' type='list-multi' label='Service types'><value>xep-0045</value>\
        <option label='XEP-0045 Multi User Chats'><value>xep-0045</value></option>\
        <option label='XEP-0369 MIX channels'><value>xep-0369</value></option></field>\
        <field type='list-single' var='key' label='Sort results by'><value>{urn:xmpp:channel-search:0:order}nusers</value>\
        <option label='Number of online users'><value>{urn:xmpp:channel-search:0:order}nusers</value></option>\
        <option label='Address'><value>{urn:xmpp:channel-search:0:order}address</value></option></field>\
        </x></search></iq>";

    /// §4.2.2.1, Example 4 (the elided items left out).
    const PAGE: &str = "<iq xmlns='jabber:client' from='search.service.example' id='ID' type='result' xml:lang='en'>\
        <result xmlns='urn:xmpp:channel-search:0:search'>\
        <item address='commteam@muc.xmpp.org'><name>commteam</name><nusers>10</nusers><is-open/></item>\
        <item address='operators@muc.xmpp.org'><name>XMPP Service Operators</name>\
        <description>Discussion venue for operators of federated XMPP services</description><nusers>43</nusers><is-open/></item>\
        <item><name>no address: left out</name></item>\
        <set xmlns='http://jabber.org/protocol/rsm'><first>opaque-string-1</first><last>opaque-string-2</last><max>5</max></set>\
        </result></iq>";

    #[test]
    fn the_form_then_a_page_then_the_next_page() {
        let xec = Xec::new().unwrap();
        let ctx = xec.context();
        let mut forms = xec.subscribe("channelsearch_getform_handle");
        ctx.request(GetForm::new("search.service.example")).unwrap();
        block_on(xec.dispatch(answer_last(&xec, FORM)));
        let form = forms.try_recv().unwrap();
        let form = form.content::<DataForm>().unwrap();
        assert_eq!(form.form_type_value(), Some(FORM_TYPE));
        assert_eq!(SortKey::parse(form.value("key").unwrap()), SortKey::Users);

        let mut pages = xec.subscribe("channelsearch_search_handle");
        let search =
            Search::new("search.service.example", SearchQuery::keywords("xmpp.org").sort(SortKey::Address)).max(5);
        ctx.request(search.clone()).unwrap();
        block_on(xec.dispatch(answer_last(&xec, PAGE)));
        let page = pages.try_recv().unwrap();
        let page = page.content::<SearchPage>().unwrap();
        assert_eq!(page.channels.len(), 2);
        assert_eq!(page.channels[0].name.as_deref(), Some("commteam"));
        assert_eq!(page.channels[1].users, Some(43));
        assert!(page.channels[1].description.as_deref().is_some_and(|d| d.starts_with("Discussion venue")));
        let next = page.next(&search).unwrap();
        let xml = next.request_stanza().build().unwrap().to_xml();
        assert!(xml.contains("<max>5</max><after>opaque-string-2</after>"), "{xml}");
        assert!(xml.contains("<value>xmpp.org</value>"), "the same query: {xml}");
        // §5: no result is an empty <result/>, and there is no next page
        let empty = SearchPage::from_stanza(
            &Element::parse(
                "<iq xmlns='jabber:client' type='result'><result xmlns='urn:xmpp:channel-search:0:search'/></iq>",
            )
            .unwrap(),
        )
        .unwrap();
        assert!(empty.next(&search).is_none());
    }

    #[test]
    fn the_refusals_of_the_xep_are_told_apart() {
        let error = |app: &str| {
            let iq = format!(
                "<iq xmlns='jabber:client' type='error'><error type='modify'>\
                 <bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>{app}</error></iq>"
            );
            SearchError::of(&StanzaError::from_stanza(&Element::parse(&iq).unwrap()).unwrap())
        };
        // §4.2.2.2–§4.2.2.7, Examples 6–11
        assert_eq!(
            error("<invalid-sort-key xmlns='urn:xmpp:channel-search:0:error'/>"),
            Some(SearchError::InvalidSortKey)
        );
        assert_eq!(
            error("<invalid-search-terms xmlns='urn:xmpp:channel-search:0:error'/>"),
            Some(SearchError::InvalidSearchTerms)
        );
        assert_eq!(
            error("<full-set-retrieval-rejected xmlns='urn:xmpp:channel-search:0:error'/>"),
            Some(SearchError::FullSetRetrievalRejected)
        );
        assert_eq!(
            error(
                "<conflicting-fields xmlns='urn:xmpp:channel-search:0:error'><var>all</var><var>q</var></conflicting-fields>"
            ),
            Some(SearchError::ConflictingFields(vec!["all".into(), "q".into()]))
        );
        assert_eq!(
            error("<no-search-conditions xmlns='urn:xmpp:channel-search:0:error'/>"),
            Some(SearchError::NoSearchConditions)
        );
        assert_eq!(
            error("<rate-limit xmlns='urn:xmpp:channel-search:0:error'/>"),
            Some(SearchError::RateLimit { retry_after: None })
        );
        assert_eq!(error("<other xmlns='urn:other'/>"), None);
        assert_eq!(error(""), None);
    }
}
