//! A crate of handlers that the program never names is not linked, and registers nothing: silently, unless the
//! program asks [`Registry::require_crate`], whose error says which line links it. The crate is a
//! dev-dependency of this package like any other; `tests/linking_named.rs` shows the same crate linked.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use moxl::xec::Registry;
use moxl::Error;

const NS: &str = "urn:moxl:test:unnamed-handlers";

#[test]
fn an_unnamed_crate_registers_nothing_and_the_check_says_how_to_link_it() {
    let registry = Registry::global().unwrap();
    for name in ["greeting", "receipt", "status"] {
        assert!(!registry.handles(name, NS), "{name} registered although its crate is never named");
    }
    assert!(!registry.crates().any(|c| c == "moxl_fixture_unnamed_handlers"));
    let Err(Error::Registry(message)) = registry.require_crate("moxl_fixture_unnamed_handlers") else {
        panic!("the missing crate was not reported")
    };
    assert!(message.contains("use moxl_fixture_unnamed_handlers as _;"), "{message}");
    // The crates that are linked are there (moxl-xep registers its handlers through the facade).
    registry.require_crate("moxl_xep").unwrap();
}
