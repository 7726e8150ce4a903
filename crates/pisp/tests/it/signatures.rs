//! `x-jws-signature` on requests: each failure gets its `UK.OBIE.Signature.*` code, nothing is
//! created; every response (errors too) is signed by the bank.

use bascule_jose::{Algorithm, SigningKey};
use bascule_store::Backend;
use serde_json::{Value, json};

use crate::support::{Bank, Call, IAT, ISS, Jws, TAN, valid};

/// OB-301-DOP-100110
/// OB-316-DOP-100310
#[tokio::test]
async fn each_signature_failure_has_its_code() {
    let bank = Bank::start(Backend::Sqlite).await;
    let cc = bank.cc_token().await;
    let body = Bank::consent_body(bank.initiation("1.00"));
    let bytes = body.to_string().into_bytes();
    let good = bank.sign(&bytes);
    let header = || bank.jose_header();
    let without = |name: &str| {
        let mut h = header();
        h.remove(name);
        Jws::Header(h)
    };
    let with = |name: &str, v: Value| {
        let mut h = header();
        h.insert(name.into(), v);
        Jws::Header(h)
    };
    // Signed by a key that is not in the TPP's JWKS.
    let stranger_key = SigningKey::generate(Algorithm::PS256).unwrap();
    let unknown_kid = stranger_key.sign_detached(header(), &bytes).unwrap();
    // ES256 header on a (forged) signature.
    let es = SigningKey::generate(Algorithm::ES256).unwrap();
    let wrong_alg = es.sign_detached(header(), &bytes).unwrap();
    let (h, _, s) = {
        let mut p = good.split('.');
        (
            p.next().unwrap().to_owned(),
            p.next().unwrap().to_owned(),
            p.next().unwrap().to_owned(),
        )
    };
    let mut tampered_sig = s.clone();
    tampered_sig.replace_range(0..2, if s.starts_with("AA") { "BB" } else { "AA" });
    let cases: Vec<(&str, Jws, &str)> = vec![
        ("missing", Jws::None, "UK.OBIE.Signature.Missing"),
        (
            "not compact",
            Jws::Raw("garbage".into()),
            "UK.OBIE.Signature.Malformed",
        ),
        (
            "attached payload",
            Jws::Raw(format!("{h}.e30.{s}")),
            "UK.OBIE.Signature.Malformed",
        ),
        (
            "wrong alg",
            Jws::Raw(wrong_alg),
            "UK.OBIE.Signature.InvalidClaim",
        ),
        (
            "unknown kid",
            Jws::Raw(unknown_kid),
            "UK.OBIE.Signature.InvalidClaim",
        ),
        (
            "bad signature",
            Jws::Raw(format!("{h}..{tampered_sig}")),
            "UK.OBIE.Signature.Invalid",
        ),
        ("no iat", without(IAT), "UK.OBIE.Signature.MissingClaim"),
        ("no iss", without(ISS), "UK.OBIE.Signature.MissingClaim"),
        ("no tan", without(TAN), "UK.OBIE.Signature.MissingClaim"),
        ("no crit", without("crit"), "UK.OBIE.Signature.MissingClaim"),
        (
            "short crit",
            with("crit", json!([IAT, ISS])),
            "UK.OBIE.Signature.InvalidClaim",
        ),
        (
            "iat in future",
            with(IAT, json!(bank.now() + 3600)),
            "UK.OBIE.Signature.InvalidClaim",
        ),
        (
            "wrong iss",
            with(ISS, json!("someone/else")),
            "UK.OBIE.Signature.InvalidClaim",
        ),
        (
            "untrusted tan",
            with(TAN, json!("evil.example")),
            "UK.OBIE.Signature.InvalidClaim",
        ),
        (
            "b64 present",
            with("b64", json!(false)),
            "UK.OBIE.Signature.InvalidClaim",
        ),
    ];
    for (what, jws, code) in cases {
        let reply = bank
            .call(
                Call::post("/domestic-payment-consents", &cc, &body)
                    .raw_body(&bytes)
                    .jws(jws),
            )
            .await;
        assert_eq!(reply.status, 400, "{what}: {:#}", reply.body);
        assert_eq!(reply.error_code(), code, "{what}: {:#}", reply.body);
        valid("POST", "/domestic-payment-consents", &reply);
        bank.verify_response(&reply);
    }
    // The signature covers the exact bytes: re-serialised JSON does not verify.
    let reply = bank
        .call(
            Call::post("/domestic-payment-consents", &cc, &body)
                .raw_body(format!(" {}", body).as_bytes())
                .jws(Jws::Raw(good.clone())),
        )
        .await;
    assert_eq!(reply.error_code(), "UK.OBIE.Signature.Invalid");
    // ...and the exact bytes do.
    let ok = bank
        .call(
            Call::post("/domestic-payment-consents", &cc, &body)
                .raw_body(&bytes)
                .jws(Jws::Raw(good)),
        )
        .await;
    assert_eq!(ok.status, 201, "{:#}", ok.body);
    // A signature where none is expected.
    let id = ok.body["Data"]["ConsentId"].as_str().unwrap();
    let reply = bank
        .call(
            Call::get(&format!("/domestic-payment-consents/{id}"), &cc)
                .header("x-jws-signature", "a..b"),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_code(), "UK.OBIE.Signature.Unexpected");
}

#[tokio::test]
async fn the_sandbox_trust_anchor_is_accepted() {
    let bank = Bank::start(Backend::Sqlite).await;
    let cc = bank.cc_token().await;
    let mut h = bank.jose_header();
    h.insert(TAN.into(), json!(bascule_pisp::jws::SANDBOX_TRUST_ANCHOR));
    let reply = bank
        .call(
            Call::post(
                "/domestic-payment-consents",
                &cc,
                &Bank::consent_body(bank.initiation("1.00")),
            )
            .jws(Jws::Header(h)),
        )
        .await;
    assert_eq!(reply.status, 201, "{:#}", reply.body);
}
