//! `/beneficiaries` and `/accounts/{AccountId}/beneficiaries` (v3.1.11, `OBReadBeneficiary5`,
//! needs `ReadBeneficiariesBasic|Detail`). Basic shows that a payee exists (id, type,
//! reference); Detail adds who and where: the `CreditorAccount` with its name
//! (RES/aisp/beneficiaries §Permission Codes).

use axum::Router;
use bascule_domain::aisp::Level;
use bascule_domain::{AccountId, Beneficiary};
use bascule_http::Error;
use serde::Serialize;

use super::per_account::{self, AccountResource};
use super::wire::CashAccount;
use crate::{Access, Aisp, core_error};

pub(super) fn routes() -> Router<Aisp> {
    per_account::routes::<Beneficiaries>()
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct BeneficiaryData {
    beneficiary: Vec<ObBeneficiary5>,
}

/// `OBBeneficiary5`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ObBeneficiary5 {
    account_id: String,
    beneficiary_id: String,
    beneficiary_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
    /// Only with ReadBeneficiariesDetail.
    #[serde(skip_serializing_if = "Option::is_none")]
    creditor_account: Option<CashAccount>,
}

fn map(b: &Beneficiary, level: Level) -> ObBeneficiary5 {
    ObBeneficiary5 {
        account_id: b.account_id.to_string(),
        beneficiary_id: b.id.to_string(),
        beneficiary_type: if b.trusted { "Trusted" } else { "Ordinary" },
        reference: b
            .reference
            .as_deref()
            .map(|r| r.chars().take(35).collect::<String>())
            .filter(|r| !r.trim().is_empty()),
        creditor_account: (level == Level::Detail).then(|| {
            let name =
                Some(b.name.chars().take(350).collect::<String>()).filter(|n| !n.trim().is_empty());
            CashAccount::sort_code_account_number(&b.creditor, name)
        }),
    }
}

/// `OBReadBeneficiary5`.
struct Beneficiaries;

impl AccountResource for Beneficiaries {
    const PATH: &'static str = "/beneficiaries";
    type Grant = Level;
    type Data = BeneficiaryData;

    fn grant(access: &Access) -> Result<Level, Error> {
        access.require(
            access.permissions.beneficiaries(),
            "ReadBeneficiariesBasic or ReadBeneficiariesDetail",
        )
    }

    async fn read(
        aisp: &Aisp,
        level: Level,
        accounts: &[AccountId],
    ) -> Result<BeneficiaryData, Error> {
        let found = aisp
            .core_banking()
            .beneficiaries(accounts)
            .await
            .map_err(core_error)?;
        let beneficiary = found.iter().map(|b| map(b, level)).collect();
        Ok(BeneficiaryData { beneficiary })
    }
}
