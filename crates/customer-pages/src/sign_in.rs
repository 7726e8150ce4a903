//! Signing into the bank app. A real bank puts its own login behind [`AppSignIn`]; the demo's
//! is [`Passcodes`]: pick a customer, type their passcode (PBKDF2-HMAC-SHA256 hashes with a
//! salt each, compared in constant time by aws-lc).

use std::num::NonZeroU32;
use std::sync::Arc;

use async_trait::async_trait;
use bascule_domain::{Clock, CustomerId};
use bascule_store::Store;
use bascule_store::sqlx::{self, Row};

use crate::PageError;

/// A customer offered on the sign-in page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInChoice {
    pub customer: CustomerId,
    pub name: String,
}

/// How a customer signs into the bank app.
#[async_trait]
pub trait AppSignIn: Send + Sync {
    /// The customers the sign-in page lists (the demo's; a bank's own login lists none and
    /// asks for its own identifier instead).
    async fn choices(&self) -> Result<Vec<SignInChoice>, PageError>;
    /// The customer, when `secret` is theirs.
    async fn verify(&self, customer: &str, secret: &str) -> Result<Option<CustomerId>, PageError>;
}

const ITERATIONS: u32 = 210_000;

/// The demo bank's passcodes, in the server's database.
#[derive(Clone)]
pub struct Passcodes {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl Passcodes {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Sets (or replaces) `customer`'s passcode; `name` is how the sign-in page lists them.
    pub async fn set(
        &self,
        customer: &CustomerId,
        name: &str,
        passcode: &str,
    ) -> Result<(), PageError> {
        let mut salt = [0u8; 16];
        aws_lc_rs::rand::fill(&mut salt)
            .map_err(|_| PageError::Internal("no randomness".into()))?;
        let derived = derive(&salt, ITERATIONS, passcode)?;
        let now = self.clock.now().unix_timestamp();
        let mut tx = self.store.begin().await?;
        tx.execute(
            sqlx::query("DELETE FROM app_passcodes WHERE customer_id = $1").bind(customer.as_str()),
        )
        .await?;
        tx.execute(
            sqlx::query(
                "INSERT INTO app_passcodes (customer_id, display_name, salt, hash, iterations, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(customer.as_str())
            .bind(name)
            .bind(bascule_jose::base64url_encode(&salt))
            .bind(bascule_jose::base64url_encode(&derived))
            .bind(i64::from(ITERATIONS))
            .bind(now),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn derive(salt: &[u8], iterations: u32, passcode: &str) -> Result<[u8; 32], PageError> {
    let iterations =
        NonZeroU32::new(iterations).ok_or_else(|| PageError::Internal("iterations".into()))?;
    let mut out = [0u8; 32];
    aws_lc_rs::pbkdf2::derive(
        aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt,
        passcode.as_bytes(),
        &mut out,
    );
    Ok(out)
}

#[async_trait]
impl AppSignIn for Passcodes {
    async fn choices(&self) -> Result<Vec<SignInChoice>, PageError> {
        let rows = sqlx::query(
            "SELECT customer_id, display_name FROM app_passcodes ORDER BY display_name, customer_id",
        )
        .fetch_all(self.store.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SignInChoice {
                    customer: CustomerId::parse(r.try_get::<String, _>("customer_id")?)
                        .map_err(|_| PageError::Internal("stored customer id".into()))?,
                    name: r.try_get("display_name")?,
                })
            })
            .collect()
    }

    async fn verify(&self, customer: &str, secret: &str) -> Result<Option<CustomerId>, PageError> {
        let row = sqlx::query(
            "SELECT customer_id, salt, hash, iterations FROM app_passcodes WHERE customer_id = $1",
        )
        .bind(customer)
        .fetch_optional(self.store.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let decode = |column: &str| -> Result<Vec<u8>, PageError> {
            bascule_jose::base64url_decode(&row.try_get::<String, _>(column)?)
                .map_err(|_| PageError::Internal("stored passcode".into()))
        };
        let (salt, expected) = (decode("salt")?, decode("hash")?);
        let iterations = u32::try_from(row.try_get::<i64, _>("iterations")?)
            .ok()
            .and_then(NonZeroU32::new)
            .ok_or_else(|| PageError::Internal("stored iterations".into()))?;
        let matches = aws_lc_rs::pbkdf2::verify(
            aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
            iterations,
            &salt,
            secret.as_bytes(),
            &expected,
        )
        .is_ok();
        if !matches {
            return Ok(None);
        }
        CustomerId::parse(row.try_get::<String, _>("customer_id")?)
            .map(Some)
            .map_err(|_| PageError::Internal("stored customer id".into()))
    }
}
