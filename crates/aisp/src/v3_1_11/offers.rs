//! `/offers` and `/accounts/{AccountId}/offers` (v3.1.11, `OBReadOffer1`, needs `ReadOffers`).
//! The bank makes no offers (the core banking holds none), so the answer is the empty list the
//! spec asks for when there is no data (RW §HTTP Status Codes: 200 with an empty array), after
//! the same permission and account checks as any resource.

use axum::Json;
use axum::Router;
use axum::extract::{OriginalUri, Path, State};
use axum::http::Uri;
use axum::routing::get;
use bascule_domain::aisp::Permission;
use bascule_http::Error;
use serde::Serialize;

use super::wire::Envelope;
use crate::{Access, Aisp};

pub(super) fn routes() -> Router<Aisp> {
    Router::new()
        .route("/offers", get(bulk))
        .route("/accounts/{AccountId}/offers", get(of_account))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct OfferData {
    /// `OBReadOffer1.Data.Offer[]`: always present, empty.
    offer: Vec<serde_json::Value>,
}

fn require(access: &Access) -> Result<(), Error> {
    access.require_that(
        access.permissions.contains(Permission::ReadOffers),
        "ReadOffers",
    )
}

fn respond(aisp: &Aisp, uri: &Uri) -> Json<Envelope<OfferData>> {
    Json(Envelope::single(aisp, uri, OfferData { offer: Vec::new() }))
}

async fn bulk(
    State(aisp): State<Aisp>,
    OriginalUri(uri): OriginalUri,
    access: Access,
) -> Result<Json<Envelope<OfferData>>, Error> {
    require(&access)?;
    Ok(respond(&aisp, &uri))
}

async fn of_account(
    State(aisp): State<Aisp>,
    OriginalUri(uri): OriginalUri,
    access: Access,
    Path(account_id): Path<String>,
) -> Result<Json<Envelope<OfferData>>, Error> {
    require(&access)?;
    access.account(&aisp, &account_id).await?;
    Ok(respond(&aisp, &uri))
}
