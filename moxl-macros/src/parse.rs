//! Parsing: the attribute arguments and the annotated item, read into plain structs.
//!
//! Only the *syntax* of the arguments is checked here (known keys, no duplicates, string-literal values);
//! everything about their contents and about the item is checked in [`crate::validate`].

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::ext::IdentExt;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, FnArg, Ident, ImplItem, Item, Lit, LitStr, Meta, ReturnType, Signature, Token, Type};

use crate::errors::Errors;

/// One `key = "value"` argument.
pub(crate) struct Arg {
    /// The key as written (for spans).
    pub(crate) key: Ident,
    /// The value, or `None` if it was not a string literal (already reported).
    pub(crate) value: Option<LitStr>,
}

/// The arguments of `#[payload(...)]`.
#[derive(Default)]
pub(crate) struct PayloadArgs {
    pub(crate) name: Option<Arg>,
    pub(crate) ns: Option<Arg>,
    pub(crate) node: Option<Arg>,
    pub(crate) key: Option<Arg>,
    pub(crate) at: Option<Arg>,
    pub(crate) krate: Option<Arg>,
}

/// The arguments of `#[action(...)]`.
#[derive(Default)]
pub(crate) struct ActionArgs {
    pub(crate) group: Option<Arg>,
    pub(crate) krate: Option<Arg>,
}

/// The keys `#[payload]` accepts.
const PAYLOAD_KEYS: &[&str] = &["name", "ns", "node", "key", "at", "crate"];
/// The keys `#[action]` accepts.
const ACTION_KEYS: &[&str] = &["group", "crate"];

impl PayloadArgs {
    /// Reads `name = "...", ns = "...", ...`.
    pub(crate) fn parse(attr: TokenStream, errors: &mut Errors) -> syn::Result<PayloadArgs> {
        let mut out = PayloadArgs::default();
        for arg in parse_args(attr, "payload", PAYLOAD_KEYS, errors)? {
            let slot = match arg.key.unraw().to_string().as_str() {
                "name" => &mut out.name,
                "ns" => &mut out.ns,
                "node" => &mut out.node,
                "key" => &mut out.key,
                "at" => &mut out.at,
                _ => &mut out.krate,
            };
            *slot = Some(arg);
        }
        Ok(out)
    }
}

impl ActionArgs {
    /// Reads `group = "...", crate = "..."` (both optional).
    pub(crate) fn parse(attr: TokenStream, errors: &mut Errors) -> syn::Result<ActionArgs> {
        let mut out = ActionArgs::default();
        for arg in parse_args(attr, "action", ACTION_KEYS, errors)? {
            let slot = match arg.key.unraw().to_string().as_str() {
                "group" => &mut out.group,
                _ => &mut out.krate,
            };
            *slot = Some(arg);
        }
        Ok(out)
    }
}

/// Reads a comma-separated list of `key = "value"`, keeping the first of each known key. Unknown keys,
/// duplicates and values that are not string literals are recorded in `errors`; a list that is not even
/// `key = value, ...` is a fatal error.
fn parse_args(attr: TokenStream, macro_name: &str, allowed: &[&str], errors: &mut Errors) -> syn::Result<Vec<Arg>> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(attr).map_err(|e| {
        let example = match macro_name {
            "payload" => "#[payload(name = \"...\", ns = \"...\")]",
            _ => "#[action(group = \"...\")]",
        };
        syn::Error::new(e.span(), format!("{e}: #[{macro_name}] takes `key = \"value\"` arguments, like `{example}`"))
    })?;
    let mut out: Vec<Arg> = Vec::new();
    for meta in metas {
        let (path, value) = match meta {
            Meta::NameValue(nv) => (nv.path, nv.value),
            Meta::Path(path) => {
                errors.spanned(&path, format!("expected `{} = \"...\"`", path.to_token_stream()));
                continue;
            }
            Meta::List(list) => {
                errors.spanned(&list, format!("expected `{} = \"...\"`", list.path.to_token_stream()));
                continue;
            }
        };
        let Some(key) = path.get_ident().cloned().filter(|k| allowed.contains(&k.unraw().to_string().as_str())) else {
            errors.spanned(
                &path,
                format!(
                    "unknown #[{macro_name}] argument `{}`; expected one of: {}",
                    path.to_token_stream(),
                    allowed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                ),
            );
            continue;
        };
        if out.iter().any(|a| a.key.unraw() == key.unraw()) {
            errors.at(key.span(), format!("duplicate #[{macro_name}] argument `{key}`"));
            continue;
        }
        let value = match value {
            Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Some(s),
            other => {
                errors.spanned(&other, format!("`{key}` must be a string literal: `{key} = \"...\"`"));
                None
            }
        };
        out.push(Arg { key, value });
    }
    Ok(out)
}

/// Describes an item for a "goes on ..." error: the tokens to underline (keyword and name) and what it is.
fn describe(item: &Item) -> (TokenStream, &'static str) {
    match item {
        Item::Struct(i) => (tokens2(&i.struct_token, &i.ident), "a struct"),
        Item::Enum(i) => (tokens2(&i.enum_token, &i.ident), "an enum"),
        Item::Union(i) => (tokens2(&i.union_token, &i.ident), "a union"),
        Item::Fn(i) => (tokens2(&i.sig.fn_token, &i.sig.ident), "a function"),
        Item::Impl(i) => (tokens2(&i.impl_token, &i.self_ty), "an impl block"),
        Item::Trait(i) => (tokens2(&i.trait_token, &i.ident), "a trait"),
        Item::Mod(i) => (tokens2(&i.mod_token, &i.ident), "a module"),
        Item::Type(i) => (tokens2(&i.type_token, &i.ident), "a type alias"),
        Item::Const(i) => (tokens2(&i.const_token, &i.ident), "a constant"),
        Item::Static(i) => (tokens2(&i.static_token, &i.ident), "a static"),
        Item::Use(i) => (i.to_token_stream(), "a `use` declaration"),
        other => (other.to_token_stream(), "this item"),
    }
}

/// Two token trees side by side, for spanning an error over both.
fn tokens2(a: &impl ToTokens, b: &impl ToTokens) -> TokenStream {
    quote!(#a #b)
}

/// How a method takes `self`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Receiver {
    /// An associated function: no `self`.
    None,
    /// `&self` (or `self: &Self`).
    Ref,
    /// `&mut self` (or `self: &mut Self`).
    RefMut,
    /// `self` or `mut self`: by value.
    Value,
    /// `self: Box<Self>`, `self: Pin<&mut Self>`, ...
    Other,
}

/// A method of the annotated impl block, as the checks need it.
pub(crate) struct Method {
    /// Its name (raw identifiers unescaped in [`Method::name`]).
    pub(crate) ident: Ident,
    /// Its name as a string, without any `r#`.
    pub(crate) name: String,
    /// The `async` keyword, if present.
    pub(crate) asyncness: Option<Token![async]>,
    /// How it takes `self`.
    pub(crate) receiver: Receiver,
    /// Tokens of the receiver (to underline), if it has one.
    pub(crate) receiver_tokens: Option<TokenStream>,
    /// The number of arguments after the receiver.
    pub(crate) arity: usize,
    /// The span of the parentheses and everything in them.
    pub(crate) params_span: Span,
    /// Where an error about the return value should point: the return type, or the name if there is none.
    pub(crate) output_span: Span,
}

impl Method {
    fn from_sig(sig: &Signature) -> Method {
        let (receiver, receiver_tokens) = match sig.inputs.first() {
            Some(FnArg::Receiver(r)) => {
                let kind = match (&r.reference, &r.mutability, r.colon_token.is_some(), &*r.ty) {
                    (Some(_), None, _, _) => Receiver::Ref,
                    (Some(_), Some(_), _, _) => Receiver::RefMut,
                    (None, _, true, Type::Reference(t)) if t.mutability.is_some() => Receiver::RefMut,
                    (None, _, true, Type::Reference(_)) => Receiver::Ref,
                    (None, _, true, _) => Receiver::Other,
                    (None, _, false, _) => Receiver::Value,
                };
                (kind, Some(r.to_token_stream()))
            }
            _ => (Receiver::None, None),
        };
        let arity = sig.inputs.len().saturating_sub(usize::from(receiver != Receiver::None));
        let output_span = match &sig.output {
            ReturnType::Type(_, ty) => syn::spanned::Spanned::span(ty),
            ReturnType::Default => sig.ident.span(),
        };
        Method {
            ident: sig.ident.clone(),
            name: sig.ident.unraw().to_string(),
            asyncness: sig.asyncness,
            receiver,
            receiver_tokens,
            arity,
            params_span: sig.paren_token.span.join(),
            output_span,
        }
    }
}

/// An inherent impl block under `#[action]`.
pub(crate) struct ActionImpl {
    /// The block as written, less its associated types (an inherent impl cannot hold them: they move into the
    /// `Action` implementation).
    pub(crate) item: syn::ItemImpl,
    /// Its methods, in order.
    pub(crate) methods: Vec<Method>,
    /// The associated types it declared (`type Output = T;`), in order.
    pub(crate) types: Vec<syn::ImplItemType>,
}

/// Reads the item under `#[action]`: anything but an impl block (or a trait impl) is an error, reported here
/// because nothing else can be checked without one.
pub(crate) fn action_item(item: TokenStream) -> syn::Result<ActionImpl> {
    let item: Item = syn::parse2(item)?;
    let item = match item {
        Item::Impl(i) => i,
        other => {
            let (tokens, what) = describe(&other);
            return Err(syn::Error::new_spanned(
                tokens,
                format!("#[action] goes on an inherent impl block, `impl Type {{ ... }}`, not on {what}"),
            ));
        }
    };
    if let Some((bang, path, for_token)) = &item.trait_ {
        return Err(syn::Error::new_spanned(
            quote!(#bang #path #for_token),
            "#[action] goes on an inherent impl block, `impl Type { ... }`, not on a trait impl \
             (it implements `Action` for the type itself)",
        ));
    }
    let mut item = item;
    let methods = item
        .items
        .iter()
        .filter_map(|i| match i {
            ImplItem::Fn(f) => Some(Method::from_sig(&f.sig)),
            _ => None,
        })
        .collect();
    let mut types = Vec::new();
    item.items.retain(|i| match i {
        ImplItem::Type(t) => {
            types.push(t.clone());
            false
        }
        _ => true,
    });
    Ok(ActionImpl { item, methods, types })
}

/// Reads the item under `#[payload]`: it must be a struct.
pub(crate) fn payload_item(item: TokenStream) -> syn::Result<syn::ItemStruct> {
    match syn::parse2::<Item>(item)? {
        Item::Struct(s) => Ok(s),
        other => {
            let (tokens, what) = describe(&other);
            Err(syn::Error::new_spanned(
                tokens,
                format!("#[payload] goes on a struct that implements `Payload` and `Default`, not on {what}"),
            ))
        }
    }
}
