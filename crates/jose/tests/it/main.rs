//! Integration tests for bascule-jose, through the public API only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use bascule_jose::*;
use serde_json::{Map, Value, json};

const BOTH: &[Algorithm] = &[Algorithm::PS256, Algorithm::ES256];

/// RSA generation is slow-ish: share one PS256 key across tests.
fn rsa_key() -> &'static SigningKey {
    static K: OnceLock<SigningKey> = OnceLock::new();
    K.get_or_init(|| SigningKey::generate(Algorithm::PS256).unwrap())
}

fn ec_key() -> SigningKey {
    SigningKey::generate(Algorithm::ES256).unwrap()
}

fn keys_for(k: &SigningKey) -> VerifyingKeys {
    VerifyingKeys::from_jwks(&Jwks {
        keys: vec![k.public_jwk()],
    })
    .unwrap()
}

/// Builds a compact token from a header JSON value, payload bytes and raw signature bytes.
fn compact(header: &Value, payload: &[u8], sig: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        base64url_encode(header.to_string().as_bytes()),
        base64url_encode(payload),
        base64url_encode(sig)
    )
}

/// Signs an arbitrary header with `key` (bypassing `sign_jws`, which forces alg/kid).
fn sign_with_header(key: &SigningKey, header: &Value, payload: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        base64url_encode(header.to_string().as_bytes()),
        base64url_encode(payload)
    );
    let sig = key.sign_raw(input.as_bytes()).unwrap();
    format!("{input}.{}", base64url_encode(&sig))
}

#[test]
fn round_trip_ps256_and_es256() {
    let ec = ec_key();
    for key in [rsa_key(), &ec] {
        let claims = json!({"iss": "tpp-1", "aud": "https://bank", "n": 1});
        let token = key.sign_jwt(&claims, Some("JWT")).unwrap();
        let keys = keys_for(key);
        assert!(!keys.is_empty());
        let (header, got): (Header, Value) = verify_jwt(&token, &keys, BOTH).unwrap();
        assert_eq!(got, claims);
        assert_eq!(header.alg, key.algorithm().as_str());
        assert_eq!(header.kid.as_deref(), Some(key.kid()));
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        assert!(header.other.is_empty());

        // Only the key's own algorithm in the allow-list also works.
        verify(&token, &keys, &[key.algorithm()]).unwrap();

        // Unverified decode sees the same thing.
        let (h2, p2) = decode_unverified(&token).unwrap();
        assert_eq!(h2, header);
        assert_eq!(p2, claims);
    }
}

#[test]
fn sign_jws_raw_payload_and_extra_header() {
    let key = ec_key();
    let mut header = Map::new();
    header.insert("alg".into(), json!("HS256")); // overridden by the key
    header.insert("kid".into(), json!("attacker")); // overridden by the key
    header.insert("cty".into(), json!("text/plain"));
    header.insert("x-custom".into(), json!(42));
    let token = key.sign_jws(header, b"\x00raw bytes\xff").unwrap();
    let (h, payload) = verify(&token, &keys_for(&key), BOTH).unwrap();
    assert_eq!(payload, b"\x00raw bytes\xff");
    assert_eq!(h.alg, "ES256");
    assert_eq!(h.kid.as_deref(), Some(key.kid()));
    assert_eq!(h.cty.as_deref(), Some("text/plain"));
    assert_eq!(h.other.get("x-custom"), Some(&json!(42)));
}

#[test]
fn detached_jws_round_trip() {
    let key = rsa_key();
    let keys = keys_for(key);
    let body = br#"{"Data":{"Initiation":{}}}"#;
    let mut header = Map::new();
    header.insert("http://openbanking.org.uk/iat".into(), json!(1_700_000_000));
    header.insert("crit".into(), json!(["http://openbanking.org.uk/iat"]));
    let sig = key.sign_detached(header, body).unwrap();
    assert!(sig.contains(".."));
    let understood = ["http://openbanking.org.uk/iat"];
    verify_detached(&sig, body, &keys, BOTH, &understood).unwrap();
    assert!(matches!(
        verify_detached(&sig, b"tampered", &keys, BOTH, &understood),
        Err(JoseError::BadSignature)
    ));
    // Without declaring the crit extension understood, it is refused.
    assert!(matches!(
        verify_detached(&sig, body, &keys, BOTH, &[]),
        Err(JoseError::ForbiddenHeader("crit"))
    ));
}

#[test]
fn kid_defaults_to_rfc7638_thumbprint() {
    let ec = ec_key();
    for key in [rsa_key(), &ec] {
        let mut jwk = key.public_jwk();
        assert_eq!(jwk.use_.as_deref(), Some("sig"));
        assert_eq!(jwk.alg.as_deref(), Some(key.algorithm().as_str()));
        assert_eq!(jwk.kid.as_deref(), Some(key.kid()));
        jwk.kid = None;
        assert_eq!(jwk.thumbprint().unwrap(), key.kid());
        assert_eq!(key.kid().len(), 43);
    }
    let renamed = SigningKey::generate(Algorithm::ES256)
        .unwrap()
        .with_kid("my-kid");
    assert_eq!(renamed.kid(), "my-kid");
    assert_eq!(renamed.public_jwk().kid.as_deref(), Some("my-kid"));
}

/// RFC 7638 §3.1 example.
#[test]
fn rfc7638_example_thumbprint() {
    let jwk: Jwk = serde_json::from_value(json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29"
    }))
    .unwrap();
    assert_eq!(
        jwk.thumbprint().unwrap(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
    // Declared RS256: skipped by VerifyingKeys (not an error).
    let keys = VerifyingKeys::from_jwks(&Jwks {
        keys: vec![jwk.clone()],
    })
    .unwrap();
    assert!(keys.is_empty());
    // Same key without `alg` is a usable PS256 key.
    let mut no_alg = jwk;
    no_alg.alg = None;
    let keys = VerifyingKeys::from_jwks(&Jwks { keys: vec![no_alg] }).unwrap();
    assert_eq!(keys.len(), 1);
    assert!(keys.contains_kid("2011-04-29"));
}

#[test]
fn tampering_is_bad_signature() {
    let ec = ec_key();
    for key in [rsa_key(), &ec] {
        let keys = keys_for(key);
        let token = key.sign_jwt(&json!({"amount": "10.00"}), None).unwrap();
        let parts: Vec<&str> = token.split('.').collect();

        let forged_payload = base64url_encode(br#"{"amount":"99999.00"}"#);
        let t = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert!(matches!(
            verify(&t, &keys, BOTH),
            Err(JoseError::BadSignature)
        ));

        let mut sig = base64url_decode(parts[2]).unwrap();
        sig[10] ^= 1;
        let t = format!("{}.{}.{}", parts[0], parts[1], base64url_encode(&sig));
        assert!(matches!(
            verify(&t, &keys, BOTH),
            Err(JoseError::BadSignature)
        ));

        // Truncated and empty signatures.
        let t = format!("{}.{}.{}", parts[0], parts[1], base64url_encode(&sig[..20]));
        assert!(matches!(
            verify(&t, &keys, BOTH),
            Err(JoseError::BadSignature)
        ));
        let t = format!("{}.{}.", parts[0], parts[1]);
        assert!(matches!(
            verify(&t, &keys, BOTH),
            Err(JoseError::BadSignature)
        ));

        // A token from a different key with the same kid.
        let other = SigningKey::generate(key.algorithm())
            .unwrap()
            .with_kid(key.kid());
        let t = other.sign_jwt(&json!({"amount": "10.00"}), None).unwrap();
        assert!(matches!(
            verify(&t, &keys, BOTH),
            Err(JoseError::BadSignature)
        ));
    }
}

#[test]
fn disallowed_algorithms() {
    let key = rsa_key();
    let keys = keys_for(key);
    let payload = br#"{"sub":"x"}"#;

    // alg: none, with and without a signature part.
    let none = json!({"alg": "none", "kid": key.kid()});
    for sig in [&b""[..], b"x"] {
        let t = compact(&none, payload, sig);
        assert!(matches!(
            verify(&t, &keys, BOTH),
            Err(JoseError::AlgorithmNotAllowed(_))
        ));
    }
    // Case games.
    for alg in [
        "None", "NONE", "ps256", "PS256 ", "HS256", "HS512", "RS256", "ES384", "EdDSA",
    ] {
        let t = compact(&json!({"alg": alg, "kid": key.kid()}), payload, b"sig");
        assert!(
            matches!(
                verify(&t, &keys, BOTH),
                Err(JoseError::AlgorithmNotAllowed(_))
            ),
            "{alg}"
        );
    }

    // HS256 "signed" with the public modulus as the HMAC secret (the classic confusion).
    let n = key.public_jwk().n.unwrap();
    let hmac_key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, n.as_bytes());
    let input = format!(
        "{}.{}",
        base64url_encode(
            json!({"alg": "HS256", "kid": key.kid()})
                .to_string()
                .as_bytes()
        ),
        base64url_encode(payload)
    );
    let tag = aws_lc_rs::hmac::sign(&hmac_key, input.as_bytes());
    let t = format!("{input}.{}", base64url_encode(tag.as_ref()));
    assert!(matches!(
        verify(&t, &keys, BOTH),
        Err(JoseError::AlgorithmNotAllowed(_))
    ));

    // A real RS256 (PKCS#1 v1.5) signature made with the very same RSA key.
    let der = pem_to_der(&key.to_pkcs8_pem().unwrap());
    let rsa = RsaKeyPair::from_pkcs8(&der).unwrap();
    let sign_pkcs1 = |alg: &str| {
        let input = format!(
            "{}.{}",
            base64url_encode(json!({"alg": alg, "kid": key.kid()}).to_string().as_bytes()),
            base64url_encode(payload)
        );
        let mut sig = vec![0; rsa.public_modulus_len()];
        rsa.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            input.as_bytes(),
            &mut sig,
        )
        .unwrap();
        format!("{input}.{}", base64url_encode(&sig))
    };
    assert!(matches!(
        verify(&sign_pkcs1("RS256"), &keys, BOTH),
        Err(JoseError::AlgorithmNotAllowed(_))
    ));
    // PKCS#1 v1.5 signature relabelled as PS256 does not verify as PSS.
    assert!(matches!(
        verify(&sign_pkcs1("PS256"), &keys, BOTH),
        Err(JoseError::BadSignature)
    ));

    // Allowed algorithm, but not in this caller's allow-list.
    let t = key.sign_jwt(&json!({}), None).unwrap();
    assert!(matches!(
        verify(&t, &keys, &[Algorithm::ES256]),
        Err(JoseError::AlgorithmNotAllowed(_))
    ));
    assert!(matches!(
        verify(&t, &keys, &[]),
        Err(JoseError::AlgorithmNotAllowed(_))
    ));
}

fn pem_to_der(pem: &str) -> Vec<u8> {
    use base64::Engine;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

#[test]
fn header_alg_must_match_key() {
    let ec = ec_key();
    let keys = keys_for(&ec);
    // ES256 key, header claims PS256 (signed with the EC key anyway).
    let t = sign_with_header(&ec, &json!({"alg": "PS256", "kid": ec.kid()}), b"{}");
    assert!(matches!(
        verify(&t, &keys, BOTH),
        Err(JoseError::AlgorithmNotAllowed(_))
    ));
    // RSA key, header claims ES256.
    let rsa = rsa_key();
    let t = sign_with_header(rsa, &json!({"alg": "ES256", "kid": rsa.kid()}), b"{}");
    assert!(matches!(
        verify(&t, &keys_for(rsa), BOTH),
        Err(JoseError::AlgorithmNotAllowed(_))
    ));
}

#[test]
fn forbidden_headers() {
    let key = ec_key();
    let keys = keys_for(&key);
    for (name, expect) in [("jku", "jku"), ("x5u", "x5u")] {
        let mut h = Map::new();
        h.insert(name.into(), json!("https://attacker.example/jwks"));
        let t = key.sign_jws(h, b"{}").unwrap();
        match verify(&t, &keys, BOTH) {
            Err(JoseError::ForbiddenHeader(n)) => assert_eq!(n, expect),
            other => panic!("{name}: {other:?}"),
        }
    }
    // Unknown crit.
    let mut h = Map::new();
    h.insert("crit".into(), json!(["exp-ext"]));
    h.insert("exp-ext".into(), json!(1));
    let t = key.sign_jws(h, b"{}").unwrap();
    assert!(matches!(
        verify(&t, &keys, BOTH),
        Err(JoseError::ForbiddenHeader("crit"))
    ));
    // Understood crit is accepted by verify_with_crit...
    verify_with_crit(&t, &keys, BOTH, &["exp-ext"]).unwrap();
    // ...but crit naming an absent member, a registered header, or not an array is malformed.
    for crit in [
        json!(["absent"]),
        json!(["alg"]),
        json!("exp-ext"),
        json!([]),
    ] {
        let mut h = Map::new();
        h.insert("crit".into(), crit.clone());
        let t = key.sign_jws(h, b"{}").unwrap();
        assert!(
            matches!(
                verify_with_crit(&t, &keys, BOTH, &["absent", "alg", "exp-ext"]),
                Err(JoseError::Malformed(_))
            ),
            "{crit}"
        );
    }
    // b64 (unencoded payload) is refused.
    let mut h = Map::new();
    h.insert("b64".into(), json!(false));
    let t = key.sign_jws(h, b"{}").unwrap();
    assert!(matches!(
        verify(&t, &keys, BOTH),
        Err(JoseError::ForbiddenHeader("b64"))
    ));
}

#[test]
fn key_selection() {
    let a = ec_key();
    let b = rsa_key();
    let both = VerifyingKeys::from_jwks(&Jwks {
        keys: vec![a.public_jwk(), b.public_jwk()],
    })
    .unwrap();
    assert_eq!(both.len(), 2);
    verify(&a.sign_jwt(&json!({}), None).unwrap(), &both, BOTH).unwrap();
    verify(&b.sign_jwt(&json!({}), None).unwrap(), &both, BOTH).unwrap();

    // Unknown kid.
    let stranger = SigningKey::generate(Algorithm::ES256)
        .unwrap()
        .with_kid("nope");
    match verify(&stranger.sign_jwt(&json!({}), None).unwrap(), &both, BOTH) {
        Err(JoseError::UnknownKey(Some(kid))) => assert_eq!(kid, "nope"),
        other => panic!("{other:?}"),
    }

    // No kid: fine with exactly one key, UnknownKey(None) with two.
    let t = sign_with_header(&a, &json!({"alg": "ES256"}), b"{}");
    verify(&t, &keys_for(&a), BOTH).unwrap();
    assert!(matches!(
        verify(&t, &both, BOTH),
        Err(JoseError::UnknownKey(None))
    ));
    assert!(matches!(
        verify(
            &t,
            &VerifyingKeys::from_jwks(&Jwks::default()).unwrap(),
            BOTH
        ),
        Err(JoseError::UnknownKey(None))
    ));
}

#[test]
fn jwks_parsing_skips_and_errors() {
    let ec = ec_key();
    let mut enc = ec.public_jwk();
    enc.use_ = Some("enc".into());
    enc.kid = Some("enc-key".into());
    let mut p384 = ec.public_jwk();
    p384.crv = Some("P-384".into());
    p384.kid = Some("p384".into());
    let okp = Jwk {
        kty: "OKP".into(),
        kid: Some("ed".into()),
        use_: None,
        alg: None,
        n: None,
        e: None,
        crv: Some("Ed25519".into()),
        x: Some("AAAA".into()),
        y: None,
        x5c: None,
        x5t_s256: None,
    };
    let keys = VerifyingKeys::from_jwks(&Jwks {
        keys: vec![enc, p384, okp, ec.public_jwk()],
    })
    .unwrap();
    assert_eq!(keys.len(), 1);
    assert!(keys.contains_kid(ec.kid()));

    // Malformed candidates are errors.
    let mut bad_b64 = ec.public_jwk();
    bad_b64.x = Some("not base64!".into());
    let mut off_curve = ec.public_jwk();
    let mut y = base64url_decode(off_curve.y.as_deref().unwrap()).unwrap();
    y[31] ^= 1;
    off_curve.y = Some(base64url_encode(&y));
    let mut missing = rsa_key().public_jwk();
    missing.e = None;
    let dup = vec![ec.public_jwk(), ec.public_jwk()];
    for jwks in [vec![bad_b64], vec![off_curve], vec![missing], dup] {
        assert!(matches!(
            VerifyingKeys::from_jwks(&Jwks { keys: jwks }),
            Err(JoseError::Key(_))
        ));
    }

    // JWKS serde shape and find().
    let jwks = Jwks {
        keys: vec![ec.public_jwk(), rsa_key().public_jwk()],
    };
    let text = serde_json::to_string(&jwks).unwrap();
    assert!(text.contains(r#""use":"sig""#));
    // No member named x5c (the text itself may hold those letters inside a random modulus).
    let members: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(
        members["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k.get("x5c").is_none())
    );
    let back: Jwks = serde_json::from_str(&text).unwrap();
    assert_eq!(back, jwks);
    assert_eq!(back.find(ec.kid()), Some(&ec.public_jwk()));
    assert_eq!(back.find("missing"), None);
}

#[test]
fn malformed_inputs() {
    let key = ec_key();
    let keys = keys_for(&key);
    let good = key.sign_jwt(&json!({"a": 1}), None).unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    let cases = [
        String::new(),
        ".".into(),
        "..".into(),
        "...".into(),
        format!("{}.{}", parts[0], parts[1]),
        format!("{good}.extra"),
        format!("{}!.{}.{}", parts[0], parts[1], parts[2]),
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        format!(
            "{}.{}.{}",
            base64url_encode(b"not json"),
            parts[1],
            parts[2]
        ),
        format!("{}.{}.{}", base64url_encode(b"[1,2]"), parts[1], parts[2]),
        format!(
            "{}.{}.{}",
            base64url_encode(br#"{"kid":"x"}"#),
            parts[1],
            parts[2]
        ),
        format!(
            "{}.{}.{}",
            base64url_encode(br#"{"alg":7}"#),
            parts[1],
            parts[2]
        ),
        format!(
            "{}.{}.{}",
            base64url_encode(br#"{"alg":"ES256","alg":"ES256"}"#),
            parts[1],
            parts[2]
        ),
        format!("{}.{}.{}", parts[0], parts[1], "sig+/"),
    ];
    for t in &cases {
        assert!(
            matches!(verify(t, &keys, BOTH), Err(JoseError::Malformed(_))),
            "verify {t:?}: {:?}",
            verify(t, &keys, BOTH)
        );
    }
    // Payload problems: decode_unverified needs JSON; verify_jwt needs the right shape.
    let t = key.sign_jws(Map::new(), b"not json").unwrap();
    assert!(matches!(
        decode_unverified(&t),
        Err(JoseError::Malformed(_))
    ));
    assert!(matches!(
        verify_jwt::<Value>(&t, &keys, BOTH),
        Err(JoseError::Malformed(_))
    ));
    assert!(matches!(
        decode_unverified(&format!("{}.{}!.x", parts[0], parts[1])),
        Err(JoseError::Malformed(_))
    ));
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn keys() -> &'static (VerifyingKeys, String) {
        static K: OnceLock<(VerifyingKeys, String)> = OnceLock::new();
        K.get_or_init(|| {
            let k = SigningKey::generate(Algorithm::ES256).unwrap();
            let good = k.sign_jwt(&json!({"iss": "x"}), Some("JWT")).unwrap();
            (keys_for(&k), good)
        })
    }

    proptest! {
        #[test]
        fn random_strings_never_panic(s in ".{0,200}") {
            let _ = verify(&s, &keys().0, BOTH);
            let _ = decode_unverified(&s);
            let _ = verify_jwt::<Value>(&s, &keys().0, BOTH);
        }

        #[test]
        fn random_compact_shapes_never_panic(s in "[A-Za-z0-9_\\-.]{0,300}") {
            let _ = verify(&s, &keys().0, BOTH);
            let _ = decode_unverified(&s);
        }

        #[test]
        fn random_json_headers_never_panic(h in "\\{.{0,80}\\}", p in proptest::collection::vec(any::<u8>(), 0..64)) {
            let t = format!("{}.{}.{}", base64url_encode(h.as_bytes()), base64url_encode(&p), base64url_encode(&p));
            let _ = verify(&t, &keys().0, BOTH);
            let _ = decode_unverified(&t);
        }

        #[test]
        fn any_single_char_change_fails(idx in any::<proptest::sample::Index>(), c in "[A-Za-z0-9_\\-]") {
            let good = &keys().1;
            let i = idx.index(good.len());
            let mut bytes = good.clone().into_bytes();
            prop_assume!(bytes[i] != b'.' && bytes[i] != c.as_bytes()[0]);
            bytes[i] = c.as_bytes()[0];
            let t = String::from_utf8(bytes).unwrap();
            prop_assert!(verify(&t, &keys().0, BOTH).is_err());
        }

        #[test]
        fn base64url_round_trip(b in proptest::collection::vec(any::<u8>(), 0..100)) {
            prop_assert_eq!(base64url_decode(&base64url_encode(&b)).unwrap(), b);
        }
    }
}

#[test]
fn pem_round_trip_and_der() {
    let ec = ec_key();
    for key in [rsa_key(), &ec] {
        let pem = key.to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(pem.trim_end().ends_with("-----END PRIVATE KEY-----"));
        assert!(pem.lines().all(|l| l.len() <= 64));
        let back = SigningKey::from_pkcs8_pem(&pem, key.algorithm()).unwrap();
        assert_eq!(back.public_jwk(), key.public_jwk());
        assert_eq!(back.kid(), key.kid());
        let der = pem_to_der(&pem);
        let back = SigningKey::from_pkcs8_der(&der, key.algorithm()).unwrap();
        assert_eq!(back.public_jwk(), key.public_jwk());
        // A token signed by the re-loaded key verifies with the original's JWKS.
        let t = back.sign_jwt(&json!({"x": 1}), None).unwrap();
        verify(&t, &keys_for(key), BOTH).unwrap();
        // Wrong algorithm for the key type.
        let wrong = match key.algorithm() {
            Algorithm::PS256 => Algorithm::ES256,
            Algorithm::ES256 => Algorithm::PS256,
        };
        assert!(matches!(
            SigningKey::from_pkcs8_pem(&pem, wrong),
            Err(JoseError::Key(_))
        ));
    }
    for bad in [
        "",
        "hello",
        "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
    ] {
        assert!(matches!(
            SigningKey::from_pkcs8_pem(bad, Algorithm::ES256),
            Err(JoseError::Key(_))
        ));
    }
}

#[test]
fn debug_and_errors_show_no_key_material() {
    let ec = ec_key();
    for key in [rsa_key(), &ec] {
        let dbg = format!("{key:?}");
        assert!(dbg.contains(key.kid()));
        let pem = key.to_pkcs8_pem().unwrap();
        let der = pem_to_der(&pem);
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        // No 8-char window of the PEM body or hex of the DER appears in Debug.
        for w in body.as_bytes().windows(8).step_by(8) {
            assert!(!dbg.contains(std::str::from_utf8(w).unwrap()));
        }
        let hex: String = der.iter().map(|b| format!("{b:02x}")).collect();
        for w in hex.as_bytes().windows(8).step_by(8) {
            assert!(!dbg.contains(std::str::from_utf8(w).unwrap()));
        }
        assert!(!dbg.contains("[")); // no byte arrays
        // A corrupted PEM's error does not echo its body.
        let corrupted = pem.replace('A', "*");
        let err = SigningKey::from_pkcs8_pem(&corrupted, key.algorithm())
            .unwrap_err()
            .to_string();
        assert!(!err.contains(&body[..20]), "{err}");
    }
}

#[test]
fn claim_checks() {
    let now = 1_700_000_000;
    let base = ClaimChecks {
        now,
        leeway: 30,
        issuer: Some("https://bank"),
        audience: Some("tpp-1"),
        require_exp: true,
        require_iat: true,
        max_age: Some(300),
    };
    let good = json!({"iss": "https://bank", "aud": "tpp-1", "exp": now + 60, "iat": now - 10, "nbf": now - 10});
    check_claims(&good, &base).unwrap();
    let with = |k: &str, v: Value| {
        let mut c = good.clone();
        c[k] = v;
        c
    };
    let without = |k: &str| {
        let mut c = good.clone();
        c.as_object_mut().unwrap().remove(k);
        c
    };
    let e = |c: &Value| check_claims(c, &base);

    // Missing.
    assert_eq!(e(&without("exp")), Err(ClaimError::Missing("exp")));
    assert_eq!(e(&without("iat")), Err(ClaimError::Missing("iat")));
    assert_eq!(e(&without("iss")), Err(ClaimError::Missing("iss")));
    assert_eq!(e(&without("aud")), Err(ClaimError::Missing("aud")));
    let lax = ClaimChecks {
        require_exp: false,
        require_iat: false,
        max_age: None,
        ..base
    };
    check_claims(&without("exp"), &lax).unwrap();
    check_claims(&without("iat"), &lax).unwrap();
    // max_age alone implies iat.
    let age_only = ClaimChecks {
        require_iat: false,
        ..base
    };
    assert_eq!(
        check_claims(&without("iat"), &age_only),
        Err(ClaimError::Missing("iat"))
    );

    // Expired, with leeway 30: exp = now - 29 passes, now - 30 fails.
    check_claims(&with("exp", json!(now - 29)), &base).unwrap();
    assert_eq!(e(&with("exp", json!(now - 30))), Err(ClaimError::Expired));
    let strict = ClaimChecks { leeway: 0, ..base };
    assert_eq!(
        check_claims(&with("exp", json!(now)), &strict),
        Err(ClaimError::Expired)
    );
    check_claims(&with("exp", json!(now + 1)), &strict).unwrap();
    // Fractional NumericDate.
    check_claims(&with("exp", json!((now as f64) + 0.5)), &strict).unwrap_err();
    check_claims(&with("exp", json!((now as f64) + 1.5)), &strict).unwrap();

    // Not yet valid.
    check_claims(&with("nbf", json!(now + 30)), &base).unwrap();
    assert_eq!(
        e(&with("nbf", json!(now + 31))),
        Err(ClaimError::NotYetValid)
    );

    // Issued in the future.
    check_claims(&with("iat", json!(now + 30)), &base).unwrap();
    assert_eq!(
        e(&with("iat", json!(now + 31))),
        Err(ClaimError::IssuedInFuture)
    );

    // Too old: max_age 300 + leeway 30.
    check_claims(&with("iat", json!(now - 330)), &base).unwrap();
    assert_eq!(e(&with("iat", json!(now - 331))), Err(ClaimError::TooOld));

    // Issuer / audience.
    assert_eq!(
        e(&with("iss", json!("https://evil"))),
        Err(ClaimError::WrongIssuer)
    );
    assert_eq!(
        e(&with("aud", json!("tpp-2"))),
        Err(ClaimError::WrongAudience)
    );
    check_claims(&with("aud", json!(["x", "tpp-1"])), &base).unwrap();
    assert_eq!(
        e(&with("aud", json!(["x", "y"]))),
        Err(ClaimError::WrongAudience)
    );
    assert_eq!(e(&with("aud", json!([]))), Err(ClaimError::WrongAudience));

    // Invalid types.
    assert_eq!(
        e(&with("exp", json!("soon"))),
        Err(ClaimError::Invalid("exp"))
    );
    assert_eq!(
        e(&with("nbf", json!(null))),
        Err(ClaimError::Invalid("nbf"))
    );
    assert_eq!(
        e(&with("iat", json!(true))),
        Err(ClaimError::Invalid("iat"))
    );
    assert_eq!(e(&with("iss", json!(1))), Err(ClaimError::Invalid("iss")));
    assert_eq!(
        e(&with("aud", json!(["tpp-1", 2]))),
        Err(ClaimError::Invalid("aud"))
    );
    assert_eq!(
        e(&with("aud", json!({"a": 1}))),
        Err(ClaimError::Invalid("aud"))
    );
    assert_eq!(e(&json!([1])), Err(ClaimError::Invalid("claims")));

    // Extremes do not overflow.
    check_claims(&with("exp", json!(i64::MAX)), &base).unwrap();
    assert_eq!(e(&with("exp", json!(i64::MIN))), Err(ClaimError::Expired));
    assert_eq!(e(&with("iat", json!(i64::MIN))), Err(ClaimError::TooOld));
    assert_eq!(e(&with("exp", json!(1e300))), Ok(()));
    let extreme = ClaimChecks {
        now: i64::MAX,
        leeway: i64::MAX,
        max_age: Some(i64::MAX),
        ..base
    };
    let _ = check_claims(&good, &extreme);

    // Claim errors convert into JoseError.
    let je: JoseError = ClaimError::Expired.into();
    assert!(matches!(je, JoseError::Claim(ClaimError::Expired)));
}

#[test]
fn algorithm_names() {
    for a in [Algorithm::PS256, Algorithm::ES256] {
        assert_eq!(Algorithm::parse(a.as_str()).unwrap(), a);
        assert_eq!(serde_json::to_value(a).unwrap(), json!(a.as_str()));
    }
    assert!(matches!(
        Algorithm::parse("none"),
        Err(JoseError::AlgorithmNotAllowed(_))
    ));
}

#[test]
fn sha256_helper() {
    // SHA-256("abc").
    assert_eq!(
        sha256_base64url(b"abc"),
        "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
    );
    assert!(base64url_decode("ab=").is_err());
    assert!(base64url_decode("ab+/").is_err());
    assert!(base64url_decode("a").is_err());
    assert!(base64url_decode("ab c").is_err());
}

#[test]
fn keys_are_send_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SigningKey>();
    assert_send_sync::<VerifyingKeys>();
}
