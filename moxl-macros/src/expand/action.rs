//! The code `#[action]` generates: the `Action` implementation (routing each outcome to its method) and the
//! registration of the type.

use proc_macro2::{Ident, TokenStream};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;

use crate::validate::{ActionModel, Handler};

/// The `Action` implementation and the `inventory` registration of a checked `#[action]` block.
pub(super) fn expand(model: &ActionModel) -> TokenStream {
    let ActionModel { root, ty, group, request, answers, handle, conditions, fallback, timeout, output } = model;
    let p = quote!(#root::__private);
    let type_name = ty.unraw().to_string();
    let output = match output {
        Some(t) => quote!(#t),
        None => quote!(()),
    };

    let reply = call(&p, ty, handle, &["stanza"], Some(&output));

    let error_default = match fallback {
        Some(h) => call(&p, ty, h, &["error", "stanza"], None),
        None => quote!(#p::unhandled_error(ctx, error)),
    };
    let error_body = if conditions.is_empty() {
        error_default
    } else {
        let arms = conditions.iter().map(|(wire, h)| {
            let body = call(&p, ty, h, &["error", "stanza"], None);
            quote!(#wire => #body)
        });
        quote! {
            match error.condition_name() {
                #(#arms,)*
                _ => #error_default,
            }
        }
    };
    // Bind the stanza only if a method receives it (no unused-variable warning in the user's crate).
    let error_stanza = if conditions.is_empty() && fallback.is_none() { quote!(_) } else { quote!(stanza) };

    let timeout_body = match timeout {
        Some(h) => call(&p, ty, h, &[], None),
        None => quote!(#p::unhandled_timeout(ctx)),
    };
    let group = match group {
        Some(g) => quote!(::core::option::Option::Some(#g)),
        None => quote!(::core::option::Option::None),
    };
    let request_call = {
        let mut ty = ty.clone();
        ty.set_span(request.span());
        quote_spanned!(request.span()=> #ty::#request(self))
    };

    let answers_fn = answers.as_ref().map(|answers| {
        let mut ty = ty.clone();
        ty.set_span(answers.span());
        let call = quote_spanned!(answers.span()=> #ty::#answers(self, stanza));
        quote! {
            fn __answers(&self, stanza: &#p::Element) -> bool {
                #call
            }
        }
    });

    quote! {
        impl #p::Action for #ty {
            type Output = #output;

            const TYPE_NAME: &'static str = ::core::concat!(::core::module_path!(), "::", #type_name);

            fn request(&self) -> #p::ElementBuilder {
                #request_call
            }

            #answers_fn

            fn __dispatch<'a>(
                &'a mut self,
                ctx: &'a #p::Context,
                outcome: #p::Outcome<'a>,
            ) -> #p::BoxFuture<'a, #p::Result<::core::option::Option<#output>>> {
                // Checks each handler's future on its own, so that a future that is not `Send` is reported at
                // its method rather than at the attribute.
                fn __require_send<F: ::core::future::Future + ::core::marker::Send>(future: F) -> F {
                    future
                }
                ::std::boxed::Box::pin(async move {
                    match outcome {
                        #p::Outcome::Reply(stanza) => #reply.map(::core::option::Option::Some),
                        #p::Outcome::Error(error, #error_stanza) => #error_body.map(|()| ::core::option::Option::None),
                        #p::Outcome::Timeout => #timeout_body.map(|()| ::core::option::Option::None),
                        #[allow(unreachable_patterns)]
                        _ => ::core::result::Result::Ok(::core::option::Option::None),
                    }
                })
            }
        }

        #p::inventory::submit! {
            #p::ActionRegistration {
                type_name: ::core::concat!(::core::module_path!(), "::", #type_name),
                module_path: ::core::module_path!(),
                ident: #type_name,
                group: #group,
                revive: #p::revive::<#ty>,
            }
        }
    }
}

/// Calls a handler method with a context keyed after it, and turns what it returns into `Result<()>` (or, for
/// `handle`, `Result<Output>`).
///
/// The call (type, method and arguments) is spanned at the method's name, so that an argument of the wrong
/// type points at the method; the conversion is spanned at its return type, so that a return type other than
/// `()` or `Result<()>` (`Result<Self::Output>` for `handle`) points there.
fn call(p: &TokenStream, ty: &Ident, handler: &Handler, args: &[&str], output: Option<&TokenStream>) -> TokenStream {
    let Handler { ident, key_suffix, output_span } = handler;
    let span = ident.span();
    let mut ty = ty.clone();
    ty.set_span(span);
    let args = args.iter().map(|a| Ident::new(a, span));
    let invoke = quote_spanned!(span=> __require_send(#ty::#ident(self, ctx #(, #args)*)));
    let convert = if let Some(output) = output {
        quote_spanned!(*output_span=> #p::IntoOutput::<#output>::into_output(#invoke.await))
    } else {
        quote_spanned!(*output_span=> #p::IntoHandlerResult::into_handler_result(#invoke.await))
    };
    quote! {
        {
            let ctx = &ctx.__method(#key_suffix);
            #convert
        }
    }
}
