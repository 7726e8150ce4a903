//! The bank, Grace (with her Holiday pot and her app passcode), Alan, and a TPP asking for
//! account access or a payment, with the steps every journey test takes.

use bascule_domain::{AccountId, Reauthentication, SortCodeAccountNumber};
use bascule_store::Backend;
use bascule_testkit::Tpp;
use bascule_testkit::api::{Api, Call, Reply, Session, consent_id};
use bascule_testkit::tpp::approve;
use bascule_testkit::web::{Page, WebClient};
use serde_json::{Value, json};

pub use bascule_testkit::api::{AIS, PIS};
pub const PASSCODE: &str = "246810";

pub struct Bank {
    pub session: Session,
    /// Grace's Everyday account, as she types it.
    pub everyday: SortCodeAccountNumber,
}

impl std::ops::Deref for Bank {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}

impl Bank {
    pub async fn start(backend: Backend) -> Bank {
        Self::start_with(backend, AIS).await
    }

    pub async fn start_with(backend: Backend, api: Api) -> Bank {
        Self::start_configured(backend, api, |_| {}).await
    }

    /// The bank under `policy` for reauthentication.
    pub async fn start_policy(backend: Backend, policy: Reauthentication) -> Bank {
        Self::start_configured(backend, AIS, |c| c.reauthentication = policy).await
    }

    pub async fn start_configured(
        backend: Backend,
        api: Api,
        adjust: impl FnOnce(&mut bascule_server::Config),
    ) -> Bank {
        let session = Session::start_with(backend, api, "Budget Buddy Ltd", true, adjust)
            .await
            .expect("the bank");
        let grace = &session.grace;
        session
            .app
            .state()
            .passcodes
            .set(&grace.customer.id, "Grace Hopper", PASSCODE)
            .await
            .expect("Grace's passcode");
        let everyday = grace.everyday.identification.expect("Everyday's number");
        Bank { session, everyday }
    }

    /// A new account-access consent of the fixture TPP asking for `permissions`.
    pub async fn account_consent(&self, permissions: &[&str]) -> String {
        let token = self.tpp.client_credentials(&self.app, "accounts").await;
        let reply = self
            .call(
                Call::new(reqwest::Method::POST, "/account-access-consents", &token).json(json!({
                    "Data": {"Permissions": permissions},
                    "Risk": {}
                })),
            )
            .await;
        assert_eq!(reply.status, 201, "{:#}", reply.body);
        consent_id(&reply.body)
    }

    /// A new account-access consent of `tpp` reading accounts and balances, ending at
    /// `expires` (RFC 3339) when given.
    pub async fn account_consent_of(&self, tpp: &Tpp, expires: Option<&str>) -> String {
        let token = tpp.client_credentials(&self.app, "accounts").await;
        let mut data = json!({"Permissions": ["ReadAccountsDetail", "ReadBalances"]});
        if let Some(e) = expires {
            data["ExpirationDateTime"] = json!(e);
        }
        let reply = self
            .call(
                Call::new(reqwest::Method::POST, "/account-access-consents", &token)
                    .json(json!({"Data": data, "Risk": {}}))
                    .via(tpp),
            )
            .await;
        assert_eq!(reply.status, 201, "{:#}", reply.body);
        consent_id(&reply.body)
    }

    /// `tpp` connects to Grace's `accounts` (sandbox approval): consent id and token response.
    pub async fn connect(
        &self,
        tpp: &Tpp,
        expires: Option<&str>,
        accounts: &[AccountId],
    ) -> (String, Value) {
        let consent = self.account_consent_of(tpp, expires).await;
        let tokens = tpp
            .authorise(
                &self.app,
                &consent,
                "accounts",
                approve(&self.grace.customer.id, accounts),
            )
            .await;
        (consent, tokens)
    }

    /// `GET /accounts` as `tpp` with `token`.
    pub async fn accounts_as(&self, tpp: &Tpp, token: &str) -> Reply {
        self.call(Call::get("/accounts", token).via(tpp)).await
    }

    /// A new domestic payment consent of £12.50 to Alan, from `debtor` when given.
    pub async fn payment_consent(&self, debtor: Option<&SortCodeAccountNumber>) -> String {
        let token = self.tpp.client_credentials(&self.app, "payments").await;
        let alan = self.alan.account.identification.expect("Alan's number");
        let mut initiation = json!({
            "InstructionIdentification": "ACME412",
            "EndToEndIdentification": "FRESCO.21302.GFX.20",
            "InstructedAmount": {"Amount": "12.50", "Currency": "GBP"},
            "CreditorAccount": {
                "SchemeName": "UK.OBIE.SortCodeAccountNumber",
                "Identification": alan.to_string(),
                "Name": "Alan Turing"
            },
            "RemittanceInformation": {"Reference": "DINNER-42"}
        });
        if let Some(d) = debtor {
            initiation["DebtorAccount"] = json!({
                "SchemeName": "UK.OBIE.SortCodeAccountNumber",
                "Identification": d.to_string(),
                "Name": "Grace Hopper"
            });
        }
        let reply = PIS
            .send(
                &self.app,
                &self.tpp,
                Call::post(
                    "/domestic-payment-consents",
                    &token,
                    &json!({"Data": {"Initiation": initiation}, "Risk": {}}),
                ),
            )
            .await;
        assert_eq!(reply.status, 201, "{:#}", reply.body);
        consent_id(&reply.body)
    }

    /// `tpp` sets up a payment order from Grace's Everyday with `initiation`: the consent at
    /// `{orders}-consents` (`orders` is `/domestic-standing-orders` or
    /// `/domestic-scheduled-payments`), Grace's approval, then the order. Its id.
    pub async fn payment_order(&self, tpp: &Tpp, orders: &str, initiation: Value) -> String {
        let consents = format!("{}-consents", orders.trim_end_matches('s'));
        let risk = json!({"PaymentContextCode": "PartyToParty"});
        let cc = tpp.client_credentials(&self.app, "payments").await;
        let body =
            json!({"Data": {"Permission": "Create", "Initiation": initiation}, "Risk": risk});
        let created = PIS
            .send(&self.app, tpp, Call::post(&consents, &cc, &body))
            .await;
        assert_eq!(created.status, 201, "{:#}", created.body);
        let consent = consent_id(&created.body);
        let g = &self.grace;
        let tokens = tpp
            .authorise(
                &self.app,
                &consent,
                "payments",
                approve(&g.customer.id, std::slice::from_ref(&g.everyday.id)),
            )
            .await;
        let access = tokens["access_token"].as_str().expect("a payments token");
        let body = json!({"Data": {"ConsentId": consent, "Initiation": initiation}, "Risk": risk});
        let made = PIS
            .send(&self.app, tpp, Call::post(orders, access, &body))
            .await;
        assert_eq!(made.status, 201, "{:#}", made.body);
        PIS.assert_valid("POST", orders, &made);
        assert_eq!(made.body["Data"]["Status"], "InitiationCompleted");
        let data = made.body["Data"].as_object().expect("Data");
        data.iter()
            .find(|(k, _)| k.starts_with("Domestic") && k.ends_with("Id"))
            .and_then(|(_, v)| v.as_str())
            .expect("the order's id")
            .to_owned()
    }

    /// A standing order paying Alan `amount` monthly on the 15th from 15 January 2026, until
    /// `until` (RFC 3339) or with no end date.
    pub fn monthly_to_alan(&self, amount: &str, until: Option<&str>) -> Value {
        let alan = self.alan.account.identification.expect("Alan's number");
        let mut initiation = json!({
            "Frequency": "IntrvlMnthDay:01:15",
            "Reference": "RENT",
            "FirstPaymentDateTime": "2026-01-15T06:00:00+00:00",
            "FirstPaymentAmount": {"Amount": amount, "Currency": "GBP"},
            "CreditorAccount": {
                "SchemeName": "UK.OBIE.SortCodeAccountNumber",
                "Identification": alan.to_string(),
                "Name": "Alan Turing"
            }
        });
        if let Some(last) = until {
            initiation["FinalPaymentDateTime"] = json!(last);
        }
        initiation
    }

    /// A scheduled payment to Alan of `amount` on `when` (RFC 3339).
    pub fn scheduled_to_alan(&self, amount: &str, when: &str) -> Value {
        let alan = self.alan.account.identification.expect("Alan's number");
        json!({
            "InstructionIdentification": "SCHED-1",
            "EndToEndIdentification": "E2E-SCHED-1",
            "RequestedExecutionDateTime": when,
            "InstructedAmount": {"Amount": amount, "Currency": "GBP"},
            "CreditorAccount": {
                "SchemeName": "UK.OBIE.SortCodeAccountNumber",
                "Identification": alan.to_string(),
                "Name": "Alan Turing"
            },
            "RemittanceInformation": {"Reference": "INVOICE-77"}
        })
    }

    /// The TPP's authorisation URL for `consent_id` at `path` (`/authorize`, `/app/authorize`).
    pub fn authorization_url(&self, path: &str, consent_id: &str, scope: &str) -> String {
        self.tpp
            .authorization_url(&self.app, path, consent_id, scope, None)
            .to_string()
    }

    /// A web journey for `consent_id` started in `browser`: the identification page.
    pub async fn start_journey(&self, browser: &WebClient, consent_id: &str, scope: &str) -> Page {
        let start = browser
            .get(&self.authorization_url("/authorize", consent_id, scope))
            .await;
        assert!(start.redirect().starts_with("/consent/"), "{start:?}");
        browser.follow(start).await
    }

    /// Submits the identification form of `page` (the identification page).
    pub async fn identify(
        &self,
        browser: &WebClient,
        page: &Page,
        name: &str,
        sort_code: &str,
        account_number: &str,
    ) -> Page {
        let journey = journey_path(page);
        browser
            .post(
                &format!("{journey}/identify"),
                &[
                    ("csrf", &page.csrf()),
                    ("full_name", name),
                    ("sort_code", sort_code),
                    ("account_number", account_number),
                ],
            )
            .await
    }

    /// How many approval requests the bank has sent (to anyone).
    pub async fn approval_requests(&self) -> i64 {
        use bascule_store::sqlx::{self, Row};
        sqlx::query("SELECT COUNT(*) FROM approval_requests")
            .fetch_one(self.app.state().store.pool())
            .await
            .unwrap()
            .get::<i64, _>(0)
    }

    /// Grace's phone, signed into the app.
    pub async fn graces_app(&self) -> WebClient {
        let phone = WebClient::new(&self.app);
        let home = phone
            .sign_into_app(self.grace.customer.id.as_str(), PASSCODE, "/app")
            .await;
        home.assert_says("Hello Grace");
        phone
    }

    /// The first request in the app's inbox: its approval screen.
    pub async fn open_first_request(&self, phone: &WebClient) -> (String, Page) {
        let inbox = phone.get("/app").await;
        let start = inbox
            .body
            .find("href=\"/app/approvals/")
            .unwrap_or_else(|| panic!("no request in the inbox: {}", inbox.body))
            + "href=\"".len();
        let end = start + inbox.body[start..].find('"').unwrap();
        let path = inbox.body[start..end].to_owned();
        let page = phone.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        (path, page)
    }

    /// The consent as the bank holds it.
    pub async fn consent(&self, id: &str) -> bascule_domain::Consent {
        self.app
            .state()
            .authz
            .consents()
            .get(id)
            .await
            .unwrap()
            .unwrap()
    }

    pub async fn read(&self, path: &str, token: &str) -> Reply {
        self.get(path, token).await
    }
}

/// `/consent/{id}` of a journey page `page` (from its first form's action).
pub fn journey_path(page: &Page) -> String {
    let marker = "action=\"/consent/";
    let start = page
        .body
        .find(marker)
        .unwrap_or_else(|| panic!("not a journey page: {}", page.body))
        + marker.len();
    let rest = &page.body[start..];
    let id = &rest[..rest.find(['/', '"']).unwrap()];
    format!("/consent/{id}")
}

/// The body of a reply as JSON.
pub fn data(reply: &Reply) -> &Value {
    &reply.body["Data"]
}
