//! Dynamic client registration (OB DCR v3.3/v3.4, RFC 7591/7592): the request metadata, the
//! signed request JWT and the bank's answer.

use bascule_jose::SigningKey;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Role, TppError, TppFiles};

/// Lifetime of a registration request JWT: `exp = iat + 300`.
pub const REQUEST_LIFETIME_SECS: i64 = 300;

/// How the client will authenticate at the bank's token endpoint. Only these two are FAPI
/// compliant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuthMethod {
    /// mTLS with the transport certificate (RFC 8705); needs `tls_client_auth_subject_dn`.
    TlsClientAuth,
    /// A client assertion signed with the signing key; needs
    /// `token_endpoint_auth_signing_alg`.
    PrivateKeyJwt,
}

/// OAuth grant types OB DCR allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GrantType {
    #[serde(rename = "client_credentials")]
    ClientCredentials,
    #[serde(rename = "authorization_code")]
    AuthorizationCode,
    #[serde(rename = "refresh_token")]
    RefreshToken,
    #[serde(rename = "urn:openid:params:grant-type:ciba")]
    Ciba,
    #[serde(rename = "urn:ietf:params:oauth:grant-type:jwt-bearer")]
    JwtBearer,
}

/// OAuth response types OB DCR allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResponseType {
    /// Hybrid flow, `code id_token` (the OB default).
    #[serde(rename = "code id_token")]
    CodeIdToken,
    /// Authorization code flow (with JARM under FAPI 1.0 Advanced).
    #[serde(rename = "code")]
    Code,
}

impl ResponseType {
    /// The wire value: `code id_token` or `code`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseType::CodeIdToken => "code id_token",
            ResponseType::Code => "code",
        }
    }
}

/// `application_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationType {
    Web,
    /// `native` in DCR v3.4 (v3.3 said `mobile`).
    Native,
}

/// Client metadata for a registration request (`OBRegistrationProperties1`), without the JWT
/// claims (`iss`, `aud`, `iat`, `exp`, `jti`) which [`RegistrationRequest::claims`] adds.
/// Serialises to the spec's field names; `None` fields are omitted. `extra` carries any other
/// metadata (CIBA fields, a bank's own) and is flattened into the claims.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegistrationRequest {
    pub redirect_uris: Vec<String>,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    pub grant_types: Vec<GrantType>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_types: Vec<ResponseType>,
    /// Space-separated, e.g. `openid accounts payments`.
    pub scope: String,
    pub application_type: ApplicationType,
    /// `PS256` or `ES256` (the spec also lists RS256, which FAPI forbids).
    pub id_token_signed_response_alg: String,
    pub request_object_signing_alg: String,
    /// Required with [`TokenEndpointAuthMethod::PrivateKeyJwt`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg: Option<String>,
    /// Required with [`TokenEndpointAuthMethod::TlsClientAuth`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_subject_dn: Option<String>,
    pub software_id: String,
    pub software_statement: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RegistrationRequest {
    /// Sensible defaults for an enrolled TPP: its redirect URIs, software id and SSA; scope
    /// `openid` plus `accounts`/`payments`/`fundsconfirmations` for its AISP/PISP/CBPII roles;
    /// grant types `client_credentials authorization_code refresh_token`; response types
    /// `code id_token` and `code`; application type `web`; every algorithm the signing key's.
    /// With `tls_client_auth`, `tls_client_auth_subject_dn` is the transport certificate's
    /// subject; with `private_key_jwt`, `token_endpoint_auth_signing_alg` is the key's algorithm.
    pub fn from_files(files: &TppFiles, method: TokenEndpointAuthMethod) -> Self {
        let alg = files.signing_key().algorithm().as_str().to_owned();
        let mut scope = String::from("openid");
        for role in [Role::Aisp, Role::Pisp, Role::Cbpii] {
            if files.roles().contains(&role) {
                scope.push(' ');
                scope.push_str(role.scope());
            }
        }
        let (token_endpoint_auth_signing_alg, tls_client_auth_subject_dn) = match method {
            TokenEndpointAuthMethod::TlsClientAuth => {
                (None, Some(files.transport_subject_dn().to_owned()))
            }
            TokenEndpointAuthMethod::PrivateKeyJwt => (Some(alg.clone()), None),
        };
        Self {
            redirect_uris: files.redirect_uris().to_vec(),
            token_endpoint_auth_method: method,
            grant_types: vec![
                GrantType::ClientCredentials,
                GrantType::AuthorizationCode,
                GrantType::RefreshToken,
            ],
            response_types: vec![ResponseType::CodeIdToken, ResponseType::Code],
            scope,
            application_type: ApplicationType::Web,
            id_token_signed_response_alg: alg.clone(),
            request_object_signing_alg: alg,
            token_endpoint_auth_signing_alg,
            tls_client_auth_subject_dn,
            software_id: files.software_id().to_owned(),
            software_statement: files.software_statement().to_owned(),
            extra: Map::new(),
        }
    }

    /// The request JWT's claims: this metadata, then `iss` (the software id), `aud`,
    /// `iat` (`now_unix`), `exp` (`now_unix + 300`) and a fresh UUID v4 `jti` (these five win
    /// over any same-named key in `extra`).
    pub fn claims(&self, audience: &str, now_unix: i64) -> Map<String, Value> {
        let mut claims = match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            // A struct of strings, arrays and a map always serialises to an object.
            _ => Map::new(),
        };
        claims.insert("iss".into(), Value::String(self.software_id.clone()));
        claims.insert("aud".into(), Value::String(audience.to_owned()));
        claims.insert("iat".into(), Value::from(now_unix));
        claims.insert(
            "exp".into(),
            Value::from(now_unix.saturating_add(REQUEST_LIFETIME_SECS)),
        );
        claims.insert(
            "jti".into(),
            Value::String(uuid::Uuid::new_v4().hyphenated().to_string()),
        );
        claims
    }

    /// The signed request JWT (header `typ: JWT`, `alg` and `kid` from `key`) over
    /// [`claims`](Self::claims).
    pub fn signed_jwt(
        &self,
        key: &SigningKey,
        audience: &str,
        now_unix: i64,
    ) -> Result<String, TppError> {
        Ok(key.sign_jwt(&self.claims(audience, now_unix), Some("JWT"))?)
    }
}

/// A bank's answer to a registration (`OBClientRegistration1` plus `client_id`).
#[derive(Clone, Debug, PartialEq)]
pub struct Registration {
    pub client_id: String,
    pub client_id_issued_at: Option<i64>,
    /// The whole response body: the echoed (possibly downgraded) metadata, SSA claims
    /// flattened to the top level, and anything else the bank sent.
    pub body: Value,
}

impl Registration {
    /// Parses a registration response body; `client_id` is required.
    pub fn from_json(body: Value) -> Result<Self, String> {
        let client_id = match body.get("client_id") {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            Some(_) => return Err("client_id is not a non-empty string".into()),
            None => return Err("no client_id".into()),
        };
        let client_id_issued_at = match body.get("client_id_issued_at") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                value
                    .as_i64()
                    .ok_or("client_id_issued_at is not an integer")?,
            ),
        };
        Ok(Self {
            client_id,
            client_id_issued_at,
            body,
        })
    }

    /// A top-level string field of the response, e.g. `token_endpoint_auth_method` or `scope`.
    pub fn str_field(&self, name: &str) -> Option<&str> {
        self.body.get(name).and_then(Value::as_str)
    }
}
