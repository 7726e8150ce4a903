//! Validating JSON against the vendored Open Banking OpenAPI specifications
//! (`specs/openbanking-uk/`): a component schema by name, or the schema a path's response
//! declares. OpenAPI 3.0 schemas are (close to) JSON Schema draft 4, which is how they are read;
//! formats are asserted where the validator knows them (`uri`, ...) and ignored where it does not
//! (`JWT`, `int32`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};

/// `<workspace>/specs/openbanking-uk/`.
pub fn specs_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../specs/openbanking-uk/"
    ))
}

fn specs() -> &'static Mutex<HashMap<String, Arc<Value>>> {
    static SPECS: OnceLock<Mutex<HashMap<String, Arc<Value>>>> = OnceLock::new();
    SPECS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The parsed specification `spec` (e.g. `v4.0/client-registration-openapi.json`), cached.
pub fn spec(spec: &str) -> Result<Arc<Value>, String> {
    let mut cache = specs().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(parsed) = cache.get(spec) {
        return Ok(parsed.clone());
    }
    let path = specs_dir().join(spec);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let parsed: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let parsed = Arc::new(parsed);
    cache.insert(spec.to_owned(), parsed.clone());
    Ok(parsed)
}

/// Validates `value` against the component schema `schema` of `spec`, e.g.
/// `validate("v4.0/client-registration-openapi.json", "RegistrationError", &body)`. The error
/// lists every violation with its instance path.
pub fn validate(spec: &str, schema: &str, value: &Value) -> Result<(), String> {
    let parsed = self::spec(spec)?;
    validate_in(&parsed, schema, value).map_err(|e| format!("{spec}: {e}"))
}

/// [`validate`] against a specification the caller parsed.
pub fn validate_in(parsed: &Value, schema: &str, value: &Value) -> Result<(), String> {
    let spec = "the specification";
    if parsed
        .pointer(&format!("/components/schemas/{}", escape(schema)))
        .is_none()
    {
        return Err(format!("{spec} has no component schema {schema}"));
    }
    validate_against(
        parsed,
        json!({ "$ref": format!("#/components/schemas/{}", escape(schema)) }),
        value,
    )
    .map_err(|e| format!("{schema}: {e}"))
}

/// Validates `value` against the `application/json` schema that `spec` declares for the
/// `status` response of `method path` (`path` as written in the spec, e.g. `/register` or
/// `/register/{ClientId}`), following `$ref`s to `components/responses`. A response the spec
/// declares without content is valid when there is no body.
pub fn validate_response(
    spec: &str,
    path: &str,
    method: &str,
    status: u16,
    value: &Value,
) -> Result<(), String> {
    let parsed = self::spec(spec)?;
    validate_response_in(&parsed, path, method, status, value).map_err(|e| format!("{spec}: {e}"))
}

/// [`validate_response`] against a specification the caller parsed (one outside the vendored
/// Open Banking files: the personal API's own).
pub fn validate_response_in(
    parsed: &Value,
    path: &str,
    method: &str,
    status: u16,
    value: &Value,
) -> Result<(), String> {
    let spec = "the specification";
    let operation = parsed
        .get("paths")
        .and_then(|p| p.get(path))
        .and_then(|p| p.get(method.to_ascii_lowercase()))
        .ok_or_else(|| format!("{spec} has no {method} {path}"))?;
    let mut response = operation
        .get("responses")
        .and_then(|r| r.get(status.to_string()).or_else(|| r.get("default")))
        .ok_or_else(|| format!("{spec}: {method} {path} declares no {status} response"))?;
    // A response may be a $ref into components/responses (possibly chained).
    for _ in 0..8 {
        let Some(reference) = response.get("$ref").and_then(Value::as_str) else {
            break;
        };
        response = reference
            .strip_prefix('#')
            .and_then(|pointer| parsed.pointer(pointer))
            .ok_or_else(|| format!("{spec}: unresolvable {reference}"))?;
    }
    // A bare response (the events file's 409, 204) declares no content: no body is valid.
    if response.get("content").is_none() && value.is_null() {
        return Ok(());
    }
    // Some files (the events APIs) declare JSON only with its charset.
    let schema = response
        .pointer("/content/application~1json/schema")
        .or_else(|| response.pointer("/content/application~1json; charset=utf-8/schema"))
        .ok_or_else(|| {
            format!("{spec}: {method} {path} {status} has no application/json schema")
        })?;
    validate_against(parsed, schema.clone(), value)
        .map_err(|e| format!("{method} {path} {status}: {e}"))
}

/// Validates against `root` (a schema whose `$ref`s point into `#/components/...`), with the
/// spec's components alongside it so references resolve.
fn validate_against(spec: &Value, root: Value, value: &Value) -> Result<(), String> {
    let Value::Object(root) = root else {
        return Err(format!("schema is not an object: {root}"));
    };
    // Draft 4 ignores the siblings of `$ref`: a schema that is only a `$ref` goes inside
    // `allOf`, so the components can sit next to it.
    let mut document = if root.contains_key("$ref") {
        let mut wrapper = serde_json::Map::new();
        wrapper.insert("allOf".into(), Value::Array(vec![Value::Object(root)]));
        wrapper
    } else {
        root
    };
    document.insert(
        "components".into(),
        spec.get("components").cloned().unwrap_or(Value::Null),
    );
    let document = Value::Object(document);
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&document)
        .map_err(|e| format!("schema does not compile: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| {
            let at = e.instance_path().to_string();
            if at.is_empty() {
                e.to_string()
            } else {
                format!("{at}: {e}")
            }
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// JSON Pointer escaping of one reference token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DCR: &str = "v4.0/client-registration-openapi.json";

    #[test]
    fn registration_error_schema_accepts_rfc7591_errors_only() {
        assert_eq!(
            validate(
                DCR,
                "RegistrationError",
                &json!({"error": "invalid_redirect_uri"})
            ),
            Ok(())
        );
        assert!(
            validate(
                DCR,
                "RegistrationError",
                &json!({"error": "invalid_request"})
            )
            .is_err()
        );
        assert!(validate(DCR, "RegistrationError", &json!({})).is_err());
        assert!(validate(DCR, "NoSuchSchema", &json!({})).is_err());
    }

    #[test]
    fn response_schemas_resolve_through_components_responses() {
        let error = json!({"error": "invalid_client_metadata", "error_description": "x"});
        assert_eq!(
            validate_response(DCR, "/register", "POST", 400, &error),
            Ok(())
        );
        // The 201 schema adds `client_id` to OBClientRegistration1's requirements.
        let missing = validate_response(DCR, "/register", "post", 201, &json!({}));
        assert!(missing.is_err_and(|e| e.contains("client_id")));
        assert!(validate_response(DCR, "/register", "post", 418, &json!({})).is_err());
    }

    #[test]
    fn registration_schema_checks_patterns_and_required_claims() {
        let mut registration = json!({
            "iss": "softwareid", "iat": 1, "exp": 2, "aud": "bankorgid",
            "jti": "0b8ad8c3-7f2e-4d2a-9a0e-5c1c2b3d4e5f",
            "redirect_uris": ["https://tpp.example/cb"],
            "token_endpoint_auth_method": "tls_client_auth",
            "tls_client_auth_subject_dn": "CN=softwareid,OU=org,O=Acme,C=GB",
            "grant_types": ["client_credentials"], "scope": "openid accounts",
            "software_statement": "a.b.c", "application_type": "web",
            "id_token_signed_response_alg": "PS256", "request_object_signing_alg": "PS256",
        });
        assert_eq!(
            validate(DCR, "OBClientRegistration1", &registration),
            Ok(())
        );
        registration["tls_client_auth_subject_dn"] = json!("OU=org,CN=softwareid");
        registration["jti"] = json!("not-a-uuid");
        let errors = validate(DCR, "OBClientRegistration1", &registration).unwrap_err();
        assert!(
            errors.contains("/tls_client_auth_subject_dn") && errors.contains("/jti"),
            "{errors}"
        );
    }

    /// The validator must refuse what the v3.1.11 Account API does not allow, or every
    /// "validated against the official schema" assertion in the suite proves nothing.
    #[test]
    fn v3_1_11_balances_schema_refuses_what_the_spec_forbids() {
        const AIS: &str = "v3.1.11/account-info-openapi.json";
        const PATH: &str = "/accounts/{AccountId}/balances";
        let valid = json!({
            "Data": {"Balance": [{
                "AccountId": "22289", "CreditDebitIndicator": "Credit",
                "Type": "InterimAvailable", "DateTime": "2026-12-04T10:43:07+00:00",
                "Amount": {"Amount": "1230.00", "Currency": "GBP"}
            }]},
            "Links": {"Self": "https://bank.example/open-banking/v3.1/aisp/accounts/22289/balances"},
            "Meta": {}
        });
        assert_eq!(validate_response(AIS, PATH, "GET", 200, &valid), Ok(()));
        let broken = |pointer: &str, value: Value| {
            let mut body = valid.clone();
            if let Some(slot) = body.pointer_mut(pointer) {
                *slot = value;
            }
            validate_response(AIS, PATH, "GET", 200, &body)
        };
        // An amount as a JSON number, a signed amount, six decimals.
        assert!(broken("/Data/Balance/0/Amount/Amount", json!(1230)).is_err());
        assert!(broken("/Data/Balance/0/Amount/Amount", json!("-1230.00")).is_err());
        assert!(broken("/Data/Balance/0/Amount/Amount", json!("1.000001")).is_err());
        // Codes outside their enumerations, a lower-case currency.
        assert!(broken("/Data/Balance/0/CreditDebitIndicator", json!("credit")).is_err());
        assert!(broken("/Data/Balance/0/Type", json!("Available")).is_err());
        assert!(broken("/Data/Balance/0/Amount/Currency", json!("gbp")).is_err());
        // Required parts missing.
        // (The schema itself requires only `Data`; `Links` and `Meta` are required by RW prose.)
        let mut no_data = valid.clone();
        if let Some(body) = no_data.as_object_mut() {
            body.remove("Data");
        }
        assert!(validate_response(AIS, PATH, "GET", 200, &no_data).is_err());
        assert!(broken("/Data/Balance", json!([{"AccountId": "22289"}])).is_err());
    }
}
