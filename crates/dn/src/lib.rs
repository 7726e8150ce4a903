//! A certificate's distinguished name as an RFC 4514 string, in the form Open Banking's
//! `tls_client_auth_subject_dn` uses. One rendering for both ends of mutual TLS: the bank
//! compares what a TPP registered with what its TLS edge renders from the certificate, and the
//! TPP SDK registers what it renders from its own transport certificate.

use std::fmt::Write as _;

use x509_parser::asn1_rs::ToDer;
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

/// `name` (a certificate's subject or issuer): most-specific RDN first, `,` between RDNs, `+`
/// inside a multi-valued RDN, RFC 4514 §2.4 escaping. Attribute types with an RFC 4514 short
/// name (CN, L, ST, O, OU, C, STREET, DC, UID) use it; all others, including
/// organizationIdentifier, use the dotted OID with the value as text, e.g.
/// `CN=software,2.5.4.97=PSDGB-OB-0015800001041REAAY,OU=0015800001041REAAY,O=Acme,C=GB`.
/// Values that are not strings are rendered `#<hex of DER>`.
pub fn rfc4514(name: &X509Name<'_>) -> String {
    let mut out = String::new();
    let rdns: Vec<_> = name.iter_rdn().collect();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, attribute) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            write_attribute(&mut out, attribute);
        }
    }
    out
}

fn write_attribute(out: &mut String, attribute: &AttributeTypeAndValue<'_>) {
    let oid = attribute.attr_type().to_id_string();
    let short = match oid.as_str() {
        "2.5.4.3" => Some("CN"),
        "2.5.4.7" => Some("L"),
        "2.5.4.8" => Some("ST"),
        "2.5.4.10" => Some("O"),
        "2.5.4.11" => Some("OU"),
        "2.5.4.6" => Some("C"),
        "2.5.4.9" => Some("STREET"),
        "0.9.2342.19200300.100.1.25" => Some("DC"),
        "0.9.2342.19200300.100.1.1" => Some("UID"),
        _ => None,
    };
    out.push_str(short.unwrap_or(&oid));
    out.push('=');
    let text = attribute
        .as_str()
        .map(str::to_owned)
        .or_else(|_| attribute.attr_value().as_any_str());
    match text {
        Ok(text) => escape_value(out, &text),
        Err(_) => {
            out.push('#');
            for byte in attribute.attr_value().to_der_vec().unwrap_or_default() {
                let _ = write!(out, "{byte:02x}");
            }
        }
    }
}

/// RFC 4514 §2.4 escaping.
fn escape_value(out: &mut String, value: &str) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '\0' => out.push_str("\\00"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_as_rfc4514_says() {
        let mut s = String::new();
        escape_value(&mut s, " #a,b+c\"d\\e;<f> ");
        assert_eq!(s, "\\ #a\\,b\\+c\\\"d\\\\e\\;\\<f\\>\\ ");
        let mut s = String::new();
        escape_value(&mut s, "#x");
        assert_eq!(s, "\\#x");
    }
}
