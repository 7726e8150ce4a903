//! Organisations, software statements and their roles.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a TPP is authorised for, and so which OAuth scopes its clients may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Account information (scope `accounts`).
    AISP,
    /// Payment initiation (scope `payments`).
    PISP,
    /// Card-based payment instrument issuer: confirmation of funds (scope `fundsconfirmations`).
    CBPII,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::AISP, Role::PISP, Role::CBPII];

    pub fn as_str(&self) -> &'static str {
        match self {
            Role::AISP => "AISP",
            Role::PISP => "PISP",
            Role::CBPII => "CBPII",
        }
    }

    pub fn parse(raw: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(raw.trim()))
    }

    /// The OAuth scope the role grants (RW §Scopes).
    pub fn scope(&self) -> &'static str {
        match self {
            Role::AISP => "accounts",
            Role::PISP => "payments",
            Role::CBPII => "fundsconfirmations",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Active,
    Revoked,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Active => "Active",
            Status::Revoked => "Revoked",
        }
    }

    pub fn parse(raw: &str) -> Option<Status> {
        match raw {
            "Active" => Some(Status::Active),
            "Revoked" => Some(Status::Revoked),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organisation {
    /// 18 characters of base62, as the Open Banking Directory's organisation ids.
    pub id: String,
    pub name: String,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Software {
    /// 22 characters of base62 (`^[0-9a-zA-Z]{1,22}$` in the DCR spec).
    pub id: String,
    pub organisation_id: String,
    pub client_name: String,
    pub description: Option<String>,
    pub roles: Vec<Role>,
    pub redirect_uris: Vec<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub status: Status,
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` base62 characters from 128 random bits (22 characters hold all of them).
pub(crate) fn base62_id(random: u128, len: usize) -> String {
    let mut n = random;
    let mut out = Vec::with_capacity(len);
    for _ in 0..len {
        out.push(BASE62[(n % 62) as usize]);
        n /= 62;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// A redirect URI Open Banking accepts: absolute https with a host.
pub(crate) fn is_https_uri(uri: &str) -> bool {
    uri.strip_prefix("https://")
        .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""))
        .is_some_and(|host| !host.is_empty() && !host.contains(char::is_whitespace))
        && uri.len() <= 256
        && !uri.contains('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_map_to_scopes() {
        assert_eq!(Role::parse("aisp"), Some(Role::AISP));
        assert_eq!(Role::parse("PISP").map(|r| r.scope()), Some("payments"));
        assert_eq!(Role::parse("ASPSP"), None);
    }

    #[test]
    fn base62_ids_have_the_directory_shape() {
        let id = base62_id(u128::MAX, 22);
        assert_eq!(id.len(), 22);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(base62_id(0, 18), "0".repeat(18));
    }

    #[test]
    fn only_absolute_https_redirect_uris_pass() {
        assert!(is_https_uri("https://tpp.example/callback"));
        assert!(is_https_uri("https://tpp.example"));
        for bad in [
            "http://tpp.example/cb",
            "https:///cb",
            "tpp.example/cb",
            "https://a b/c",
            "https://tpp.example/cb#frag",
        ] {
            assert!(!is_https_uri(bad), "{bad}");
        }
    }
}
