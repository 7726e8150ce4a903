//! Money movements the bank offers: transfers, pot moves, inbound and outbound payments, card
//! authorisations and their settlement, direct debit collections. Each is one `Entry`.

use bascule_core_banking::{Creditor, LedgerEventKind};
use bascule_domain::{
    AccountId, Counterparty, DirectDebitId, Merchant, Pence, ProprietaryCode,
    SortCodeAccountNumber, TransactionId,
};
use sqlx::Row;

use crate::posting::{Settles, insert_transaction, record_event};
use crate::rows::micros;
use crate::{Entry, EntryLine, Ledger, LedgerError, LineDetails, Posted, internal};

fn positive(amount: Pence) -> Result<(), LedgerError> {
    if amount.0 <= 0 {
        return Err(LedgerError::Invalid("amount must be more than zero".into()));
    }
    Ok(())
}

fn line(account: AccountId, amount: Pence, check_funds: bool, details: LineDetails) -> EntryLine {
    EntryLine {
        account,
        amount,
        check_funds,
        honour_disabled: false,
        details,
    }
}

/// Money out of a customer's account: refused beyond what they can spend.
fn debit(account: AccountId, amount: Pence, details: LineDetails) -> EntryLine {
    line(account, -amount, true, details)
}

/// Money into a customer's account.
fn credit(account: AccountId, amount: Pence, details: LineDetails) -> EntryLine {
    line(account, amount, false, details)
}

/// A line of money paid to or by someone, as the customer sees it.
fn with_party(
    description: String,
    reference: Option<String>,
    counterparty: Counterparty,
) -> LineDetails {
    LineDetails {
        description,
        reference,
        counterparty: Some(counterparty),
        ..LineDetails::default()
    }
}

/// A line that says only what happened (a move between a customer's own accounts).
fn described(description: String) -> LineDetails {
    LineDetails {
        description,
        ..LineDetails::default()
    }
}

fn bank_side(code: &'static str, amount: Pence) -> EntryLine {
    line(
        internal::account(code),
        amount,
        false,
        LineDetails::default(),
    )
}

impl Ledger {
    /// Money from one customer account to another of this bank.
    pub async fn transfer(
        &self,
        from: &AccountId,
        to: &AccountId,
        amount: Pence,
        reference: &str,
        idempotency_key: Option<String>,
    ) -> Result<Posted, LedgerError> {
        positive(amount)?;
        if from == to {
            return Err(LedgerError::Invalid(
                "cannot transfer to the same account".into(),
            ));
        }
        let (payer, payee) = (self.account(from).await?, self.account(to).await?);
        let name_of = |a: &bascule_domain::Account| {
            a.nickname
                .clone()
                .unwrap_or_else(|| a.kind.as_str().to_owned())
        };
        let party = |a: &bascule_domain::Account| Counterparty {
            name: name_of(a),
            sort_code: a.identification.map(|i| i.sort_code),
            account_number: a.identification.map(|i| i.account_number),
        };
        let reference = Some(reference.to_owned()).filter(|r| !r.is_empty());
        self.post(Entry {
            idempotency_key,
            code: ProprietaryCode::Transfer,
            lines: vec![
                debit(
                    from.clone(),
                    amount,
                    with_party(
                        format!("Transfer to {}", name_of(&payee)),
                        reference.clone(),
                        party(&payee),
                    ),
                ),
                credit(
                    to.clone(),
                    amount,
                    with_party(
                        format!("Transfer from {}", name_of(&payer)),
                        reference,
                        party(&payer),
                    ),
                ),
            ],
        })
        .await
    }

    /// Moves money between a current account and one of its pots (`into_pot` says which way).
    pub async fn move_between_pot(
        &self,
        parent: &AccountId,
        pot: &AccountId,
        amount: Pence,
        into_pot: bool,
        idempotency_key: Option<String>,
    ) -> Result<Posted, LedgerError> {
        positive(amount)?;
        let pot_account = self.account(pot).await?;
        let pot_name = match &pot_account.pot {
            Some(p) if p.parent == *parent => p.name.clone(),
            _ => return Err(LedgerError::Invalid("not a pot of this account".into())),
        };
        let (from, to) = if into_pot {
            (parent, pot)
        } else {
            (pot, parent)
        };
        let (out_text, in_text) = if into_pot {
            (format!("Moved to {pot_name}"), "Money added".to_owned())
        } else {
            (
                "Money withdrawn".to_owned(),
                format!("Moved from {pot_name}"),
            )
        };
        self.post(Entry {
            idempotency_key,
            code: ProprietaryCode::PotTransfer,
            lines: vec![
                debit(from.clone(), amount, described(out_text)),
                credit(to.clone(), amount, described(in_text)),
            ],
        })
        .await
    }

    /// Money arriving from another bank (salary, a friend's Faster Payment ...).
    pub async fn receive_payment(
        &self,
        to: &AccountId,
        amount: Pence,
        from: Counterparty,
        reference: Option<String>,
        code: ProprietaryCode,
        idempotency_key: Option<String>,
    ) -> Result<Posted, LedgerError> {
        positive(amount)?;
        let description = from.name.clone();
        self.post(Entry {
            idempotency_key,
            code,
            lines: vec![
                bank_side(internal::PAYMENTS_CLEARING, -amount),
                credit(to.clone(), amount, with_party(description, reference, from)),
            ],
        })
        .await
    }

    /// A payment out of an account to a creditor: booked on both sides when the creditor banks
    /// here, otherwise sent through payments clearing.
    pub async fn send_payment(
        &self,
        from: &AccountId,
        creditor: &Creditor,
        amount: Pence,
        reference: &str,
        code: ProprietaryCode,
        idempotency_key: Option<String>,
    ) -> Result<Posted, LedgerError> {
        positive(amount)?;
        let reference = Some(reference.to_owned()).filter(|r| !r.is_empty());
        let payer = self.account(from).await?;
        let payee = self
            .account_by_identification(&creditor.identification)
            .await?;
        let debit = debit(
            from.clone(),
            amount,
            with_party(
                creditor.name.clone(),
                reference.clone(),
                Counterparty {
                    name: creditor.name.clone(),
                    sort_code: Some(creditor.identification.sort_code),
                    account_number: Some(creditor.identification.account_number),
                },
            ),
        );
        // An account holder here sees who paid them, as any bank shows it: the payer's name.
        let payer_name = match (&payee, &payer.customer_id) {
            (Some(_), Some(customer)) => {
                sqlx::query_scalar::<_, String>("SELECT legal_name FROM customers WHERE id = $1")
                    .bind(customer.as_str())
                    .fetch_optional(self.store.pool())
                    .await?
            }
            _ => None,
        }
        .unwrap_or_else(|| "Payment".to_owned());
        let credit = match payee {
            Some(payee) if payee != *from => credit(
                payee,
                amount,
                with_party(
                    payer_name.clone(),
                    reference,
                    Counterparty {
                        name: payer_name,
                        sort_code: payer.identification.map(|i| i.sort_code),
                        account_number: payer.identification.map(|i| i.account_number),
                    },
                ),
            ),
            Some(_) => return Err(LedgerError::Invalid("cannot pay the same account".into())),
            None => bank_side(internal::PAYMENTS_CLEARING, amount),
        };
        self.post(Entry {
            idempotency_key,
            code,
            lines: vec![debit, credit],
        })
        .await
    }

    pub(crate) async fn account_by_identification(
        &self,
        ident: &SortCodeAccountNumber,
    ) -> Result<Option<AccountId>, LedgerError> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT id FROM accounts WHERE sort_code = $1 AND account_number = $2",
        )
        .bind(ident.sort_code.to_string())
        .bind(ident.account_number.to_string())
        .fetch_optional(self.store.pool())
        .await?;
        id.map(|i| AccountId::parse(i).map_err(|_| LedgerError::NotFound("account")))
            .transpose()
    }

    /// A card authorisation: reserves `amount` (it lowers the available balance) and shows a
    /// pending line, without posting anything yet.
    pub async fn authorise_card(
        &self,
        account: &AccountId,
        amount: Pence,
        merchant: Merchant,
    ) -> Result<TransactionId, LedgerError> {
        positive(amount)?;
        let mut tx = self.store.begin().await?;
        let row = sqlx::query(
            "UPDATE accounts SET pending_debits = pending_debits + $1 \
             WHERE id = $2 AND status = 'Enabled' AND kind <> 'Internal' \
               AND booked_balance - pending_debits - $1 + overdraft_limit >= 0 \
             RETURNING id",
        )
        .bind(amount.0)
        .bind(account.as_str())
        .fetch_optional(tx.conn())
        .await?;
        if row.is_none() {
            let status: Option<String> =
                sqlx::query_scalar("SELECT status FROM accounts WHERE id = $1")
                    .bind(account.as_str())
                    .fetch_optional(tx.conn())
                    .await?;
            return Err(match status.as_deref() {
                None => LedgerError::NotFound("account"),
                Some("Enabled") => LedgerError::InsufficientFunds,
                Some(_) => LedgerError::AccountNotEnabled(account.clone()),
            });
        }
        let id = TransactionId::generate(self.ids.as_ref());
        let now = self.clock.now();
        let details = LineDetails {
            description: merchant.name.clone(),
            merchant: Some(merchant),
            ..LineDetails::default()
        };
        insert_transaction(
            &mut tx,
            &id,
            account,
            None,
            "Pending",
            -amount,
            now,
            ProprietaryCode::CardPurchase,
            &details,
            None,
        )
        .await?;
        let seq = record_event(
            &mut tx,
            LedgerEventKind::TransactionPending,
            account,
            Some(&id),
            micros(now),
        )
        .await?;
        tx.commit().await?;
        self.notify(Some(seq));
        Ok(id)
    }

    /// Settles a pending card authorisation, possibly for a different amount: the hold is
    /// released and the settled amount is posted on the same transaction id.
    pub async fn settle_card(
        &self,
        transaction: &TransactionId,
        settled: Pence,
    ) -> Result<Posted, LedgerError> {
        positive(settled)?;
        let mut tx = self.store.begin().await?;
        let (account, _held) = self.take_hold(&mut tx, transaction).await?;
        let entry = Entry {
            idempotency_key: Some(format!("card-settle:{transaction}")),
            code: ProprietaryCode::CardPurchase,
            lines: vec![
                // The merchant is paid whatever the balance now says, and even if the account
                // was disabled since (not closed): the bank honours what it authorised.
                EntryLine {
                    honour_disabled: true,
                    ..line(account.clone(), -settled, false, LineDetails::default())
                },
                bank_side(internal::CARD_SETTLEMENT, settled),
            ],
        };
        let (posted, seq) = self
            .post_in(
                &mut tx,
                &entry,
                Some(Settles {
                    account: &account,
                    transaction,
                }),
            )
            .await?;
        tx.commit().await?;
        self.notify(seq);
        Ok(posted)
    }

    /// Drops a pending authorisation that will never settle: the hold goes, the line stays as Released.
    pub async fn release_card(&self, transaction: &TransactionId) -> Result<(), LedgerError> {
        let mut tx = self.store.begin().await?;
        let (account, _) = self.take_hold(&mut tx, transaction).await?;
        sqlx::query("UPDATE transactions SET status = 'Released' WHERE id = $1")
            .bind(transaction.as_str())
            .execute(tx.conn())
            .await?;
        let seq = record_event(
            &mut tx,
            LedgerEventKind::TransactionReleased,
            &account,
            Some(transaction),
            micros(self.clock.now()),
        )
        .await?;
        tx.commit().await?;
        self.notify(Some(seq));
        Ok(())
    }

    async fn take_hold(
        &self,
        tx: &mut bascule_store::WriteTx,
        transaction: &TransactionId,
    ) -> Result<(AccountId, Pence), LedgerError> {
        // Claim the pending line with a (no-op) UPDATE rather than a plain SELECT: it row-locks
        // the line, so on PostgreSQL a concurrent settle or release of the same authorisation
        // waits here, re-reads the status once we commit, and finds nothing pending — instead
        // of taking the hold off the balance a second time.
        let row = sqlx::query(
            "UPDATE transactions SET status = 'Pending' WHERE id = $1 AND status = 'Pending' \
             RETURNING account_id, amount",
        )
        .bind(transaction.as_str())
        .fetch_optional(tx.conn())
        .await?
        .ok_or(LedgerError::NotFound("pending transaction"))?;
        let account = crate::rows::id(&row, "account_id", AccountId::parse)?;
        let held = Pence(row.try_get("amount")?);
        sqlx::query("UPDATE accounts SET pending_debits = pending_debits - $1 WHERE id = $2")
            .bind(held.0)
            .bind(account.as_str())
            .execute(tx.conn())
            .await?;
        Ok((account, held))
    }

    /// An originator collects under a direct debit mandate. Direct debits are paid even into
    /// an unarranged overdraft only if funds allow; otherwise the collection is refused.
    pub async fn collect_direct_debit(
        &self,
        mandate: &DirectDebitId,
        amount: Pence,
        idempotency_key: Option<String>,
    ) -> Result<Posted, LedgerError> {
        positive(amount)?;
        let row = sqlx::query(
            "SELECT account_id, mandate_reference, originator_name FROM direct_debits \
             WHERE id = $1 AND status = 'Active'",
        )
        .bind(mandate.as_str())
        .fetch_optional(self.store.pool())
        .await?
        .ok_or(LedgerError::NotFound("active direct debit mandate"))?;
        let account = crate::rows::id(&row, "account_id", AccountId::parse)?;
        let originator: String = row.try_get("originator_name")?;
        let reference: String = row.try_get("mandate_reference")?;
        let mut tx = self.store.begin().await?;
        let entry = Entry {
            idempotency_key,
            code: ProprietaryCode::DirectDebit,
            lines: vec![
                debit(
                    account.clone(),
                    amount,
                    with_party(
                        originator.clone(),
                        Some(reference),
                        Counterparty {
                            name: originator,
                            sort_code: None,
                            account_number: None,
                        },
                    ),
                ),
                bank_side(internal::PAYMENTS_CLEARING, amount),
            ],
        };
        let (posted, seq) = self.post_in(&mut tx, &entry, None).await?;
        if !posted.replayed {
            sqlx::query(
                "UPDATE direct_debits SET last_collected_at = $1, last_amount = $2 WHERE id = $3",
            )
            .bind(micros(posted.posted_at))
            .bind(amount.0)
            .bind(mandate.as_str())
            .execute(tx.conn())
            .await?;
        }
        tx.commit().await?;
        self.notify(seq);
        Ok(posted)
    }
}
