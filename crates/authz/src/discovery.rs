//! OpenID Provider metadata (OIDC Discovery, RFC 8414, RFC 8705, RFC 9126, JARM) as UK Open
//! Banking expects it. Served without a client certificate.

use serde_json::{Value, json};

use crate::Authz;

impl Authz {
    pub fn discovery(&self) -> Value {
        let c = &self.inner.config;
        let fapi_algs = json!(["PS256", "ES256"]);
        json!({
            "issuer": c.issuer,
            "authorization_endpoint": c.endpoint("/authorize"),
            "token_endpoint": c.endpoint("/token"),
            "jwks_uri": c.endpoint("/jwks"),
            "registration_endpoint": c.endpoint("/register"),
            "pushed_authorization_request_endpoint": c.endpoint("/par"),
            "revocation_endpoint": c.endpoint("/revoke"),
            "scopes_supported": ["openid", "accounts", "payments", "fundsconfirmations"],
            "response_types_supported": ["code id_token", "code"],
            "response_modes_supported": ["fragment", "jwt", "query.jwt", "fragment.jwt"],
            "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
            "subject_types_supported": ["pairwise"],
            "token_endpoint_auth_methods_supported": ["tls_client_auth", "private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": fapi_algs,
            "id_token_signing_alg_values_supported": fapi_algs,
            "request_object_signing_alg_values_supported": fapi_algs,
            "authorization_signing_alg_values_supported": fapi_algs,
            "request_parameter_supported": true,
            "request_uri_parameter_supported": true,
            "require_request_uri_registration": false,
            "require_pushed_authorization_requests": false,
            "tls_client_certificate_bound_access_tokens": true,
            "mtls_endpoint_aliases": {
                "token_endpoint": c.endpoint("/token"),
                "pushed_authorization_request_endpoint": c.endpoint("/par"),
                "revocation_endpoint": c.endpoint("/revoke"),
                "registration_endpoint": c.endpoint("/register"),
            },
            "code_challenge_methods_supported": ["S256"],
            "claims_parameter_supported": true,
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "openbanking_intent_id", "c_hash", "s_hash", "at_hash"],
            "acr_values_supported": ["urn:openbanking:psd2:sca", "urn:openbanking:psd2:ca"],
        })
    }
}
