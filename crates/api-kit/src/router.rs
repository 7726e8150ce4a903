//! What every Open Banking API route is wrapped in: the request-header rules
//! (`bascule_http::ob_headers`: RW §Request Headers) and errors rendered as `OBErrorResponse1`.

use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use bascule_http::ob_headers::check_request_headers;
use bascule_http::{ErrorFormat, error_format};

/// `routes` with the Open Banking request-header checks and error format. Layers added after
/// (e.g. PIS response signing) wrap these, so they see the rendered error bodies.
pub fn open_banking<A: Clone + Send + Sync + 'static>(routes: Router<A>) -> Router<A> {
    routes
        .route_layer(from_fn(check_request_headers))
        .route_layer(from_fn_with_state(ErrorFormat::OpenBanking, error_format))
}
