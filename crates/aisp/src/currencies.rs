//! Each account's currency, looked up once per request for every account a reply covers:
//! the resources that print amounts (transactions, statements, standing orders, scheduled
//! payments) share it, whatever the wire version.

use std::collections::HashMap;

use bascule_domain::{AccountId, Currency};
use bascule_http::Error;

use crate::{Aisp, core_error};

/// Each account's currency, for amounts of records that carry none of their own.
pub(crate) async fn currencies(
    aisp: &Aisp,
    accounts: &[AccountId],
) -> Result<HashMap<AccountId, Currency>, Error> {
    Ok(aisp
        .core_banking()
        .accounts(accounts)
        .await
        .map_err(core_error)?
        .into_iter()
        .map(|a| (a.id, a.currency))
        .collect())
}

/// The account's currency; every account has one, sterling only if it somehow went missing.
pub(crate) fn currency_of(
    currencies: &HashMap<AccountId, Currency>,
    account: &AccountId,
) -> Currency {
    currencies.get(account).copied().unwrap_or(Currency::GBP)
}
