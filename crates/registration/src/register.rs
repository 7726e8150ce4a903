//! `POST /register` and `PUT /register/{ClientId}`: every check Open Banking DCR asks of a
//! registration request, in the order that gives each failure its RFC 7591 error.

use std::collections::BTreeSet;

use bascule_directory::{Role, SSA_ISSUER, SoftwareStatementClaims};
use bascule_jose::{Algorithm, JoseError, decode_unverified, verify, verify_jwt};
use bascule_tls::ClientCertificate;
use serde_json::{Map, Value, json};

use crate::client::{Client, ClientStatus, TokenEndpointAuthMethod};
use crate::{Registrar, RegistrationError, dn};

const FAPI_ALGORITHMS: [Algorithm; 2] = [Algorithm::PS256, Algorithm::ES256];
/// Clock skew tolerated on `iat`/`exp`, in seconds.
const LEEWAY: i64 = 60;
const GRANT_TYPES: [&str; 3] = ["client_credentials", "authorization_code", "refresh_token"];
const RESPONSE_TYPES: [&str; 2] = ["code", "code id_token"];

fn is_uuid_v4(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok_and(|u| u.get_version_num() == 4) && s.len() == 36
}

fn is_https_redirect(uri: &str) -> bool {
    uri.strip_prefix("https://")
        .and_then(|rest| rest.split(['/', '?']).next())
        .is_some_and(|host| !host.is_empty())
        && !uri.contains('#')
        && !uri.chars().any(char::is_whitespace)
        && uri.len() <= 256
}

fn string_array(
    claims: &Map<String, Value>,
    name: &str,
) -> Result<Option<Vec<String>>, RegistrationError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| {
                RegistrationError::metadata(format!("{name} must be an array of strings"))
            }),
        Some(_) => Err(RegistrationError::metadata(format!(
            "{name} must be an array of strings"
        ))),
    }
}

fn string(claims: &Map<String, Value>, name: &str) -> Result<Option<String>, RegistrationError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(RegistrationError::metadata(format!(
            "{name} must be a string"
        ))),
    }
}

fn required(claims: &Map<String, Value>, name: &str) -> Result<String, RegistrationError> {
    string(claims, name)?.ok_or_else(|| RegistrationError::metadata(format!("{name} is required")))
}

fn fapi_algorithm(claims: &Map<String, Value>, name: &str) -> Result<String, RegistrationError> {
    let alg = required(claims, name)?;
    if Algorithm::parse(&alg).is_err() {
        return Err(RegistrationError::metadata(format!(
            "{name} must be PS256 or ES256 (FAPI)"
        )));
    }
    Ok(alg)
}

/// What a valid request amounts to: the client to store and the registration to answer with.
pub(crate) struct Validated {
    pub client: Client,
    pub registration: Map<String, Value>,
}

impl Registrar {
    /// Registers a new client. The answer is the registration (`OBClientRegistration1`).
    pub async fn register(
        &self,
        cert: &ClientCertificate,
        body: &str,
    ) -> Result<Value, RegistrationError> {
        let mut v = self.validate(cert, body).await?;
        let client_id = self.inner.ids.next_uuid().hyphenated().to_string();
        let issued_at = self.inner.clock.now().unix_timestamp();
        v.registration.insert("client_id".into(), json!(client_id));
        v.registration
            .insert("client_id_issued_at".into(), json!(issued_at));
        v.client.client_id = client_id.clone();
        v.client.registration = Value::Object(v.registration.clone());
        self.save(&v.client, true).await?;
        tracing::info!(client_id = %client_id, software = %v.client.software_id, "client registered");
        Ok(v.client.registration)
    }

    /// Replaces a client's registration (`PUT /register/{ClientId}`): the same checks as a new
    /// registration, for the same software.
    pub async fn update(
        &self,
        client_id: &str,
        cert: &ClientCertificate,
        body: &str,
    ) -> Result<Value, RegistrationError> {
        let existing = self.owned_client(client_id, cert).await?;
        let mut v = self.validate(cert, body).await?;
        if v.client.software_id != existing.software_id {
            return Err(RegistrationError::metadata(
                "a registration cannot move to other software",
            ));
        }
        let issued_at = existing
            .registration
            .get("client_id_issued_at")
            .cloned()
            .unwrap_or(json!(0));
        v.registration.insert("client_id".into(), json!(client_id));
        v.registration
            .insert("client_id_issued_at".into(), issued_at);
        v.client.client_id = client_id.to_owned();
        v.client.registration = Value::Object(v.registration);
        self.save(&v.client, false).await?;
        Ok(v.client.registration)
    }

    /// The client, if the certificate belongs to the software it was registered for.
    pub async fn owned_client(
        &self,
        client_id: &str,
        cert: &ClientCertificate,
    ) -> Result<Client, RegistrationError> {
        let client = self
            .client(client_id)
            .await?
            .ok_or_else(|| RegistrationError::Unauthorised("unknown client".into()))?;
        if !certificate_belongs_to(cert, &client.organisation_id) {
            return Err(RegistrationError::Forbidden);
        }
        Ok(client)
    }

    async fn validate(
        &self,
        cert: &ClientCertificate,
        body: &str,
    ) -> Result<Validated, RegistrationError> {
        let config = &self.inner.config;
        let now = self.inner.clock.now().unix_timestamp();
        let body = body.trim();
        let (header, claims) = decode_unverified(body).map_err(|_| {
            RegistrationError::metadata("the request must be a JWT signed by the software's key")
        })?;
        let Value::Object(claims) = claims else {
            return Err(RegistrationError::metadata(
                "the request's claims must be a JSON object",
            ));
        };

        // The software statement: signed by a directory this bank trusts, fresh, still approved.
        let ssa_jwt = string(&claims, "software_statement")
            .map_err(|_| RegistrationError::software_statement("software_statement must be a JWT"))?
            .ok_or_else(|| {
                RegistrationError::software_statement("software_statement is required")
            })?;
        let (trusted, ssa) = config
            .trusted_directories
            .iter()
            .find_map(|d| {
                verify_jwt::<SoftwareStatementClaims>(&ssa_jwt, &d.keys, &FAPI_ALGORITHMS)
                    .ok()
                    .filter(|(_, c)| c.iss == d.issuer)
                    .map(|(_, c)| (d, c))
            })
            .ok_or_else(|| {
                RegistrationError::software_statement(
                    "the software statement is not signed by a directory this bank trusts",
                )
            })?;
        if ssa.iat > now + LEEWAY {
            return Err(RegistrationError::software_statement(
                "the software statement is issued in the future",
            ));
        }
        if now - ssa.iat > config.ssa_max_age || ssa.exp.is_some_and(|exp| exp < now) {
            return Err(RegistrationError::software_statement(
                "the software statement has expired: ask the directory for a fresh one",
            ));
        }
        if ssa.org_status.as_deref().is_some_and(|s| s != "Active") {
            return Err(RegistrationError::unapproved(
                "the organisation is not active in the directory",
            ));
        }
        if trusted.issuer == SSA_ISSUER
            && let Some(directory) = &self.inner.directory
            && !directory
                .is_active(&ssa.software_id)
                .await
                .map_err(|e| RegistrationError::Internal(e.to_string()))?
        {
            return Err(RegistrationError::unapproved(
                "the software has been revoked by the directory",
            ));
        }
        if !certificate_belongs_to(cert, &ssa.org_id) {
            return Err(RegistrationError::unapproved(
                "the transport certificate does not belong to the software statement's organisation",
            ));
        }

        // The request itself: signed by the software's key (holder of key), for this bank, once.
        let keys = self
            .inner
            .jwks
            .keys(&ssa.software_jwks_endpoint, header.kid.as_deref())
            .await?;
        verify(body, &keys, &FAPI_ALGORITHMS).map_err(|e| match e {
            JoseError::AlgorithmNotAllowed(_) => RegistrationError::metadata(
                "registration requests must be signed with PS256 or ES256",
            ),
            _ => RegistrationError::metadata(
                "the request is not signed by a key published for the software statement",
            ),
        })?;
        if string(&claims, "iss")?.as_deref() != Some(ssa.software_id.as_str()) {
            return Err(RegistrationError::metadata(
                "iss must be the software statement's software_id",
            ));
        }
        let aud_ok = |a: &str| a == config.audience || a == config.issuer_url;
        let audience_matches = match claims.get("aud") {
            Some(Value::String(a)) => aud_ok(a),
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).any(aud_ok),
            _ => false,
        };
        if !audience_matches {
            return Err(RegistrationError::metadata(format!(
                "aud must be this bank's organisation id ({})",
                config.audience
            )));
        }
        let exp = claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or_else(|| RegistrationError::metadata("exp is required"))?;
        let iat = claims
            .get("iat")
            .and_then(Value::as_i64)
            .ok_or_else(|| RegistrationError::metadata("iat is required"))?;
        if exp < now - LEEWAY {
            return Err(RegistrationError::metadata("the request has expired"));
        }
        if iat > now + LEEWAY || exp < iat {
            return Err(RegistrationError::metadata(
                "iat and exp are not a valid lifetime",
            ));
        }
        let jti = required(&claims, "jti")?;
        if !is_uuid_v4(&jti) {
            return Err(RegistrationError::metadata("jti must be a UUID v4"));
        }
        if !self
            .first_use(&ssa.software_id, &jti, exp.max(now) + LEEWAY)
            .await?
        {
            return Err(RegistrationError::metadata(
                "this request (jti) was already used",
            ));
        }

        // The metadata, against the SSA and the FAPI profile.
        let redirect_uris = string_array(&claims, "redirect_uris")?
            .filter(|u| !u.is_empty())
            .ok_or_else(|| RegistrationError::redirect_uri("redirect_uris is required"))?;
        for uri in &redirect_uris {
            if !is_https_redirect(uri) {
                return Err(RegistrationError::redirect_uri(format!(
                    "{uri} is not an https URL"
                )));
            }
            if !ssa.software_redirect_uris.contains(uri) {
                return Err(RegistrationError::redirect_uri(format!(
                    "{uri} is not among the software statement's redirect URIs"
                )));
            }
        }
        let method = required(&claims, "token_endpoint_auth_method")?;
        let method = TokenEndpointAuthMethod::parse(&method).ok_or_else(|| {
            RegistrationError::metadata(
                "token_endpoint_auth_method must be tls_client_auth or private_key_jwt (FAPI)",
            )
        })?;
        let subject_dn = string(&claims, "tls_client_auth_subject_dn")?;
        let signing_alg = string(&claims, "token_endpoint_auth_signing_alg")?;
        match method {
            TokenEndpointAuthMethod::TlsClientAuth => {
                let dn = subject_dn.as_deref().ok_or_else(|| {
                    RegistrationError::metadata(
                        "tls_client_auth_subject_dn is required with tls_client_auth",
                    )
                })?;
                if dn.len() > 512 || !dn::same(dn, &cert.subject_dn) {
                    return Err(RegistrationError::metadata(
                        "tls_client_auth_subject_dn does not match the transport certificate",
                    ));
                }
            }
            TokenEndpointAuthMethod::PrivateKeyJwt => {
                fapi_algorithm(&claims, "token_endpoint_auth_signing_alg")?;
            }
        }
        if let Some(alg) = &signing_alg
            && Algorithm::parse(alg).is_err()
        {
            return Err(RegistrationError::metadata(
                "token_endpoint_auth_signing_alg must be PS256 or ES256",
            ));
        }
        let grant_types = string_array(&claims, "grant_types")?
            .filter(|g| !g.is_empty())
            .ok_or_else(|| RegistrationError::metadata("grant_types is required"))?;
        if let Some(g) = grant_types
            .iter()
            .find(|g| !GRANT_TYPES.contains(&g.as_str()))
        {
            return Err(RegistrationError::metadata(format!(
                "grant type {g} is not supported"
            )));
        }
        let response_types = string_array(&claims, "response_types")?
            .unwrap_or_else(|| vec!["code id_token".to_owned()]);
        if let Some(r) = response_types
            .iter()
            .find(|r| !RESPONSE_TYPES.contains(&r.as_str()))
        {
            return Err(RegistrationError::metadata(format!(
                "response type {r} is not supported"
            )));
        }
        let roles: Vec<Role> = ssa.roles();
        let allowed: BTreeSet<&str> = std::iter::once("openid")
            .chain(roles.iter().map(|r| r.scope()))
            .collect();
        let scope = required(&claims, "scope")?;
        let scopes: Vec<String> = scope.split_whitespace().map(str::to_owned).collect();
        if scopes.is_empty() || scope.len() > 256 {
            return Err(RegistrationError::metadata(
                "scope must name 1 to 256 characters of scopes",
            ));
        }
        if let Some(s) = scopes.iter().find(|s| !allowed.contains(s.as_str())) {
            return Err(RegistrationError::metadata(format!(
                "scope {s} is not granted by the software statement's roles"
            )));
        }
        if let Some(id) = string(&claims, "software_id")?
            && id != ssa.software_id
        {
            return Err(RegistrationError::metadata(
                "software_id differs from the software statement's",
            ));
        }
        let application_type = required(&claims, "application_type")?;
        if !matches!(application_type.as_str(), "web" | "native") {
            return Err(RegistrationError::metadata(
                "application_type must be web or native",
            ));
        }
        let id_token_alg = fapi_algorithm(&claims, "id_token_signed_response_alg")?;
        let request_object_alg = fapi_algorithm(&claims, "request_object_signing_alg")?;

        // The answer echoes the request with the SSA's claims flattened in (DCR §Response).
        let mut registration = claims.clone();
        if let Ok(Value::Object(ssa_claims)) = serde_json::to_value(&ssa) {
            for (k, v) in ssa_claims {
                if !matches!(k.as_str(), "iss" | "iat" | "exp" | "jti") {
                    registration.entry(k).or_insert(v);
                }
            }
        }
        registration.insert("aud".into(), json!(config.audience));
        registration.insert("software_id".into(), json!(ssa.software_id));
        registration.insert("response_types".into(), json!(response_types));

        Ok(Validated {
            client: Client {
                client_id: String::new(),
                software_id: ssa.software_id.clone(),
                organisation_id: ssa.org_id.clone(),
                token_endpoint_auth_method: method,
                tls_client_auth_subject_dn: subject_dn,
                token_endpoint_auth_signing_alg: signing_alg,
                jwks_uri: ssa.software_jwks_endpoint.clone(),
                redirect_uris,
                scopes,
                grant_types,
                response_types,
                id_token_signed_response_alg: id_token_alg,
                request_object_signing_alg: request_object_alg,
                roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
                sandbox: self.inner.directory.is_some(),
                registration: Value::Null,
                status: ClientStatus::Active,
            },
            registration,
        })
    }
}

/// An Open Banking transport certificate names its organisation in OU and organizationIdentifier.
pub(crate) fn certificate_belongs_to(cert: &ClientCertificate, organisation_id: &str) -> bool {
    let Some(attrs) = dn::parse(&cert.subject_dn) else {
        return false;
    };
    dn::value(&attrs, "OU") == Some(organisation_id)
        || dn::value(&attrs, "2.5.4.97") == Some(format!("PSDGB-OB-{organisation_id}").as_str())
}
