//! `GET /metrics` (issue 20): the server's numbers in the OpenMetrics text format Prometheus
//! scrapes, through the Prometheus project's own `prometheus-client` crate.
//!
//! - `qol_http_requests_total{method, route, status}` and `qol_http_request_duration_seconds`
//!   (a histogram per method and route): counted by a middleware for every request, the route
//!   as its template (`/api/v1/patients/{study_id}`), never the path a caller typed (which would
//!   put study ids in the labels and let anyone grow them without bound);
//! - read from the database at each scrape, so every server of a study reports the same:
//!   `qol_submissions_stored`, `qol_open_alert_cards{tier}`, `qol_outbox_pending`,
//!   `qol_outbox_failed`; and this server's pool: `qol_db_pool_connections`,
//!   `qol_db_pool_idle`.
//!
//! Who may read it: with `--metrics-token` set, whoever sends `Authorization: Bearer <token>`;
//! without one, only a caller on this machine (loopback) that came through no proxy (a request
//! with `X-Forwarded-For` or `Forwarded` may be a remote client relayed by a proxy on this
//! machine). Anyone else gets 404, as if there were no such page.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::AppState;
use super::client_addr::ClientAddr;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TierLabels {
    tier: String,
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 33 s, doubling.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The registry and the metrics the middleware and the scrape write.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    submissions: Gauge,
    open_cards: Family<TierLabels, Gauge>,
    outbox_pending: Gauge,
    outbox_failed: Gauge,
    pool_connections: Gauge,
    pool_idle: Gauge,
    token: Option<String>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("token", &self.token.as_ref().map(|_| "set")).finish_non_exhaustive()
    }
}

impl Metrics {
    pub fn new(token: Option<String>) -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("qol");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        let submissions = Gauge::default();
        let open_cards = Family::<TierLabels, Gauge>::default();
        let (outbox_pending, outbox_failed) = (Gauge::default(), Gauge::default());
        let (pool_connections, pool_idle) = (Gauge::default(), Gauge::default());
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by method and route",
            latency.clone(),
        );
        registry.register(
            "submissions_stored",
            "Submissions in the database (every version)",
            submissions.clone(),
        );
        registry.register("open_alert_cards", "Alert cards not yet resolved, by tier", open_cards.clone());
        registry.register("outbox_pending", "Messages waiting to be sent", outbox_pending.clone());
        registry.register("outbox_failed", "Messages given up on after their retries", outbox_failed.clone());
        registry.register(
            "db_pool_connections",
            "Database connections this server holds",
            pool_connections.clone(),
        );
        registry.register("db_pool_idle", "Of those, idle", pool_idle.clone());
        Arc::new(Metrics {
            registry,
            requests,
            latency,
            submissions,
            open_cards,
            outbox_pending,
            outbox_failed,
            pool_connections,
            pool_idle,
            token: token.filter(|t| !t.is_empty()),
        })
    }

    /// Whether this request may read the metrics.
    fn allowed(&self, client: std::net::IpAddr, headers: &HeaderMap) -> bool {
        match &self.token {
            Some(token) => headers
                .get(header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.strip_prefix("Bearer "))
                .is_some_and(|given| constant_time_eq(given.as_bytes(), token.as_bytes())),
            None => {
                client.is_loopback()
                    && !headers.contains_key("x-forwarded-for")
                    && !headers.contains_key(header::FORWARDED)
            }
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Counts and times every request, by its route's template.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(other)".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = RouteLabels { method, route };
    metrics.latency.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method: labels.method,
            route: labels.route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// `GET /metrics`.
pub async fn scrape(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
) -> Response {
    let metrics = &state.metrics;
    if !metrics.allowed(client, &headers) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match state.clinic.metrics_snapshot().await {
        Ok(snapshot) => {
            metrics.submissions.set(snapshot.submissions);
            for tier in ["red", "amber", "info"] {
                let open = snapshot.open_cards.iter().find(|(t, _)| t == tier).map_or(0, |(_, n)| *n);
                metrics.open_cards.get_or_create(&TierLabels { tier: tier.to_owned() }).set(open);
            }
            metrics.outbox_pending.set(snapshot.outbox_pending);
            metrics.outbox_failed.set(snapshot.outbox_failed);
            metrics.pool_connections.set(snapshot.pool_connections);
            metrics.pool_idle.set(snapshot.pool_idle);
        }
        Err(error) => {
            // The request counts still tell something; the database numbers stay as last read.
            tracing::warn!(%error, "metrics: the database could not be read");
        }
    }
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &metrics.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}
