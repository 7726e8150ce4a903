//! The response envelope: `Links` (RW §Links: absolute URLs, `Self` always, the others for
//! pagination), `Meta` (AISP §Using Meta: `{}` unless a resource has pages or a date range),
//! and `{Data, Links, Meta}`.

use axum::http::Uri;
use serde::Serialize;

use crate::DateTime;

/// Where an API's links point: the server's public URL, and the path prefix its handlers name
/// resources under (so `Links::to(api, "/x")` is `{public_url}{link_base}/x`).
pub trait LinkBase {
    /// `https://host[:port]`, no trailing slash.
    fn public_url(&self) -> &str;

    /// The prefix of the paths given to [`Links::to`]; none by default (server-absolute paths).
    fn link_base(&self) -> &str {
        ""
    }

    /// The absolute URL of `path_and_query`, a server-absolute path.
    fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.public_url())
    }
}

/// `Links`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Links {
    #[serde(rename = "Self")]
    pub self_: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
}

impl Links {
    /// Only `Self`: `url`, already absolute.
    pub fn self_only(url: String) -> Self {
        Links {
            self_: url,
            first: None,
            prev: None,
            next: None,
            last: None,
        }
    }

    /// Only `Self`: the resource at `path` (under the API's [`LinkBase::link_base`]).
    pub fn to(api: &(impl LinkBase + ?Sized), path: &str) -> Self {
        Links::self_only(api.url(&format!("{}{path}", api.link_base())))
    }

    /// Only `Self`: the request `uri` as made (its path and query).
    pub fn of_request(api: &(impl LinkBase + ?Sized), uri: &Uri) -> Self {
        let path = uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or_else(|| uri.path());
        Links::self_only(api.url(path))
    }
}

/// `Meta`. Every field optional; empty it is `{}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Meta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_pages: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_available_date_time: Option<DateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_available_date_time: Option<DateTime>,
}

/// The response envelope `{Data, Links, Meta}`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Envelope<T: Serialize> {
    pub data: T,
    pub links: Links,
    pub meta: Meta,
}

impl<T: Serialize> Envelope<T> {
    /// An answer about the resource at `path` (under the API's link base).
    pub fn to(api: &(impl LinkBase + ?Sized), path: &str, data: T) -> Self {
        Envelope {
            data,
            links: Links::to(api, path),
            meta: Meta::default(),
        }
    }

    /// A one-page answer to the request `uri`.
    pub fn single(api: &(impl LinkBase + ?Sized), uri: &Uri, data: T) -> Self {
        Envelope {
            data,
            links: Links::of_request(api, uri),
            meta: Meta::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Api(&'static str);

    impl LinkBase for Api {
        fn public_url(&self) -> &str {
            "https://bank.example:8443"
        }
        fn link_base(&self) -> &str {
            self.0
        }
    }

    #[test]
    fn links_are_absolute_and_only_self_unless_paged() {
        let links = Links::to(&Api("/open-banking/v3.1/pisp"), "/domestic-payments/p-1");
        assert_eq!(
            serde_json::to_string(&links).unwrap(),
            r#"{"Self":"https://bank.example:8443/open-banking/v3.1/pisp/domestic-payments/p-1"}"#
        );
        let uri: Uri = "/open-banking/v3.1/aisp/accounts?page=2".parse().unwrap();
        assert_eq!(
            Links::of_request(&Api(""), &uri).self_,
            "https://bank.example:8443/open-banking/v3.1/aisp/accounts?page=2"
        );
    }

    #[test]
    fn empty_meta_is_an_empty_object() {
        assert_eq!(serde_json::to_string(&Meta::default()).unwrap(), "{}");
        let uri: Uri = "/x".parse().unwrap();
        assert_eq!(
            serde_json::to_string(&Envelope::single(&Api(""), &uri, 1)).unwrap(),
            r#"{"Data":1,"Links":{"Self":"https://bank.example:8443/x"},"Meta":{}}"#
        );
    }
}
