//! Finding the path of the runtime crate that generated code names (`::moxl` or `::moxl_core`).

use proc_macro_crate::{crate_name, FoundCrate};
use syn::{Ident, LitStr, Path};

use crate::errors::Errors;

/// The runtime path for generated code: the `crate = "..."` override if given, else `::moxl` if the calling
/// package depends on (or is) `moxl`, else `::moxl_core` if it depends on (or is) `moxl-core`, else `::moxl`.
///
/// When the calling package *is* the runtime crate, the path is still `::moxl` / `::moxl_core`: that is right
/// for its tests, examples and doctests, and its library needs `extern crate self as moxl_core;` (or `moxl`).
pub(crate) fn runtime_path(explicit: Option<&LitStr>, errors: &mut Errors) -> Path {
    if let Some(lit) = explicit {
        match lit.parse::<Path>() {
            Ok(path) => return path,
            Err(_) => {
                errors.at(lit.span(), "`crate` must be a path, like `crate = \"moxl\"` or `crate = \"::my::moxl\"`")
            }
        }
    }
    let name = discover().unwrap_or_else(|| "moxl".to_owned());
    match syn::parse_str::<Ident>(&name) {
        // `parse_str` gives the identifier a call-site span, so it resolves where the macro is used.
        Ok(ident) => syn::parse_quote!(::#ident),
        // A dependency renamed to something that is not an identifier: cannot happen with a valid manifest.
        Err(_) => syn::parse_quote!(::moxl),
    }
}

/// The name under which the calling package sees the runtime, if it depends on it.
fn discover() -> Option<String> {
    ["moxl", "moxl-core"].into_iter().find_map(|package| match crate_name(package) {
        Ok(FoundCrate::Itself) => Some(package.replace('-', "_")),
        Ok(FoundCrate::Name(name)) => Some(name),
        Err(_) => None,
    })
}
