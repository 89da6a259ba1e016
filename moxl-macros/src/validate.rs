//! Checks: the parsed arguments and item, turned into the models that [`crate::expand`] turns into tokens.
//!
//! Every problem is recorded in an [`Errors`] with a span on the tokens at fault, and checking goes on, so that
//! one compilation reports all of them.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Ident, ItemStruct, LitStr, Path, Type};

use crate::case;
use crate::conditions;
use crate::errors::Errors;
use crate::parse::{ActionArgs, ActionImpl, Arg, Method, PayloadArgs, Receiver};
use crate::root::runtime_path;

/// A checked `#[payload]`: everything its registration needs.
pub(crate) struct PayloadModel {
    /// The runtime path (`::moxl`).
    pub(crate) root: Path,
    /// The struct's name.
    pub(crate) ident: Ident,
    /// The element's local name.
    pub(crate) name: LitStr,
    /// The element's namespace.
    pub(crate) ns: LitStr,
    /// The pubsub node, if any.
    pub(crate) node: Option<LitStr>,
    /// The Packet key.
    pub(crate) key: LitStr,
    /// `at = "..."`: the position variant's name (`Stanza`, `Child`, `Any`), if given.
    pub(crate) at: Option<Ident>,
}

/// A handler method of an Action.
pub(crate) struct Handler {
    /// The method's name.
    pub(crate) ident: Ident,
    /// The last part of its Packet key (`erroritemnotfound`).
    pub(crate) key_suffix: String,
    /// Where an error about its return type should point.
    pub(crate) output_span: Span,
}

/// A checked `#[action]` impl block: everything the `Action` implementation and registration need.
pub(crate) struct ActionModel {
    /// The runtime path (`::moxl`).
    pub(crate) root: Path,
    /// The type's name.
    pub(crate) ty: Ident,
    /// `group = "..."`, if given.
    pub(crate) group: Option<LitStr>,
    /// The `request` method's name (for spans).
    pub(crate) request: Ident,
    /// `answers`, if written: which stanzas from the addressee answer the request without its id.
    pub(crate) answers: Option<Ident>,
    /// `handle`.
    pub(crate) handle: Handler,
    /// The `error_<condition>` methods, with the wire name of their condition, in the order written.
    pub(crate) conditions: Vec<(&'static str, Handler)>,
    /// `error`, if written.
    pub(crate) fallback: Option<Handler>,
    /// `timeout`, if written.
    pub(crate) timeout: Option<Handler>,
    /// `type Output = ...;`, if written (else `()`).
    pub(crate) output: Option<Type>,
}

/// The value of a string argument, if it was given as a string literal; reports it if it is empty.
fn non_empty<'a>(arg: Option<&'a Arg>, errors: &mut Errors) -> Option<&'a LitStr> {
    let arg = arg?;
    let lit = arg.value.as_ref()?;
    if lit.value().is_empty() {
        errors.at(lit.span(), format!("`{}` must not be empty", arg.key));
        return None;
    }
    Some(lit)
}

/// A required string argument: reports it at the attribute if it is missing.
fn required<'a>(arg: Option<&'a Arg>, what: &str, errors: &mut Errors) -> Option<&'a LitStr> {
    if arg.is_none() {
        errors.at(Span::call_site(), format!("#[payload] needs {what}"));
    }
    non_empty(arg, errors)
}

/// Checks a Packet key part (`key` or `group`).
fn check_key(lit: &LitStr, what: &str, errors: &mut Errors) -> bool {
    let value = lit.value();
    if value.contains('.') {
        errors.at(lit.span(), format!("`{what}` must not contain `.`: use lowercase ASCII letters, digits and `_`"));
        false
    } else if !case::is_key(&value) {
        errors.at(lit.span(), format!("`{what}` must be lowercase ASCII letters, digits and `_` (`[a-z0-9_]+`)"));
        false
    } else {
        true
    }
}

/// The runtime path: the `crate = "..."` argument if given, else discovered.
fn root(krate: Option<&Arg>, errors: &mut Errors) -> Path {
    let explicit = krate.and_then(|a| a.value.as_ref());
    runtime_path(explicit, errors)
}

/// Reports generic parameters or a `where` clause (a registration names one concrete type); returns whether
/// there were any.
fn check_not_generic(generics: &syn::Generics, what: &str, errors: &mut Errors) -> bool {
    let message = format!("#[{what}] does not support generics: it registers one concrete type");
    if !generics.params.is_empty() {
        errors.spanned(generics, message);
        true
    } else if let Some(where_clause) = &generics.where_clause {
        errors.spanned(where_clause, message);
        true
    } else {
        false
    }
}

/// Checks `#[payload(...)]` and its struct.
pub(crate) fn payload(args: &PayloadArgs, item: &ItemStruct, errors: &mut Errors) -> Option<PayloadModel> {
    let name = required(args.name.as_ref(), "`name = \"...\"`, the local name of the element to handle", errors);
    let ns = required(args.ns.as_ref(), "`ns = \"...\"`, the namespace of the element to handle", errors);
    let node = non_empty(args.node.as_ref(), errors);
    let key = non_empty(args.key.as_ref(), errors);
    let key_ok = key.is_none_or(|k| check_key(k, "key", errors));
    let at = non_empty(args.at.as_ref(), errors).and_then(|lit| {
        let variant = match lit.value().as_str() {
            "stanza" => "Stanza",
            "child" => "Child",
            "any" => "Any",
            _ => {
                errors.at(
                    lit.span(),
                    "`at` must be \"stanza\" (the top-level stanza only), \"child\" (a direct child of the stanza) \
                     or \"any\" (the stanza, a child or a grandchild)",
                );
                return None;
            }
        };
        Some(Ident::new(variant, lit.span()))
    });
    let root = root(args.krate.as_ref(), errors);
    check_not_generic(&item.generics, "payload", errors);
    let key = match key {
        Some(k) => k.clone(),
        None => LitStr::new(&case::type_key(&item.ident.unraw().to_string()), item.ident.span()),
    };
    Some(PayloadModel {
        root,
        ident: item.ident.clone(),
        name: name?.clone(),
        ns: ns?.clone(),
        node: node.cloned(),
        key: key_ok.then_some(key)?,
        at,
    })
}

/// The expected signature of `request`, for messages.
const REQUEST_SIG: &str = "fn request(&self) -> ElementBuilder";

/// The expected signature of `answers`, for messages.
const ANSWERS_SIG: &str = "fn answers(&self, stanza: &Element) -> bool";
/// The expected signature of `handle`, for messages.
const HANDLE_SIG: &str = "async fn handle(&mut self, ctx: &Context, stanza: &Element) -> Result<Self::Output>";
/// The expected signature of `timeout`, for messages.
const TIMEOUT_SIG: &str = "async fn timeout(&mut self, ctx: &Context)";

/// The expected signature of `error` or an `error_<condition>` method, for messages.
fn error_sig(name: &str) -> String {
    format!("async fn {name}(&mut self, ctx: &Context, error: &StanzaError, stanza: &Element)")
}

/// Checks a handler method (`handle`, `error_*`, `error`, `timeout`): `async`, `&mut self`, `arity` arguments.
fn check_handler(method: &Method, sig: &str, arity: usize, errors: &mut Errors) -> Handler {
    let name = &method.name;
    if method.asyncness.is_none() {
        errors.at(method.ident.span(), format!("`{name}` must be `async`: `{sig}`"));
    }
    check_receiver(method, true, sig, errors);
    if method.receiver != Receiver::None && method.arity != arity {
        let arguments = if arity == 1 { "argument" } else { "arguments" };
        errors.at(method.params_span, format!("`{name}` takes {arity} {arguments} after `&mut self`: `{sig}`"));
    }
    Handler { ident: method.ident.clone(), key_suffix: case::method_key_suffix(name), output_span: method.output_span }
}

/// Checks how a method takes `self`: by reference (`&mut self` for handlers, `&self` for `request`).
fn check_receiver(method: &Method, handler: bool, sig: &str, errors: &mut Errors) {
    let name = &method.name;
    let wanted = if handler { "&mut self" } else { "&self" };
    match (method.receiver, &method.receiver_tokens) {
        (Receiver::Value, Some(tokens)) => {
            errors.spanned(tokens, format!("`{name}` takes `self` by value; it must take `{wanted}`: `{sig}`"));
        }
        (Receiver::Other, Some(tokens)) => errors.spanned(tokens, format!("`{name}` must take `{wanted}`: `{sig}`")),
        (Receiver::RefMut, Some(tokens)) if !handler => {
            errors.spanned(tokens, format!("`{name}` must take `{wanted}`: `{sig}`"));
        }
        (Receiver::None, _) | (_, None) => {
            errors.at(method.params_span, format!("`{name}` must take `{wanted}`: `{sig}`"))
        }
        _ => {}
    }
}

/// The type of `impl Type { ... }`, if it is a plain name; reports it otherwise (generic arguments only if the
/// impl's own generics have not been reported already).
fn self_type(ty: &Type, generics_reported: bool, errors: &mut Errors) -> Option<Ident> {
    if let Type::Path(p) = ty {
        if let (None, None, Some(segment), 1) =
            (&p.qself, &p.path.leading_colon, p.path.segments.first(), p.path.segments.len())
        {
            if segment.arguments.is_empty() {
                return Some(segment.ident.clone());
            }
            if !generics_reported {
                errors
                    .spanned(&segment.arguments, "#[action] does not support generics: it registers one concrete type");
            }
            return None;
        }
    }
    errors.spanned(
        ty,
        "#[action] needs the type's own name here: `impl Type { ... }`, in the module that declares `Type`",
    );
    None
}

/// Checks `#[action(...)]` and its impl block.
pub(crate) fn action(args: &ActionArgs, block: &ActionImpl, errors: &mut Errors) -> Option<ActionModel> {
    let group = non_empty(args.group.as_ref(), errors);
    let group_ok = group.is_none_or(|g| check_key(g, "group", errors));
    let root = root(args.krate.as_ref(), errors);
    let generic = check_not_generic(&block.item.generics, "action", errors);
    let ty = self_type(&block.item.self_ty, generic, errors);

    let mut request = None;
    let mut answers = None;
    let mut handle = None;
    let mut condition_handlers = Vec::new();
    let mut fallback = None;
    let mut timeout = None;
    for method in &block.methods {
        match method.name.as_str() {
            "request" => {
                if let Some(async_token) = &method.asyncness {
                    errors.at(
                        async_token.span(),
                        format!("`request` must not be `async`: it only builds the stanza: `{REQUEST_SIG}`"),
                    );
                }
                check_receiver(method, false, REQUEST_SIG, errors);
                if method.receiver != Receiver::None && method.arity != 0 {
                    errors
                        .at(method.params_span, format!("`request` takes no arguments after `&self`: `{REQUEST_SIG}`"));
                }
                request = Some(method.ident.clone());
            }
            "answers" => {
                if let Some(async_token) = &method.asyncness {
                    errors.at(async_token.span(), format!("`answers` must not be `async`: `{ANSWERS_SIG}`"));
                }
                check_receiver(method, false, ANSWERS_SIG, errors);
                if method.receiver != Receiver::None && method.arity != 1 {
                    errors.at(method.params_span, format!("`answers` takes the stanza after `&self`: `{ANSWERS_SIG}`"));
                }
                answers = Some(method.ident.clone());
            }
            "handle" => handle = Some(check_handler(method, HANDLE_SIG, 2, errors)),
            "error" => fallback = Some(check_handler(method, &error_sig("error"), 3, errors)),
            "timeout" => timeout = Some(check_handler(method, TIMEOUT_SIG, 1, errors)),
            name => {
                let Some(suffix) = name.strip_prefix("error_") else { continue };
                match conditions::from_snake(suffix) {
                    Some(wire) => condition_handlers.push((wire, check_handler(method, &error_sig(name), 3, errors))),
                    None => errors.at(method.ident.span(), unknown_condition(name, suffix)),
                }
            }
        }
    }
    let mut output = None;
    for t in &block.types {
        if t.ident != "Output" {
            errors.at(
                t.ident.span(),
                format!(
                    "an #[action] block declares only `type Output = ...;` (the Action's result), not `type {}`",
                    t.ident
                ),
            );
        } else if !t.generics.params.is_empty() || t.generics.where_clause.is_some() {
            errors.spanned(&t.generics, "`type Output` takes no generics");
        } else if output.is_some() {
            errors.at(t.ident.span(), "duplicate `type Output`");
        } else {
            output = Some(t.ty.clone());
        }
    }
    if request.is_none() {
        errors
            .spanned(&block.item.self_ty, format!("#[action] impl block has no `request` method: add `{REQUEST_SIG}`"));
    }
    if handle.is_none() {
        errors.spanned(&block.item.self_ty, format!("#[action] impl block has no `handle` method: add `{HANDLE_SIG}`"));
    }
    Some(ActionModel {
        root,
        ty: ty?,
        group: group_ok.then(|| group.cloned())?,
        request: request?,
        answers,
        handle: handle?,
        conditions: condition_handlers,
        fallback,
        timeout,
        output,
    })
}

/// The message for `error_<suffix>` where `suffix` is no defined condition: the closest one, or all of them.
fn unknown_condition(name: &str, suffix: &str) -> String {
    let head = format!("`{name}` does not name a stanza error condition (RFC 6120 §8.3.3)");
    match conditions::closest_snake(suffix) {
        Some(best) => format!("{head}; did you mean `error_{best}`?"),
        None => {
            let all: Vec<String> =
                conditions::STANZA_CONDITIONS.iter().map(|c| format!("`{}`", case::kebab_to_snake(c))).collect();
            format!(
                "{head}; write `error_` followed by one of: {} (or name the method differently if it is not a handler)",
                all.join(", ")
            )
        }
    }
}
