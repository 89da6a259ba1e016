//! Expansion: parse, validate, then generate. The annotated item is always emitted unchanged, followed either by
//! the generated code or by the errors (so that a mistake in the attribute does not also make every use of the
//! type an error).

mod action;
mod payload;

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};

use crate::errors::Errors;
use crate::parse::{self, ActionArgs, PayloadArgs};
use crate::validate;

/// `#[payload(...)]`: the struct, then its check and registration.
pub(crate) fn payload(attr: TokenStream, item: TokenStream) -> TokenStream {
    let generated = payload_model(attr, item.clone()).map(|model| payload::expand(&model));
    with_item(item, generated)
}

/// `#[action(...)]`: the impl block (less `type Output`, which moves into the trait implementation), then the
/// `Action` implementation and registration.
pub(crate) fn action(attr: TokenStream, item: TokenStream) -> TokenStream {
    // The block as it must be emitted: without its associated types (an inherent impl cannot have them).
    let emitted = parse::action_item(item.clone()).map_or_else(|_| item.clone(), |block| block.item.to_token_stream());
    let generated = action_model(attr, item).map(|model| action::expand(&model));
    with_item(emitted, generated)
}

fn payload_model(attr: TokenStream, item: TokenStream) -> syn::Result<validate::PayloadModel> {
    let mut errors = Errors::default();
    let args = PayloadArgs::parse(attr, &mut errors).map_err(|e| errors.push(e)).ok();
    let item = parse::payload_item(item).map_err(|e| errors.push(e)).ok();
    let model = match (&args, &item) {
        (Some(args), Some(item)) => validate::payload(args, item, &mut errors),
        _ => None,
    };
    finish(errors, model)
}

fn action_model(attr: TokenStream, item: TokenStream) -> syn::Result<validate::ActionModel> {
    let mut errors = Errors::default();
    let args = ActionArgs::parse(attr, &mut errors).map_err(|e| errors.push(e)).ok();
    let block = parse::action_item(item).map_err(|e| errors.push(e)).ok();
    let model = match (&args, &block) {
        (Some(args), Some(block)) => validate::action(args, block, &mut errors),
        _ => None,
    };
    finish(errors, model)
}

/// The model, or every error recorded. (A missing model always comes with an error; the fallback message is
/// only there to avoid a panic should that ever not hold.)
fn finish<T>(errors: Errors, model: Option<T>) -> syn::Result<T> {
    errors.finish(())?;
    model.ok_or_else(|| syn::Error::new(Span::call_site(), "moxl-macros: invalid input (no diagnostic was produced)"))
}

/// The item as written, then the generated code or the errors.
fn with_item(item: TokenStream, generated: syn::Result<TokenStream>) -> TokenStream {
    let generated = generated.unwrap_or_else(syn::Error::into_compile_error);
    quote! {
        #item
        #generated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expansion as a string without spaces, to look for pieces of generated code.
    fn squeeze(tokens: &TokenStream) -> String {
        tokens.to_string().chars().filter(|c| !c.is_whitespace()).collect()
    }

    /// How many errors an expansion reports (each is one `compile_error!`).
    fn error_count(tokens: &TokenStream) -> usize {
        squeeze(tokens).matches("compile_error!").count()
    }

    #[test]
    fn action_routes_each_condition_to_its_method() {
        let out = action(
            quote!(group = "vcard"),
            quote! {
                impl Get {
                    fn request(&self) -> ElementBuilder { iq_get(None) }
                    async fn handle(&mut self, ctx: &Context, stanza: &Element) {}
                    async fn error_item_not_found(&mut self, ctx: &Context, e: &StanzaError, s: &Element) {}
                    async fn error_remote_server_timeout(&mut self, ctx: &Context, e: &StanzaError, s: &Element) {}
                    async fn timeout(&mut self, ctx: &Context) {}
                }
            },
        );
        let s = squeeze(&out);
        assert_eq!(error_count(&out), 0, "{s}");
        assert!(s.contains("impl::moxl::__private::ActionforGet"), "{s}");
        assert!(s.contains(r#""item-not-found"=>{letctx=&ctx.__method("erroritemnotfound");"#), "{s}");
        assert!(s.contains(r#""remote-server-timeout"=>{letctx=&ctx.__method("errorremoteservertimeout");"#), "{s}");
        assert!(s.contains("_=>::moxl::__private::unhandled_error(ctx,error)"), "{s}");
        assert!(s.contains(r#"ctx.__method("timeout")"#), "{s}");
        assert!(!s.contains("unhandled_timeout"), "{s}");
        assert!(s.contains(r#"group:::core::option::Option::Some("vcard")"#), "{s}");
        assert!(s.contains("revive:::moxl::__private::revive::<Get>"), "{s}");
    }

    #[test]
    fn action_without_optional_methods_falls_back_to_the_runtime() {
        let out = action(
            TokenStream::new(),
            quote! {
                impl Get {
                    fn request(&self) -> ElementBuilder { iq_get(None) }
                    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> Result<()> { Ok(()) }
                }
            },
        );
        let s = squeeze(&out);
        assert_eq!(error_count(&out), 0, "{s}");
        assert!(s.contains("Outcome::Error(error,_)=>::moxl::__private::unhandled_error(ctx,error)"), "{s}");
        assert!(s.contains("Outcome::Timeout=>::moxl::__private::unhandled_timeout(ctx)"), "{s}");
        assert!(s.contains("group:::core::option::Option::None"), "{s}");
    }

    #[test]
    fn payload_defaults_and_overrides() {
        let out = payload(
            quote!(name = "failure", ns = "urn:x"),
            quote!(
                pub struct SaslFailure;
            ),
        );
        let s = squeeze(&out);
        assert_eq!(error_count(&out), 0, "{s}");
        assert!(s.starts_with("pubstructSaslFailure;"), "the struct is kept first and unchanged: {s}");
        assert!(s.contains(r#"key:"saslfailure""#), "{s}");
        assert!(s.contains("node:::core::option::Option::None"), "{s}");
        assert!(s.contains("handler:::moxl::__private::run_payload::<SaslFailure>"), "{s}");

        let out = payload(
            quote!(name = "event", ns = "urn:x", node = "n", key = "k", crate = "::my::rt"),
            quote!(
                struct Event;
            ),
        );
        let s = squeeze(&out);
        assert_eq!(error_count(&out), 0, "{s}");
        assert!(s.contains(r#"node:::core::option::Option::Some("n")"#), "{s}");
        assert!(s.contains(r#"key:"k""#), "{s}");
        assert!(s.contains("::my::rt::__private::PayloadRegistration"), "{s}");
    }

    #[test]
    fn every_problem_is_reported_and_the_item_kept() {
        let out = payload(
            quote!(name = "", colour = "blue", key = "A.b"),
            quote!(
                struct S<T>(T);
            ),
        );
        assert_eq!(error_count(&out), 5, "{out}"); // empty name, unknown key, missing ns, bad key, generics
        assert!(squeeze(&out).starts_with("structS<T>(T);"));

        let out = action(quote!(group = "x"), quote!(impl Get { fn error_nope(&mut self) {} }));
        assert_eq!(error_count(&out), 3, "{out}"); // unknown condition, no request, no handle
    }
}
