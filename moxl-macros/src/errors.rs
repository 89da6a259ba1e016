//! An accumulator of `syn::Error`s, so that one expansion reports every problem at once.

use proc_macro2::Span;
use std::fmt::Display;

/// Errors collected while parsing and validating one macro invocation.
#[derive(Default)]
pub(crate) struct Errors {
    inner: Option<syn::Error>,
}

impl Errors {
    /// Records an error at `span`.
    pub(crate) fn at(&mut self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    /// Records an error spanning `tokens` (from their first to their last token).
    pub(crate) fn spanned(&mut self, tokens: impl quote::ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Records an error (which may itself hold several).
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.inner {
            Some(existing) => existing.combine(error),
            None => self.inner = Some(error),
        }
    }

    /// `Err` with everything recorded, or `Ok(value)` if nothing was.
    pub(crate) fn finish<T>(self, value: T) -> syn::Result<T> {
        match self.inner {
            Some(error) => Err(error),
            None => Ok(value),
        }
    }
}
