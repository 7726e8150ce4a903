//! Ledger-owned arrangements: beneficiaries, standing orders, direct debit mandates and
//! scheduled payments — created here, read through `CoreBanking`, executed by the daily jobs —
//! and the offers the bank makes on an account (created here, read through `CoreBanking`).

use bascule_domain::{
    AccountId, Beneficiary, BeneficiaryId, DirectDebitId, DirectDebitMandate, Frequency,
    MandateStatus, Offer, OfferId, OfferKind, Pence, ScheduleStatus, ScheduledPayment,
    ScheduledPaymentId, SortCodeAccountNumber, StandingOrder, StandingOrderId,
};
use sqlx::any::AnyRow;
use time::{Date, OffsetDateTime};

use crate::rows::{self, date_str, from_micros, get, micros, parse_date};
use crate::{Ledger, LedgerError};

#[derive(Debug, Clone)]
pub struct NewBeneficiary {
    pub account: AccountId,
    pub name: String,
    pub creditor: SortCodeAccountNumber,
    pub reference: Option<String>,
    pub trusted: bool,
}

#[derive(Debug, Clone)]
pub struct NewStandingOrder {
    pub account: AccountId,
    pub frequency: Frequency,
    pub reference: String,
    pub creditor_name: String,
    pub creditor: SortCodeAccountNumber,
    pub amount: Pence,
    pub first_payment_on: Date,
    pub final_payment_on: Option<Date>,
}

#[derive(Debug, Clone)]
pub struct NewDirectDebit {
    pub account: AccountId,
    pub mandate_reference: String,
    pub originator_name: String,
}

#[derive(Debug, Clone)]
pub struct NewScheduledPayment {
    pub account: AccountId,
    pub execute_on: Date,
    pub amount: Pence,
    pub reference: String,
    pub creditor_name: String,
    pub creditor: SortCodeAccountNumber,
}

#[derive(Debug, Clone)]
pub struct NewOffer {
    pub account: AccountId,
    pub kind: OfferKind,
    pub description: String,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub amount: Option<Pence>,
}

impl Ledger {
    async fn require_open(&self, account: &AccountId) -> Result<(), LedgerError> {
        let a = self.account(account).await?;
        if !a.accepts_postings() || a.customer_id.is_none() {
            return Err(LedgerError::AccountNotEnabled(account.clone()));
        }
        Ok(())
    }

    pub async fn add_beneficiary(&self, new: NewBeneficiary) -> Result<Beneficiary, LedgerError> {
        self.require_open(&new.account).await?;
        let b = Beneficiary {
            id: BeneficiaryId::generate(self.ids.as_ref()),
            account_id: new.account,
            name: new.name,
            creditor: new.creditor,
            reference: new.reference,
            trusted: new.trusted,
        };
        self.store
            .write(
                sqlx::query(
                    "INSERT INTO beneficiaries (id, account_id, name, sort_code, account_number, \
             reference, trusted) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(b.id.as_str())
                .bind(b.account_id.as_str())
                .bind(&b.name)
                .bind(b.creditor.sort_code.to_string())
                .bind(b.creditor.account_number.to_string())
                .bind(b.reference.as_deref())
                .bind(i64::from(b.trusted)),
            )
            .await?;
        Ok(b)
    }

    /// An offer on an open account; its description is what the customer reads (OB allows
    /// 500 characters), and it must end after it starts.
    pub async fn add_offer(&self, new: NewOffer) -> Result<Offer, LedgerError> {
        self.require_open(&new.account).await?;
        if new.description.is_empty() || new.description.chars().count() > 500 {
            return Err(LedgerError::Invalid(
                "an offer's description is 1 to 500 characters".into(),
            ));
        }
        if new.ends_at <= new.starts_at {
            return Err(LedgerError::Invalid("an offer ends after it starts".into()));
        }
        let offer = Offer {
            id: OfferId::generate(self.ids.as_ref()),
            account_id: new.account,
            kind: new.kind,
            description: new.description,
            starts_at: new.starts_at,
            ends_at: new.ends_at,
            amount: new.amount,
        };
        self.store
            .write(
                sqlx::query(
                    "INSERT INTO offers (id, account_id, kind, description, starts_at, ends_at, \
             amount) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(offer.id.as_str())
                .bind(offer.account_id.as_str())
                .bind(offer.kind.as_str())
                .bind(&offer.description)
                .bind(micros(offer.starts_at))
                .bind(micros(offer.ends_at))
                .bind(offer.amount.map(|p| p.0)),
            )
            .await?;
        Ok(offer)
    }

    pub async fn add_standing_order(
        &self,
        new: NewStandingOrder,
    ) -> Result<StandingOrder, LedgerError> {
        let id = StandingOrderId::generate(self.ids.as_ref());
        self.add_standing_order_with_id(id, new).await
    }

    /// Creates the standing order `id` unless it exists: adding the same order under the same
    /// id again returns the first and creates nothing (a different order under it →
    /// `IdempotencyConflict`). For callers that must survive a retry (`CoreBanking`).
    pub async fn add_standing_order_with_id(
        &self,
        id: StandingOrderId,
        new: NewStandingOrder,
    ) -> Result<StandingOrder, LedgerError> {
        self.require_open(&new.account).await?;
        if new.amount.0 <= 0 {
            return Err(LedgerError::Invalid(
                "standing order amount must be positive".into(),
            ));
        }
        if new
            .final_payment_on
            .is_some_and(|f| f < new.first_payment_on)
        {
            return Err(LedgerError::Invalid(
                "final payment before the first".into(),
            ));
        }
        let so = StandingOrder {
            id,
            account_id: new.account,
            frequency: new.frequency,
            reference: new.reference,
            creditor_name: new.creditor_name,
            creditor: new.creditor,
            amount: new.amount,
            first_payment_on: new.first_payment_on,
            next_payment_on: Some(new.first_payment_on),
            last_payment_on: None,
            final_payment_on: new.final_payment_on,
            status: ScheduleStatus::Active,
        };
        let inserted = self.store.write(sqlx::query(
            "INSERT INTO standing_orders (id, account_id, frequency, reference, creditor_name, \
             sort_code, account_number, amount, first_payment_on, next_payment_on, \
             final_payment_on, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, 'Active') \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(so.id.as_str())
        .bind(so.account_id.as_str())
        .bind(so.frequency.to_ob_code())
        .bind(&so.reference)
        .bind(&so.creditor_name)
        .bind(so.creditor.sort_code.to_string())
        .bind(so.creditor.account_number.to_string())
        .bind(so.amount.0)
        .bind(date_str(so.first_payment_on))
        .bind(so.final_payment_on.map(date_str))
        ).await?;
        if inserted == 1 {
            return Ok(so);
        }
        let row = sqlx::query("SELECT * FROM standing_orders WHERE id = $1")
            .bind(so.id.as_str())
            .fetch_one(self.store.pool())
            .await?;
        let existing = standing_order(&row)?;
        let same = (
            &existing.account_id,
            existing.frequency,
            &existing.reference,
            &existing.creditor_name,
            existing.creditor,
            existing.amount,
            existing.first_payment_on,
            existing.final_payment_on,
        ) == (
            &so.account_id,
            so.frequency,
            &so.reference,
            &so.creditor_name,
            so.creditor,
            so.amount,
            so.first_payment_on,
            so.final_payment_on,
        );
        if same {
            Ok(existing)
        } else {
            Err(LedgerError::IdempotencyConflict)
        }
    }

    pub async fn add_direct_debit(
        &self,
        new: NewDirectDebit,
    ) -> Result<DirectDebitMandate, LedgerError> {
        self.require_open(&new.account).await?;
        let dd = DirectDebitMandate {
            id: DirectDebitId::generate(self.ids.as_ref()),
            account_id: new.account,
            mandate_reference: new.mandate_reference,
            originator_name: new.originator_name,
            status: MandateStatus::Active,
            last_collected_at: None,
            last_amount: None,
        };
        self.store.write(sqlx::query(
            "INSERT INTO direct_debits (id, account_id, mandate_reference, originator_name, status) \
             VALUES ($1, $2, $3, $4, 'Active')",
        )
        .bind(dd.id.as_str())
        .bind(dd.account_id.as_str())
        .bind(&dd.mandate_reference)
        .bind(&dd.originator_name)
        ).await?;
        Ok(dd)
    }

    pub async fn add_scheduled_payment(
        &self,
        new: NewScheduledPayment,
    ) -> Result<ScheduledPayment, LedgerError> {
        let id = ScheduledPaymentId::generate(self.ids.as_ref());
        self.add_scheduled_payment_with_id(id, new).await
    }

    /// Creates the scheduled payment `id` unless it exists: adding the same payment under the
    /// same id again returns the first and creates nothing (a different payment under it →
    /// `IdempotencyConflict`). For callers that must survive a retry (`CoreBanking`).
    pub async fn add_scheduled_payment_with_id(
        &self,
        id: ScheduledPaymentId,
        new: NewScheduledPayment,
    ) -> Result<ScheduledPayment, LedgerError> {
        self.require_open(&new.account).await?;
        if new.amount.0 <= 0 {
            return Err(LedgerError::Invalid(
                "scheduled payment amount must be positive".into(),
            ));
        }
        let sp = ScheduledPayment {
            id,
            account_id: new.account,
            execute_on: new.execute_on,
            amount: new.amount,
            reference: new.reference,
            creditor_name: new.creditor_name,
            creditor: new.creditor,
            status: ScheduleStatus::Active,
        };
        let inserted = self.store.write(sqlx::query(
            "INSERT INTO scheduled_payments (id, account_id, execute_on, amount, reference, \
             creditor_name, sort_code, account_number, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'Active') ON CONFLICT (id) DO NOTHING",
        )
        .bind(sp.id.as_str())
        .bind(sp.account_id.as_str())
        .bind(date_str(sp.execute_on))
        .bind(sp.amount.0)
        .bind(&sp.reference)
        .bind(&sp.creditor_name)
        .bind(sp.creditor.sort_code.to_string())
        .bind(sp.creditor.account_number.to_string())
        ).await?;
        if inserted == 1 {
            return Ok(sp);
        }
        let row = sqlx::query("SELECT * FROM scheduled_payments WHERE id = $1")
            .bind(sp.id.as_str())
            .fetch_one(self.store.pool())
            .await?;
        let existing = scheduled_payment(&row)?;
        let same = (
            &existing.account_id,
            existing.execute_on,
            existing.amount,
            &existing.reference,
            &existing.creditor_name,
            existing.creditor,
        ) == (
            &sp.account_id,
            sp.execute_on,
            sp.amount,
            &sp.reference,
            &sp.creditor_name,
            sp.creditor,
        );
        if same {
            Ok(existing)
        } else {
            Err(LedgerError::IdempotencyConflict)
        }
    }
}

fn creditor(row: &AnyRow) -> Result<SortCodeAccountNumber, LedgerError> {
    rows::identification(get(row, "sort_code")?, get(row, "account_number")?)?
        .ok_or_else(|| LedgerError::Store(bascule_store::StoreError::corrupt("creditor")))
}

fn corrupt(what: &str) -> LedgerError {
    LedgerError::Store(bascule_store::StoreError::corrupt(what.to_owned()))
}

pub(crate) fn beneficiary(row: &AnyRow) -> Result<Beneficiary, LedgerError> {
    Ok(Beneficiary {
        id: rows::id(row, "id", BeneficiaryId::parse)?,
        account_id: rows::id(row, "account_id", AccountId::parse)?,
        name: get(row, "name")?,
        creditor: creditor(row)?,
        reference: get(row, "reference")?,
        trusted: get::<i64>(row, "trusted")? != 0,
    })
}

pub(crate) fn offer(row: &AnyRow) -> Result<Offer, LedgerError> {
    let kind: String = get(row, "kind")?;
    Ok(Offer {
        id: rows::id(row, "id", OfferId::parse)?,
        account_id: rows::id(row, "account_id", AccountId::parse)?,
        kind: OfferKind::parse(&kind).ok_or_else(|| corrupt("offer kind"))?,
        description: get(row, "description")?,
        starts_at: from_micros(get(row, "starts_at")?)?,
        ends_at: from_micros(get(row, "ends_at")?)?,
        amount: get::<Option<i64>>(row, "amount")?.map(Pence),
    })
}

pub(crate) fn standing_order(row: &AnyRow) -> Result<StandingOrder, LedgerError> {
    let freq: String = get(row, "frequency")?;
    let status: String = get(row, "status")?;
    let date = |col: &str| -> Result<Option<Date>, LedgerError> {
        Ok(get::<Option<String>>(row, col)?
            .map(|d| parse_date(&d))
            .transpose()?)
    };
    Ok(StandingOrder {
        id: rows::id(row, "id", StandingOrderId::parse)?,
        account_id: rows::id(row, "account_id", AccountId::parse)?,
        frequency: Frequency::parse(&freq).map_err(|_| corrupt("frequency"))?,
        reference: get(row, "reference")?,
        creditor_name: get(row, "creditor_name")?,
        creditor: creditor(row)?,
        amount: Pence(get(row, "amount")?),
        first_payment_on: date("first_payment_on")?.ok_or_else(|| corrupt("first payment"))?,
        next_payment_on: date("next_payment_on")?,
        last_payment_on: date("last_payment_on")?,
        final_payment_on: date("final_payment_on")?,
        status: ScheduleStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
    })
}

pub(crate) fn direct_debit(row: &AnyRow) -> Result<DirectDebitMandate, LedgerError> {
    let status: String = get(row, "status")?;
    Ok(DirectDebitMandate {
        id: rows::id(row, "id", DirectDebitId::parse)?,
        account_id: rows::id(row, "account_id", AccountId::parse)?,
        mandate_reference: get(row, "mandate_reference")?,
        originator_name: get(row, "originator_name")?,
        status: MandateStatus::parse(&status).ok_or_else(|| corrupt("mandate status"))?,
        last_collected_at: get::<Option<i64>>(row, "last_collected_at")?
            .map(from_micros)
            .transpose()?,
        last_amount: get::<Option<i64>>(row, "last_amount")?.map(Pence),
    })
}

pub(crate) fn scheduled_payment(row: &AnyRow) -> Result<ScheduledPayment, LedgerError> {
    let status: String = get(row, "status")?;
    Ok(ScheduledPayment {
        id: rows::id(row, "id", ScheduledPaymentId::parse)?,
        account_id: rows::id(row, "account_id", AccountId::parse)?,
        execute_on: parse_date(&get::<String>(row, "execute_on")?)?,
        amount: Pence(get(row, "amount")?),
        reference: get(row, "reference")?,
        creditor_name: get(row, "creditor_name")?,
        creditor: creditor(row)?,
        status: ScheduleStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
    })
}
