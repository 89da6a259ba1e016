//! A crate of handlers that the program never calls is linked by one line, `use the_crate as _;`, and then all its
//! handlers register, from each of its modules (several codegen units, so several object files). Its twin,
//! `tests/linking_unnamed.rs`, leaves the line out and finds none: each test binary links on its own.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// The one line. Nothing else in this file names the crate (not even its namespace constant), so this is all
// that links it.
use moxl_fixture_unnamed_handlers as _;

use moxl::xec::Registry;

const NS: &str = "urn:moxl:test:unnamed-handlers";

#[test]
fn every_handler_of_a_named_crate_registers() {
    let registry = Registry::global().unwrap();
    registry.require_crate("moxl_fixture_unnamed_handlers").unwrap();
    registry.require_crate("moxl-fixture-unnamed-handlers").unwrap();
    assert!(registry.crates().any(|c| c == "moxl_fixture_unnamed_handlers"));
    for name in ["greeting", "receipt", "status"] {
        assert!(registry.handles(name, NS), "{name} is not registered");
    }
    let keys: Vec<&str> = registry.payload_entries().into_iter().filter(|e| e.1 == NS).map(|e| e.3).collect();
    assert_eq!(keys, ["unnamed_greeting", "unnamed_receipt", "unnamed_status"]);
}
