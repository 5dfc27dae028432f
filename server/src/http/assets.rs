//! Serving the built app from `dist/`: hashed assets under `/assets/` are cached for a year and
//! served precompressed (brotli or gzip, as `cargo xtask dist` writes them); `index.html` is
//! `no-cache`; `/staff` and every path under it get `staff.html` (the staff console's bundle);
//! any other path that is not an API route gets `index.html` (the patient app), so client routes
//! work on reload.

use std::path::Path;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use tower_http::services::{ServeDir, ServeFile};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

pub fn router(dist_dir: &Path) -> Router {
    let index = dist_dir.join("index.html");
    if !index.is_file() {
        tracing::warn!(dist = %dist_dir.display(), "no built app found; run `cargo xtask dist`");
        return Router::new().fallback(missing_app);
    }
    let assets = ServeDir::new(dist_dir.join("assets")).precompressed_br().precompressed_gzip();
    let shell = ServeDir::new(dist_dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(ServeFile::new(index).precompressed_br().precompressed_gzip());
    let staff_page = dist_dir.join("staff.html");
    let staff = ServeFile::new(&staff_page).precompressed_br().precompressed_gzip();
    Router::new()
        .nest_service("/assets", assets)
        .route_service("/staff", staff.clone())
        .route_service("/staff/{*rest}", staff)
        .fallback_service(shell)
        .layer(middleware::from_fn(cache_headers))
}

async fn cache_headers(request: Request<Body>, next: Next) -> Response {
    let hashed = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    if response.status() == StatusCode::OK || response.status() == StatusCode::NOT_MODIFIED {
        let value = if hashed { IMMUTABLE } else { "no-cache" };
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}

async fn missing_app() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        Html(
            "<!doctype html><title>qol</title><p>The qol server is running, but the web app is \
             not built. Run <code>cargo xtask dist</code>, or start everything with \
             <code>cargo xtask run</code>.</p>",
        ),
    )
}
