use bascule_core_banking::{CoreBanking, TransactionQuery};
use bascule_domain::{AccountType, Counterparty, Merchant, Pence, PostalAddress, ProprietaryCode};
use bascule_ledger::{NewBeneficiary, NewCurrentAccount, NewCustomer, NewPot};
use bascule_testkit::{BACKENDS, test_ledger};
use time::macros::date;

#[tokio::test]
async fn a_customer_can_be_paid_spend_by_card_and_save_in_a_pot() -> anyhow::Result<()> {
    for backend in BACKENDS {
        let (ledger, _clock, _db) = test_ledger(backend).await?;
        let c = ledger
            .create_customer(NewCustomer {
                legal_name: "Ada Lovelace".into(),
                date_of_birth: date!(1990 - 12 - 10),
                email: "ada@example.com".into(),
                phone: "+447700900001".into(),
                address: PostalAddress {
                    lines: vec!["1 St James's Square".into()],
                    town: "London".into(),
                    postcode: "SW1Y 4JU".into(),
                    country: "GB".into(),
                },
            })
            .await?;
        let acc = ledger
            .open_current_account(NewCurrentAccount {
                customer: c.id.clone(),
                account_type: AccountType::Personal,
                nickname: Some("Main".into()),
                overdraft_limit: Pence(0),
                product: None,
            })
            .await?;
        ledger
            .receive_payment(
                &acc.id,
                Pence(250_000),
                Counterparty {
                    name: "Analytical Engines Ltd".into(),
                    sort_code: None,
                    account_number: None,
                },
                Some("SALARY".into()),
                ProprietaryCode::Salary,
                None,
            )
            .await?;
        let pot = ledger
            .open_pot(NewPot {
                parent: acc.id.clone(),
                name: "Holiday".into(),
                goal: Some(Pence(100_000)),
                interest_rate: Some("0.0365".parse()?),
                product: None,
            })
            .await?;
        ledger
            .move_between_pot(&acc.id, &pot.id, Pence(50_000), true, None)
            .await?;
        let auth = ledger
            .authorise_card(
                &acc.id,
                Pence(1_250),
                Merchant {
                    name: "Pret A Manger".into(),
                    category_code: "5812".into(),
                },
            )
            .await?;
        let b = ledger.balances(&[acc.id.clone(), pot.id.clone()]).await?;
        assert_eq!(b[0].booked, Pence(200_000), "{backend:?}");
        assert_eq!(b[0].available, Pence(198_750), "{backend:?}");
        assert_eq!(b[1].booked, Pence(50_000), "{backend:?}");
        ledger.settle_card(&auth, Pence(1_300)).await?;
        let page = ledger
            .transactions(
                &acc.id,
                &TransactionQuery {
                    limit: 50,
                    ..Default::default()
                },
            )
            .await?;
        assert_eq!(page.total, 3);
        assert!(
            page.transactions
                .iter()
                .any(|t| t.id == auth && t.amount == Pence(1_300))
        );
        ledger
            .add_beneficiary(NewBeneficiary {
                account: acc.id.clone(),
                name: "Charles".into(),
                creditor: bascule_domain::SortCodeAccountNumber::parse("20000012345678")?,
                reference: None,
                trusted: true,
            })
            .await?;
        assert_eq!(
            ledger
                .beneficiaries(std::slice::from_ref(&acc.id))
                .await?
                .len(),
            1
        );
        assert!(ledger.audit().await?.is_clean(), "{backend:?}");
    }
    Ok(())
}
