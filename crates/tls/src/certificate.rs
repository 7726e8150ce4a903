use aws_lc_rs::digest;
use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::TlsError;

/// A client certificate as presented in the TLS handshake, parsed once per connection.
#[derive(Debug)]
pub struct ClientCertificate {
    /// Leaf first, as presented.
    pub chain: Vec<CertificateDer<'static>>,
    /// RFC 8705 `x5t#S256`: base64url (no padding) of SHA-256 over the leaf's DER.
    pub thumbprint_s256: String,
    /// Subject DN as an RFC 4514 string, the form OB's `tls_client_auth_subject_dn` uses:
    /// most-specific RDN first, `,` between RDNs, `+` inside a multi-valued RDN, RFC 4514
    /// escaping. Attribute types with an RFC 4514 short name (CN, L, ST, O, OU, C, STREET, DC,
    /// UID) use it; all others, including organizationIdentifier, use the dotted OID with the
    /// value as text, e.g.
    /// `CN=software,2.5.4.97=PSDGB-OB-0015800001041REAAY,OU=0015800001041REAAY,O=Acme,C=GB`.
    /// Values that are not strings are rendered `#<hex of DER>`.
    pub subject_dn: String,
    /// The leaf's notAfter.
    pub not_after: OffsetDateTime,
}

impl ClientCertificate {
    /// Parses the leaf of `chain` (leaf first). Does not verify the chain: rustls did that
    /// during the handshake.
    pub fn from_chain(chain: Vec<CertificateDer<'static>>) -> Result<Self, TlsError> {
        let Some(leaf) = chain.first() else {
            return Err(TlsError::InvalidCertificate(
                "empty certificate chain".into(),
            ));
        };
        let (_, parsed) = X509Certificate::from_der(leaf)
            .map_err(|e| TlsError::InvalidCertificate(e.to_string()))?;
        let subject_dn = bascule_dn::rfc4514(parsed.subject());
        let not_after = parsed.validity().not_after.to_datetime();
        let thumbprint_s256 = thumbprint_s256(leaf);
        Ok(Self {
            chain,
            thumbprint_s256,
            subject_dn,
            not_after,
        })
    }

    /// The leaf certificate.
    pub fn leaf(&self) -> Option<&CertificateDer<'static>> {
        self.chain.first()
    }
}

/// RFC 8705 `x5t#S256` of a DER certificate.
/// RFC 8705 `x5t#S256` of a DER certificate: base64url (no padding) of its SHA-256.
pub fn thumbprint_s256(der: &[u8]) -> String {
    base64url_no_pad(digest::digest(&digest::SHA256, der).as_ref())
}

fn base64url_no_pad(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b0 = u32::from(chunk[0]);
        let b1 = u32::from(chunk.get(1).copied().unwrap_or(0));
        let b2 = u32::from(chunk.get(2).copied().unwrap_or(0));
        let n = (b0 << 16) | (b1 << 8) | b2;
        // n bytes of input produce n + 1 significant sextets.
        for i in 0..=chunk.len() {
            let sextet = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(ALPHABET[sextet as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url_no_pad(input.as_bytes()), expected);
        }
        assert_eq!(base64url_no_pad(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn thumbprint_is_43_chars() {
        // 32 bytes -> ceil(256 / 6) = 43 characters, no padding.
        let t = thumbprint_s256(b"anything");
        assert_eq!(t.len(), 43);
        assert!(!t.contains('='));
    }
}
