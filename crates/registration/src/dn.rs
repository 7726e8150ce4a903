//! Distinguished names as TPPs write them in `tls_client_auth_subject_dn` and as certificates
//! carry them. Two spellings of one name must match: attribute types are compared by OID
//! (`organizationIdentifier` is `2.5.4.97`), case-insensitively, and the order of attributes
//! does not matter.

/// One attribute: normalised type and unescaped value.
pub type Attribute = (String, String);

fn normalise_type(raw: &str) -> String {
    let t = raw.trim().to_ascii_uppercase();
    match t.as_str() {
        "ORGANIZATIONIDENTIFIER" | "OID.2.5.4.97" => "2.5.4.97".to_owned(),
        "COMMONNAME" => "CN".to_owned(),
        "ORGANIZATIONNAME" => "O".to_owned(),
        "ORGANIZATIONALUNITNAME" => "OU".to_owned(),
        "COUNTRYNAME" => "C".to_owned(),
        "2.5.4.3" => "CN".to_owned(),
        "2.5.4.10" => "O".to_owned(),
        "2.5.4.11" => "OU".to_owned(),
        "2.5.4.6" => "C".to_owned(),
        _ => t,
    }
}

/// Parses an RFC 4514 string (`CN=a,OU=b\, c,O=d`). `None` when it is not one.
pub fn parse(dn: &str) -> Option<Vec<Attribute>> {
    let mut out = Vec::new();
    let mut chars = dn.chars().peekable();
    loop {
        let mut name = String::new();
        for c in chars.by_ref() {
            if c == '=' {
                break;
            }
            name.push(c);
        }
        let mut value = String::new();
        let mut closed = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' => value.push(chars.next()?),
                ',' | '+' => {
                    closed = true;
                    break;
                }
                c => value.push(c),
            }
        }
        let name = normalise_type(&name);
        if name.is_empty() || value.trim().is_empty() {
            return None;
        }
        out.push((name, value.trim().to_owned()));
        if !closed {
            break;
        }
    }
    Some(out)
}

/// Whether two DNs name the same subject.
pub fn same(a: &str, b: &str) -> bool {
    match (parse(a), parse(b)) {
        (Some(mut a), Some(mut b)) => {
            a.sort();
            b.sort();
            a == b
        }
        _ => false,
    }
}

/// The first value of an attribute type (normalised name, e.g. `CN`, `OU`, `2.5.4.97`).
pub fn value<'a>(attributes: &'a [Attribute], name: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_subject_match() {
        assert!(same(
            "CN=abc,organizationIdentifier=PSDGB-OB-123,OU=123,O=Acme\\, Ltd,C=GB",
            "CN=abc,2.5.4.97=PSDGB-OB-123,OU=123,O=Acme\\, Ltd,C=GB"
        ));
        assert!(same(
            "cn=abc,ou=123,o=Acme,c=GB",
            "C=GB,O=Acme,OU=123,CN=abc"
        ));
        assert!(!same("CN=abc,OU=123", "CN=abd,OU=123"));
        assert!(!same("CN=abc", "not a dn"));
    }

    #[test]
    fn escaped_commas_stay_in_values() {
        let attrs = parse("O=Acme\\, Ltd,CN=x").unwrap_or_default();
        assert_eq!(value(&attrs, "O"), Some("Acme, Ltd"));
        assert_eq!(value(&attrs, "CN"), Some("x"));
        assert!(parse("CN=").is_none());
        assert!(parse("CN=x\\").is_none());
    }
}
