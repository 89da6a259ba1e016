//! The code `#[payload]` generates: a check that the struct is a `Payload`, and its registration.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;

use crate::validate::PayloadModel;

/// The check and the `inventory` registration of a checked `#[payload]`.
pub(super) fn expand(model: &PayloadModel) -> TokenStream {
    let PayloadModel { root, ident, name, ns, node, key, at } = model;
    let p = quote!(#root::__private);
    let type_name = ident.unraw().to_string();
    let node = match node {
        Some(node) => quote!(::core::option::Option::Some(#node)),
        None => quote!(::core::option::Option::None),
    };
    let at = match at {
        Some(variant) => quote!(::core::option::Option::Some(#p::Position::#variant)),
        None => quote!(::core::option::Option::None),
    };
    // Spanned at the struct's name, so that "`X: Payload` is not satisfied" points at the user's struct.
    let check = quote_spanned! {ident.span()=>
        const _: () = {
            fn __assert_payload<T: #p::Payload>() {}
            fn __check() {
                __assert_payload::<#ident>();
            }
        };
    };
    let handler = quote_spanned!(ident.span()=> #p::run_payload::<#ident>);
    quote! {
        #check
        #p::inventory::submit! {
            #p::PayloadRegistration {
                name: #name,
                ns: #ns,
                node: #node,
                type_name: ::core::concat!(::core::module_path!(), "::", #type_name),
                key: #key,
                at: #at,
                handler: #handler,
            }
        }
    }
}
