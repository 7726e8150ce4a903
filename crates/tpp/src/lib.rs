//! Bascule's TPP-side SDK: what a third party provider (a budgeting app, a payment app) uses to
//! talk to **any** UK Open Banking bank, not only one running Bascule. It depends on no Bascule
//! server crate, only on `bascule-jose` for signing.
//!
//! This crate owns:
//! - [`TppFiles`]: loading a TPP's enrolment directory (`tpp.json` plus the PEM certificates
//!   and keys, the software statement and the CA bundle it names), as written by
//!   `bascule directory enrol --out DIR`; see [`TppManifest`] for the layout.
//! - [`TppClient`]: an HTTPS client that presents the TPP's transport certificate (mTLS) and
//!   trusts only the configured CA certificates.
//! - Dynamic client registration per OB DCR v3.3/v3.4 and RFC 7591/7592:
//!   [`RegistrationRequest`] (typed client metadata with sensible defaults), the signed request
//!   JWT, and [`TppClient::register`], [`TppClient::get_registration`],
//!   [`TppClient::update_registration`] and [`TppClient::delete_registration`].
//! - [`oauth`]: the FAPI 1.0 Advanced / Open Banking OAuth client — discovery, signed request
//!   objects with the intent binding, PKCE, PAR, `tls_client_auth` / `private_key_jwt`, the
//!   token and revocation endpoints, hybrid and JARM authorization responses, ID token checks
//!   and resource calls.
//!
//! ```no_run
//! # async fn run() -> Result<(), bascule_tpp::TppError> {
//! use bascule_tpp::{RegistrationRequest, TokenEndpointAuthMethod, TppClient, TppFiles};
//!
//! let files = TppFiles::load("./my-tpp")?;
//! let client = TppClient::new(&files)?;
//! let request = RegistrationRequest::from_files(&files, TokenEndpointAuthMethod::TlsClientAuth);
//! let now = 1_700_000_000; // seconds since the epoch
//! let registration = client
//!     .register("https://bank.example/register", "bankorgid", &request, now)
//!     .await?;
//! println!("client_id {}", registration.client_id);
//! # Ok(())
//! # }
//! ```

mod client;
mod error;
mod files;
pub mod oauth;
mod registration;

pub use client::{APPLICATION_JOSE, INTERACTION_ID, TppClient};
pub use error::TppError;
pub use files::{MANIFEST_FILE, Role, TppFiles, TppManifest};
pub use registration::{
    ApplicationType, GrantType, REQUEST_LIFETIME_SECS, Registration, RegistrationRequest,
    ResponseType, TokenEndpointAuthMethod,
};
