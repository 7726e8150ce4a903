//! The shape most AIS resources share (RES/aisp: bulk and account endpoints): served for every
//! account the consent selected (`/{resource}`) and for one of them
//! (`/accounts/{AccountId}/{resource}`), with one permission rule and one answer for the
//! accounts asked. A resource says what it needs and how it reads; the routes are written here.

use std::future::Future;

use axum::extract::{OriginalUri, Path, State};
use axum::routing::get;
use axum::{Json, Router};
use bascule_domain::AccountId;
use bascule_http::Error;
use serde::Serialize;

use super::wire::Envelope;
use crate::{Access, Aisp};

pub(super) trait AccountResource: Send + Sync + 'static {
    /// The resource's path under the base, e.g. `/standing-orders`.
    const PATH: &'static str;
    /// What the consent grants for it (a Basic/Detail level, or nothing more than yes).
    type Grant: Send;
    type Data: Serialize + Send;

    /// The grant, or 403 `UK.OBIE.Resource.ConsentMismatch` naming the permissions needed.
    fn grant(access: &Access) -> Result<Self::Grant, Error>;

    /// The resource for `accounts`, as `grant` allows it to be shown.
    fn read(
        aisp: &Aisp,
        grant: Self::Grant,
        accounts: &[AccountId],
    ) -> impl Future<Output = Result<Self::Data, Error>> + Send;
}

pub(super) fn routes<R: AccountResource>() -> Router<Aisp> {
    Router::new().route(R::PATH, get(bulk::<R>)).route(
        &format!("/accounts/{{AccountId}}{}", R::PATH),
        get(of_account::<R>),
    )
}

async fn bulk<R: AccountResource>(
    State(aisp): State<Aisp>,
    OriginalUri(uri): OriginalUri,
    access: Access,
) -> Result<Json<Envelope<R::Data>>, Error> {
    let grant = R::grant(&access)?;
    let data = R::read(&aisp, grant, access.accounts()).await?;
    Ok(Json(Envelope::single(&aisp, &uri, data)))
}

/// The permission is checked before the account: a consent without it learns nothing about
/// which accounts exist.
async fn of_account<R: AccountResource>(
    State(aisp): State<Aisp>,
    OriginalUri(uri): OriginalUri,
    access: Access,
    Path(account_id): Path<String>,
) -> Result<Json<Envelope<R::Data>>, Error> {
    let grant = R::grant(&access)?;
    let account = access.account(&aisp, &account_id).await?;
    let data = R::read(&aisp, grant, std::slice::from_ref(&account.id)).await?;
    Ok(Json(Envelope::single(&aisp, &uri, data)))
}
