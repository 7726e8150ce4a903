//! Rows stored before the bank's terms were (up to migration 0008, payment consents' details
//! and the payment and order rows held the v3.1.11 Initiation and Risk as JSON), re-encoded as
//! [`crate::order`] terms. SQL cannot parse a decimal or an RFC 3339 instant portably, so this
//! runs in Rust: once per database, in one transaction, claimed by deleting the marker row
//! migration 0009 leaves (a second node's claim waits for the first and then finds nothing).
//! A row that already holds terms is left alone, so running it again changes nothing.

use bascule_domain::ConsentKind;
use bascule_http::Error;
use bascule_store::sqlx::{self, Row};
use bascule_store::{Store, WriteTx};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::terms::{risk_value, yes_no};
use crate::db_error;
use crate::initiation::{DomesticInitiation, Risk};
use crate::order::{ConsentTerms, DomesticTerms, ScheduledTerms, StandingOrderTerms, Terms};
use crate::schedule_initiation::{ScheduledInitiation, StandingOrderInitiation};

/// A payment consent's details as releases before 0009 wrote them.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", bound(deserialize = "I: DeserializeOwned"))]
struct LegacyConsent<I> {
    initiation: I,
    risk: Risk,
    #[serde(default)]
    read_refund_account: Option<String>,
    #[serde(default)]
    authorisation: Option<Value>,
    #[serde(default)]
    sca_support_data: Option<Value>,
}

/// The v3.1.11 Initiation of a kind, as stored before.
trait Legacy: DeserializeOwned {
    type Terms: Terms;
    fn terms(&self) -> Result<Self::Terms, Error>;
}

impl Legacy for DomesticInitiation {
    type Terms = DomesticTerms;
    fn terms(&self) -> Result<DomesticTerms, Error> {
        self.to_terms()
    }
}

impl Legacy for ScheduledInitiation {
    type Terms = ScheduledTerms;
    fn terms(&self) -> Result<ScheduledTerms, Error> {
        self.to_terms()
    }
}

impl Legacy for StandingOrderInitiation {
    type Terms = StandingOrderTerms;
    fn terms(&self) -> Result<StandingOrderTerms, Error> {
        self.to_terms()
    }
}

/// `raw` as terms JSON, or None when it already is.
fn consent_terms<I: Legacy>(raw: &str) -> Result<Option<String>, Error> {
    if ConsentTerms::<I::Terms>::from_json(raw).is_ok() {
        return Ok(None);
    }
    let old: LegacyConsent<I> = serde_json::from_str(raw).map_err(Error::internal)?;
    let terms = ConsentTerms {
        terms: old.initiation.terms()?,
        risk: risk_value(&old.risk)?,
        read_refund_account: yes_no(old.read_refund_account.as_deref()),
        authorisation: old.authorisation,
        sca_support_data: old.sca_support_data,
    };
    terms.to_json().map(Some)
}

fn row_terms<I: Legacy>(raw: &str) -> Result<Option<String>, Error> {
    if serde_json::from_str::<I::Terms>(raw).is_ok() {
        return Ok(None);
    }
    let old: I = serde_json::from_str(raw).map_err(Error::internal)?;
    serde_json::to_string(&old.terms()?)
        .map(Some)
        .map_err(Error::internal)
}

/// Re-encodes `column` of every row `select` returns (id, kind, value) with `convert`.
async fn convert_rows(
    tx: &mut WriteTx,
    select: &'static str,
    update: &'static str,
    convert: impl Fn(&str, &str) -> Result<Option<String>, Error>,
) -> Result<usize, Error> {
    let rows = sqlx::query(select)
        .fetch_all(&mut *tx.conn())
        .await
        .map_err(db_error)?;
    let mut changed = 0;
    for row in rows {
        let id: String = row.try_get(0).map_err(db_error)?;
        let kind: String = row.try_get(1).map_err(db_error)?;
        let value: String = row.try_get(2).map_err(db_error)?;
        match convert(&kind, &value) {
            Ok(Some(new)) => {
                sqlx::query(update)
                    .bind(new)
                    .bind(&id)
                    .execute(&mut *tx.conn())
                    .await
                    .map_err(db_error)?;
                changed += 1;
            }
            Ok(None) => {}
            // Unreadable before as after: reading that one row keeps failing, the rest serve.
            Err(e) => tracing::warn!(error = ?e, id, "stored payment terms not converted"),
        }
    }
    Ok(changed)
}

/// Converts every stored row still in the v3.1.11 format; returns how many were rewritten.
pub(crate) async fn convert(store: &Store) -> Result<usize, Error> {
    let mut tx = store.begin().await.map_err(db_error)?;
    let claimed = sqlx::query("DELETE FROM pisp_terms_conversion")
        .execute(&mut *tx.conn())
        .await
        .map_err(db_error)?
        .rows_affected();
    if claimed == 0 {
        return Ok(0);
    }
    let mut n = convert_rows(
        &mut tx,
        "SELECT id, kind, details FROM consents \
         WHERE kind IN ('DomesticPayment', 'DomesticScheduledPayment', 'DomesticStandingOrder')",
        "UPDATE consents SET details = $1 WHERE id = $2",
        |kind, raw| match ConsentKind::parse(kind) {
            Some(ConsentKind::DomesticPayment) => consent_terms::<DomesticInitiation>(raw),
            Some(ConsentKind::DomesticScheduledPayment) => {
                consent_terms::<ScheduledInitiation>(raw)
            }
            _ => consent_terms::<StandingOrderInitiation>(raw),
        },
    )
    .await?;
    n += convert_rows(
        &mut tx,
        "SELECT id, 'DomesticPayment', terms FROM pisp_domestic_payments",
        "UPDATE pisp_domestic_payments SET terms = $1 WHERE id = $2",
        |_, raw| row_terms::<DomesticInitiation>(raw),
    )
    .await?;
    n += convert_rows(
        &mut tx,
        "SELECT id, kind, terms FROM pisp_domestic_schedules",
        "UPDATE pisp_domestic_schedules SET terms = $1 WHERE id = $2",
        |kind, raw| match kind {
            "StandingOrder" => row_terms::<StandingOrderInitiation>(raw),
            _ => row_terms::<ScheduledInitiation>(raw),
        },
    )
    .await?;
    tx.commit().await.map_err(db_error)?;
    if n > 0 {
        tracing::info!(rows = n, "stored payment initiations converted to terms");
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use bascule_store::sqlx::AnyPool;
    use bascule_store::sqlx::migrate::Migrator;
    use bascule_store::{Backend, StoreOptions};
    use bascule_testkit::test_database;
    use serde::Serialize;

    use super::*;

    const CREDITOR: &str = r#"{"SchemeName":"UK.OBIE.SortCodeAccountNumber","Identification":"04000412345678","Name":"Alan Turing"}"#;

    /// Payment-row Initiations exactly as releases before 0009 wrote them (the wire structs'
    /// field order, absent options skipped), with spellings that are not canonical.
    fn domestic() -> String {
        format!(
            r#"{{"InstructionIdentification":"ACME412","EndToEndIdentification":"E2E-1","LocalInstrument":"UK.OBIE.FPS","InstructedAmount":{{"Amount":"010.50","Currency":"GBP"}},"DebtorAccount":{{"SchemeName":"UK.OBIE.SortCodeAccountNumber","Identification":"11223387654321"}},"CreditorAccount":{CREDITOR},"RemittanceInformation":{{"Unstructured":"ops 5120101","Reference":"FRESCO-101"}},"SupplementaryData":{{"a":1}}}}"#
        )
    }

    fn scheduled() -> String {
        format!(
            r#"{{"InstructionIdentification":"S-1","RequestedExecutionDateTime":"2026-02-01T06:06:06Z","InstructedAmount":{{"Amount":"5","Currency":"GBP"}},"CreditorAccount":{CREDITOR}}}"#
        )
    }

    fn standing_order() -> String {
        format!(
            r#"{{"Frequency":"IntrvlMnthDay:01:15","Reference":"RENT","NumberOfPayments":"3","FirstPaymentDateTime":"2026-01-15T06:00:00+00:00","RecurringPaymentDateTime":"2026-02-15T06:00:00.000+00:00","FirstPaymentAmount":{{"Amount":"100.00","Currency":"GBP"}},"CreditorAccount":{CREDITOR}}}"#
        )
    }

    async fn insert_consent(pool: &AnyPool, id: &str, kind: &str, details: String) {
        // pc-1's payment committed, then a crash lost its consumption (releases before 0009
        // consumed after the commit): left Authorised.
        let status = if id == "pc-1" {
            "Authorised"
        } else {
            "Consumed"
        };
        sqlx::query(
            "INSERT INTO consents (id, kind, client_id, status, created_at, \
             status_updated_at, expires_at, accounts, details) \
             VALUES ($1, $2, 'client-1', $3, 1, 1, NULL, '', $4)",
        )
        .bind(id)
        .bind(kind)
        .bind(status)
        .bind(details)
        .execute(pool)
        .await
        .unwrap();
    }

    async fn column(store: &Store, sql: &'static str, id: &str) -> String {
        sqlx::query_scalar(sql)
            .bind(id)
            .fetch_one(store.pool())
            .await
            .unwrap()
    }

    fn wire<W: Serialize>(w: &W) -> String {
        serde_json::to_string(w).unwrap()
    }

    async fn legacy_rows_read_back_after_the_conversion(backend: Backend) {
        let db = test_database(backend).await.unwrap();
        // A database as releases before 0009 left it: migrated to 0008, rows in v3.1.11 JSON.
        sqlx::any::install_default_drivers();
        let pool = AnyPool::connect(&db.url).await.unwrap();
        let dir = format!(
            "{}/../store/migrations/{}",
            env!("CARGO_MANIFEST_DIR"),
            backend.as_str()
        );
        Migrator::new(std::path::Path::new(&dir))
            .await
            .unwrap()
            .run_to(8, &pool)
            .await
            .unwrap();
        let order_consent =
            |i: String| format!(r#"{{"Permission":"Create","Initiation":{i},"Risk":{{}}}}"#);
        for (id, kind, details) in [
            (
                "pc-1",
                "DomesticPayment",
                format!(
                    r#"{{"Initiation":{},"Risk":{{"PaymentContextCode":"PartyToParty"}},"ReadRefundAccount":"Yes"}}"#,
                    domestic()
                ),
            ),
            (
                "sc-1",
                "DomesticScheduledPayment",
                order_consent(scheduled()),
            ),
            (
                "so-1",
                "DomesticStandingOrder",
                order_consent(standing_order()),
            ),
        ] {
            insert_consent(&pool, id, kind, details).await;
        }
        sqlx::query(
            "INSERT INTO pisp_domestic_payments (id, client_id, consent_id, customer_id, \
             debtor_account_id, amount_pence, initiation, status, limit_day, limit_reserved, \
             created_at, status_updated_at) \
             VALUES ('p-1', 'client-1', 'pc-1', 'c-1', 'a-1', 1050, $1, 'Pending', 0, 1, 7, 7)",
        )
        .bind(domestic())
        .execute(&pool)
        .await
        .unwrap();
        for (id, consent, kind, initiation) in [
            ("o-1", "sc-1", "ScheduledPayment", scheduled()),
            ("o-2", "so-1", "StandingOrder", standing_order()),
        ] {
            sqlx::query(
                "INSERT INTO pisp_domestic_schedules (id, kind, client_id, consent_id, \
                 customer_id, debtor_account_id, initiation, status, created_at, \
                 status_updated_at) \
                 VALUES ($1, $2, 'client-1', $3, 'c-1', 'a-1', $4, 'InitiationPending', 1, 1)",
            )
            .bind(id)
            .bind(kind)
            .bind(consent)
            .bind(initiation)
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;

        // This release: migration 0009, then the conversion.
        let store = Store::connect(&db.url, &StoreOptions::default())
            .await
            .unwrap();
        let consumed: (String, i64) =
            sqlx::query_as("SELECT status, status_updated_at FROM consents WHERE id = 'pc-1'")
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(consumed, ("Consumed".to_owned(), 7));
        assert_eq!(convert(&store).await.unwrap(), 6);

        let details = |id| column(&store, "SELECT details FROM consents WHERE id = $1", id);
        let payment = ConsentTerms::<DomesticTerms>::from_json(&details("pc-1").await).unwrap();
        assert_eq!(payment.read_refund_account, Some(true));
        assert_eq!(payment.terms.transfer.amount.pence().unwrap().0, 1050);
        assert_eq!(
            wire(&DomesticInitiation::from_terms(&payment.terms)),
            domestic()
        );
        assert_eq!(
            wire(&super::super::terms::risk_of(&payment.risk).unwrap()),
            r#"{"PaymentContextCode":"PartyToParty"}"#
        );
        let sp = ConsentTerms::<ScheduledTerms>::from_json(&details("sc-1").await).unwrap();
        assert_eq!(
            wire(&ScheduledInitiation::from_terms(&sp.terms)),
            scheduled()
        );
        let so = ConsentTerms::<StandingOrderTerms>::from_json(&details("so-1").await).unwrap();
        assert_eq!(
            wire(&StandingOrderInitiation::from_terms(&so.terms)),
            standing_order()
        );
        assert_eq!(
            so.terms.final_payment_on().unwrap(),
            Some(time::macros::date!(2026 - 03 - 15))
        );

        let row = |sql, id| column(&store, sql, id);
        let p: DomesticTerms = serde_json::from_str(
            &row(
                "SELECT terms FROM pisp_domestic_payments WHERE id = $1",
                "p-1",
            )
            .await,
        )
        .unwrap();
        assert_eq!(p, payment.terms);
        let o: StandingOrderTerms = serde_json::from_str(
            &row(
                "SELECT terms FROM pisp_domestic_schedules WHERE id = $1",
                "o-2",
            )
            .await,
        )
        .unwrap();
        assert_eq!(
            wire(&StandingOrderInitiation::from_terms(&o)),
            standing_order()
        );

        // Once per database: the marker is gone; put back, nothing is in the old format.
        assert_eq!(convert(&store).await.unwrap(), 0);
        store
            .write(sqlx::query(
                "INSERT INTO pisp_terms_conversion (pending) VALUES (1)",
            ))
            .await
            .unwrap();
        assert_eq!(convert(&store).await.unwrap(), 0);
        assert_eq!(
            ConsentTerms::<DomesticTerms>::from_json(&details("pc-1").await).unwrap(),
            payment
        );
        store.close().await;
    }

    #[tokio::test]
    async fn legacy_rows_read_back_after_the_conversion_on_sqlite() {
        legacy_rows_read_back_after_the_conversion(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn legacy_rows_read_back_after_the_conversion_on_postgres() {
        legacy_rows_read_back_after_the_conversion(Backend::Postgres).await;
    }
}
