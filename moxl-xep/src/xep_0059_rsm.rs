//! XEP-0059: Result Set Management (version 1.0). The `<set/>` a request carries to ask for one page of a
//! result set ([`SetQuery`], §2) and the `<set/>` an answer carries to describe the page it returns
//! ([`SetResult`], §2.1, §2.5).
//!
//! This module is a shared helper: MAM (XEP-0313), pubsub items (XEP-0060), MUC lists and disco items page
//! through it. It declares the `http://jabber.org/protocol/rsm` feature (§7): a client that can page through
//! results it asks for.
//!
//! ```
//! use moxl_core::xml::Element;
//! use moxl_xep::xep_0059_rsm::{SetQuery, SetResult};
//! // Ask for the first page of 10 (§2.1, Example 1), then for the page after its last item (§2.2, Example 3).
//! let first = SetQuery::max(10);
//! let answer = Element::parse("<query xmlns='jabber:iq:search'><set xmlns='http://jabber.org/protocol/rsm'>\
//!     <first index='0'>stpeter@jabber.org</first><last>peterpan@neverland.lit</last><count>800</count></set></query>")?;
//! let page = SetResult::find_in(&answer).unwrap();
//! let next = first.after(page.last.unwrap());
//! assert_eq!(next.after.as_deref(), Some("peterpan@neverland.lit"));
//! # Ok::<(), moxl_core::xml::XmlError>(())
//! ```

use moxl_core::xml::{Element, ElementBuilder};
use serde::{Deserialize, Serialize};

/// `http://jabber.org/protocol/rsm` (§7).
///
/// ```
/// assert_eq!(moxl_xep::xep_0059_rsm::NS, "http://jabber.org/protocol/rsm");
/// ```
pub const NS: &str = "http://jabber.org/protocol/rsm";

moxl_core::feature!("http://jabber.org/protocol/rsm");

/// The paging request: how many items at most, and where the page starts or ends (§2).
///
/// `before` set to the empty string asks for the last page (§2.5); `after` and `before` are the opaque ids
/// the previous answer gave in its [`SetResult`] (§2.2, §2.3); `index` jumps to an item number (§2.4), which
/// not every service supports.
///
/// ```
/// use moxl_xep::xep_0059_rsm::SetQuery;
/// // §2.5, Example 9: the last page of 10
/// let q = SetQuery::max(10).last_page();
/// assert_eq!(
///     q.to_element().build()?.to_xml(),
///     "<set xmlns='http://jabber.org/protocol/rsm'><max>10</max><before/></set>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SetQuery {
    /// The most items the page may hold (`<max/>`); `Some(0)` asks only for the count (§2.6).
    pub max: Option<u32>,
    /// Items after this id (`<after/>`, paging forwards).
    pub after: Option<String>,
    /// Items before this id (`<before/>`, paging backwards); empty: the last page.
    pub before: Option<String>,
    /// The index of the first item of the page (`<index/>`, §2.4).
    pub index: Option<u32>,
}

impl SetQuery {
    /// A page of at most `max` items, from the start.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0059_rsm::SetQuery::max(50).max, Some(50));
    /// ```
    pub fn max(max: u32) -> SetQuery {
        SetQuery { max: Some(max), ..SetQuery::default() }
    }

    /// The page after the item `id` (the `last` of the previous page, §2.2).
    ///
    /// ```
    /// let q = moxl_xep::xep_0059_rsm::SetQuery::max(10).after("peterpan@neverland.lit");
    /// assert_eq!((q.after.as_deref(), q.before), (Some("peterpan@neverland.lit"), None));
    /// ```
    pub fn after(mut self, id: impl Into<String>) -> SetQuery {
        self.after = Some(id.into());
        self.before = None;
        self
    }

    /// The page before the item `id` (the `first` of the previous page, §2.3).
    ///
    /// ```
    /// let q = moxl_xep::xep_0059_rsm::SetQuery::max(10).before("peter@pixyland.org");
    /// assert_eq!(q.before.as_deref(), Some("peter@pixyland.org"));
    /// ```
    pub fn before(mut self, id: impl Into<String>) -> SetQuery {
        self.before = Some(id.into());
        self.after = None;
        self
    }

    /// The last page (an empty `<before/>`, §2.5): how archives page backwards from the newest item.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0059_rsm::SetQuery::max(10).last_page().before.as_deref(), Some(""));
    /// ```
    pub fn last_page(self) -> SetQuery {
        self.before("")
    }

    /// The page starting at item number `index` (§2.4).
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0059_rsm::SetQuery::max(10).index(370).index, Some(370));
    /// ```
    pub fn index(mut self, index: u32) -> SetQuery {
        self.index = Some(index);
        self
    }

    /// The `<set/>` element, children in the order of the schema (§8).
    ///
    /// ```
    /// use moxl_xep::xep_0059_rsm::SetQuery;
    /// // §2.2, Example 3
    /// assert_eq!(
    ///     SetQuery::max(10).after("peterpan@neverland.lit").to_element().build()?.to_xml(),
    ///     "<set xmlns='http://jabber.org/protocol/rsm'><max>10</max><after>peterpan@neverland.lit</after></set>"
    /// );
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_element(&self) -> ElementBuilder {
        let mut set = ElementBuilder::new("set", NS);
        if let Some(max) = self.max {
            set.push(ElementBuilder::new("max", NS).text(max.to_string()));
        }
        if let Some(after) = &self.after {
            set.push(ElementBuilder::new("after", NS).text(after.clone()));
        }
        match self.before.as_deref() {
            Some("") => set.push(ElementBuilder::new("before", NS)),
            Some(before) => set.push(ElementBuilder::new("before", NS).text(before)),
            None => {}
        }
        if let Some(index) = self.index {
            set.push(ElementBuilder::new("index", NS).text(index.to_string()));
        }
        set
    }
}

/// What an answer says about the page it holds (§2.1): the ids of its first and last items (to ask for the
/// pages around it), the index of the first item, and the size of the whole set, when the service knows them.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0059_rsm::SetResult;
/// // §2.1, Example 2
/// let set = Element::parse("<set xmlns='http://jabber.org/protocol/rsm'><first index='0'>stpeter@jabber.org</first>\
///     <last>peterpan@neverland.lit</last><count>800</count></set>")?;
/// let page = SetResult::from_element(&set).unwrap();
/// assert_eq!(page.first.as_deref(), Some("stpeter@jabber.org"));
/// assert_eq!((page.first_index, page.count), (Some(0), Some(800)));
/// assert_eq!(page.last.as_deref(), Some("peterpan@neverland.lit"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SetResult {
    /// The id of the first item of the page.
    pub first: Option<String>,
    /// The index of the first item in the whole set.
    pub first_index: Option<u32>,
    /// The id of the last item of the page.
    pub last: Option<String>,
    /// The number of items in the whole set (may be an estimate, §2.1).
    pub count: Option<u32>,
}

impl SetResult {
    /// Reads a `<set xmlns='http://jabber.org/protocol/rsm'/>`; `None` for any other element. A number that
    /// does not parse is left out rather than failing the whole page.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0059_rsm::SetResult;
    /// // §2.6, Example 13: the count only
    /// let set = Element::parse("<set xmlns='http://jabber.org/protocol/rsm'><count>800</count></set>")?;
    /// assert_eq!(SetResult::from_element(&set).unwrap().count, Some(800));
    /// assert!(SetResult::from_element(&Element::parse("<set xmlns='urn:other'/>")?).is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(set: &Element) -> Option<SetResult> {
        if !set.is("set", NS) {
            return None;
        }
        let first = set.child("first", NS);
        Some(SetResult {
            first_index: first.as_ref().and_then(|f| f.attr("index")).and_then(|i| i.trim().parse().ok()),
            first: first.map(|f| f.text().into_owned()),
            last: set.child_text("last", NS),
            count: set.child_text("count", NS).and_then(|c| c.trim().parse().ok()),
        })
    }

    /// The `<set/>` child of `parent` (a `<query/>`, `<fin/>`, `<pubsub/>`…), if it has one.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0059_rsm::SetResult;
    /// let fin = Element::parse("<fin xmlns='urn:xmpp:mam:2' complete='true'><set xmlns='http://jabber.org/protocol/rsm'>\
    ///     <first index='0'>28482-98726-73623</first><last>09af3-cc343-b409f</last></set></fin>")?;
    /// assert_eq!(SetResult::find_in(&fin).unwrap().last.as_deref(), Some("09af3-cc343-b409f"));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn find_in(parent: &Element) -> Option<SetResult> {
        parent.child("set", NS).and_then(|set| SetResult::from_element(&set))
    }

    /// Whether the page is empty: no first or last item (§2.3, Example 8: paging past the end).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0059_rsm::SetResult;
    /// let set = Element::parse("<set xmlns='http://jabber.org/protocol/rsm'><count>790</count></set>")?;
    /// assert!(SetResult::from_element(&set).unwrap().is_empty());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.first.is_none() && self.last.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(xml: &str) -> Element {
        Element::parse(xml).unwrap()
    }

    #[test]
    fn spec_requests_build_as_in_the_examples() {
        // §2.1 Example 1, §2.3 Example 5, §2.4 Example 7, §2.6 Example 12
        let cases = [
            (SetQuery::max(10), "<set xmlns='http://jabber.org/protocol/rsm'><max>10</max></set>"),
            (
                SetQuery::max(10).before("peter@pixyland.org"),
                "<set xmlns='http://jabber.org/protocol/rsm'><max>10</max><before>peter@pixyland.org</before></set>",
            ),
            (
                SetQuery::max(10).index(371),
                "<set xmlns='http://jabber.org/protocol/rsm'><max>10</max><index>371</index></set>",
            ),
            (SetQuery::max(0), "<set xmlns='http://jabber.org/protocol/rsm'><max>0</max></set>"),
        ];
        for (q, xml) in cases {
            assert_eq!(q.to_element().build().unwrap().to_xml(), xml);
        }
    }

    #[test]
    fn after_and_before_exclude_each_other() {
        let q = SetQuery::max(5).before("a").after("b");
        assert_eq!((q.after.as_deref(), q.before.as_deref()), (Some("b"), None));
    }

    #[test]
    fn bad_numbers_are_left_out_not_fatal() {
        let r = SetResult::from_element(&e(
            "<set xmlns='http://jabber.org/protocol/rsm'><first index='x'>a</first><last>b</last><count>-3</count></set>",
        ))
        .unwrap();
        assert_eq!(r, SetResult { first: Some("a".into()), first_index: None, last: Some("b".into()), count: None });
    }

    #[test]
    fn round_trips_through_serde() {
        let q = SetQuery::max(50).after("x");
        let back: SetQuery = serde_json::from_str(&serde_json::to_string(&q).unwrap()).unwrap();
        assert_eq!(back, q);
    }
}
