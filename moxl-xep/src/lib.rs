//! moxl-xep: prebuilt XEP support for moxl, one module per XEP (`xep_NNNN_short_name`).
//!
//! Each module declares its namespaces and disco features, its stanza builders, typed views, Actions and
//! Payloads. Adding a XEP needs no edit outside its module and this list.
//!
//! The modules arrive with the XEP issues; this crate is wired into the workspace and the `moxl` facade now.

pub use moxl_core;
