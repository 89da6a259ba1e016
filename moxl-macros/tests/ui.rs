//! Compile-time tests of `#[payload]` and `#[action]` (trybuild): what must compile (and run), and the
//! diagnostics for what must not.
//!
//! Regenerate the expected diagnostics with `TRYBUILD=overwrite cargo test -p moxl-macros --test ui`, then
//! read every changed `.stderr`: the message and the span are what is being tested.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
