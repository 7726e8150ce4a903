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
