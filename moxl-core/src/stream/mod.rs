//! The stream layer: what the server offers during negotiation ([`StreamFeatures`]).
//!
//! Negotiation itself (STARTTLS, SASL, SASL2/Bind2, resource binding, stream management) is a sans-I/O state
//! machine driven by the client; it is built on these views.

mod error;
mod fast;
mod features;
mod negotiation;
pub mod register;
mod sm;

pub use error::NegotiationError;
pub use features::{feature_ns, Sasl2Offer, StreamFeatures};
pub use negotiation::{Authenticator, NegotiationConfig, Negotiator, Output, Phase, ResumeFrom, Resumption, TlsPolicy};
pub use sm::{h_of, is_counted, AckError, SmEnabled, StreamManagement, SM3};
