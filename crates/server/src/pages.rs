//! The pages people read. For now the front page of the bank; the consent journeys and the
//! customer's dashboard arrive as their own areas.

use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;

use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn home(State(state): State<AppState>) -> Html<String> {
    let name = escape(&state.config.bank.name);
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{name} – Open Banking</title></head><body><main>\
         <h1>{name}</h1>\
         <p>This bank runs <strong>Bascule</strong>: regulated third parties read accounts and \
         start payments here only with the customer's consent, under the UK Open Banking \
         standard and its FAPI security profile.</p>\
         <ul>\
         <li><a href=\"/health/ready\">Readiness</a> and <a href=\"/metrics\">metrics</a></li>\
         <li><a href=\"/sandbox/tls/client-certificate\">What the bank sees of your client \
         certificate</a> (needs a TPP transport certificate)</li>\
         </ul></main></body></html>\n"
    ))
}
