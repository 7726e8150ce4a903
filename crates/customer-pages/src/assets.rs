//! The pages' only assets, inside the binary: one stylesheet and the waiting page's script.

use axum::http::header;
use axum::response::IntoResponse;

const CSS: &str = include_str!("../assets/site.css");
const WAIT_JS: &str = include_str!("../assets/wait.js");

pub(crate) async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
}

pub(crate) async fn wait_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        WAIT_JS,
    )
}
