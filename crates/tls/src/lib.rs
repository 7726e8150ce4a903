//! Bascule's certificates and TLS.
//!
//! This crate owns three things:
//!
//! * the **sandbox certificate authority** ([`CertificateAuthority`]): a long-lived EC P-256
//!   root kept on disk, which issues the listener's server certificate and the TPP transport
//!   (client) certificates in the Open Banking subject form;
//! * the **FAPI-grade rustls configuration** ([`server_config`], [`client_config`],
//!   [`fapi_crypto_provider`]): TLS 1.2 and 1.3 only, TLS 1.2 restricted to the four FAPI 1.0
//!   cipher suites, optional-but-verified client certificates;
//! * the **mTLS listener** ([`serve`]): accepts TCP, performs the TLS handshake, parses the
//!   client certificate once per connection into a [`ClientCertificate`] (RFC 8705 thumbprint,
//!   RFC 4514 subject DN) and hands it to every request on that connection through the
//!   [`ConnectionInfo`] request extension.
//!
//! Deciding *whether* a client certificate is required is not this crate's job: one listener
//! serves browser pages (no client certificate) and APIs (the API layer rejects requests
//! whose [`ConnectionInfo::client_certificate`] is `None`).

mod ca;
mod certificate;
mod config;
mod error;
mod serve;

pub use ca::{CertificateAuthority, ClientSubject, IssuedCertificate};
pub use certificate::ClientCertificate;
pub use certificate::thumbprint_s256;
pub use config::{RevokedCertificates, client_config, fapi_crypto_provider, server_config};
pub use error::TlsError;
pub use serve::{ConnectionInfo, HANDSHAKE_TIMEOUT, serve};
