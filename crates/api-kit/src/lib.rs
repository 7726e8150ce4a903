//! The Open Banking API kit: what the Account (AIS), Payment (PIS) and Confirmation of Funds
//! (CBPII) APIs speak the same way, written once so each API crate keeps only its own
//! resources, and a new wire version (v4.0) is a mapping beside the old one.
//!
//! - [`open_banking`]: the request-header rules and OB error format around every route;
//! - [`body`]: strict request bodies — unknown fields refused by the wire type
//!   (`#[serde(deny_unknown_fields)]`), each problem a typed OB error with its JSON path;
//! - [`DateTime`] and [`parse_body_datetime`] (RW §Date Formats);
//! - [`Links`], [`Meta`], [`Envelope`] (RW §Links, §Meta), absolute through [`LinkBase`];
//! - [`Amount`], [`CashAccount`]: the amount and account-identification blocks;
//! - [`ConsentEndpoints`], [`consent_routes`]: POST / GET / DELETE of a TPP's consents;
//! - [`core_error`]: core-banking failures as the APIs report them;
//! - [`summary`]: what a consent asks of the customer, in words a person reads;
//! - [`v3_1_11`]: consent-status wire codes of v3.1.11.

pub mod body;
mod consents;
mod core_banking;
mod datetime;
pub mod jws;
mod links;
mod router;
pub mod summary;
pub mod v3_1_11;
mod values;

pub use consents::{ConsentEndpoints, consent_routes};
pub use core_banking::core_error;
pub use datetime::{DateTime, parse_body_datetime};
pub use links::{Envelope, LinkBase, Links, Meta};
pub use router::open_banking;
pub use values::{Amount, CashAccount, SORT_CODE_ACCOUNT_NUMBER};
