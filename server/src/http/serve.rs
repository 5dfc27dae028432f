//! Serving connections, in place of `axum::serve`, so that slow clients cannot hold the server:
//!
//! - a connection must send each request's headers within `header_timeout`, and may wait no
//!   longer than that between requests (hyper restarts the header timer when a keep-alive
//!   connection goes idle), or it is closed;
//! - a request must send its whole body within `body_timeout` of its headers, or reading it fails
//!   with [`BodyTimedOut`], which the JSON extractor answers with 408;
//! - at most `max_connections` connections are served at once: at the limit the loop stops
//!   accepting until one ends, so further clients wait in the kernel's backlog and the process
//!   never runs out of file descriptors;
//! - on `stop`, accepting stops and the connections finish their requests in flight.
//!
//! HTTP/1 only, as `axum::serve` served it here, so hyper's HTTP/1 builder rather than
//! hyper-util's auto builder: the auto builder's graceful shutdown needs its HTTP/2 half (and so
//! `h2`), and its protocol sniffing reads the first bytes before hyper's header timer starts.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::{BoxError, Router};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use crate::config::ServeConfig;

/// The limits each connection is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edges {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
}

impl Edges {
    pub fn from_config(config: &ServeConfig) -> Edges {
        Edges {
            max_connections: config.max_connections,
            header_timeout: config.header_timeout,
            body_timeout: config.body_timeout,
        }
    }
}

/// Serves `router` on `listener` until `stop` completes, then lets requests in flight finish.
/// Handlers see the peer as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    edges: Edges,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(edges.header_timeout).keep_alive(true);
    let permits = Arc::new(Semaphore::new(edges.max_connections));
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        // The permit comes first: at the limit, nothing more is accepted until a connection ends.
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => {
                permit.expect("the connection semaphore is never closed")
            }
            () = &mut stop => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(error).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        // Small JSON answers go out at once rather than waiting for more to send.
        let _ = stream.set_nodelay(true);
        let service = connection_service(router.clone(), peer, edges.body_timeout);
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "connection closed with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The router for one connection: the peer's address for `ConnectInfo`, and the body deadline.
fn connection_service(
    router: Router,
    peer: SocketAddr,
    body_timeout: Duration,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = axum::response::Response,
    Error = Infallible,
    Future = tower::util::Oneshot<Router, Request<Body>>,
> {
    hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let deadline = Instant::now() + body_timeout;
        let request = request.map(|body| Body::new(BodyDeadline { body, deadline, sleep: None }));
        router.clone().oneshot(request)
    })
}

/// Errors that mean one connection failed before it was accepted are skipped; others (such as
/// running out of file descriptors) are logged and retried after a pause.
async fn accept_failed(error: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused
    ) {
        return;
    }
    tracing::error!(%error, "could not accept a connection; trying again in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Reading a request body failed because it did not arrive within `--body-timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimedOut {}

/// Whether `error`, or an error it was caused by, is [`BodyTimedOut`].
pub fn body_timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(error), |error| error.source()).any(|error| error.is::<BodyTimedOut>())
}

/// A request body that fails with [`BodyTimedOut`] once `deadline` has passed and the next
/// frame has not arrived. The deadline is fixed when the headers arrive, so a client trickling
/// a byte at a time gains nothing. The timer is made on the first read: bodies nobody reads
/// cost nothing.
#[derive(Debug)]
struct BodyDeadline {
    body: Incoming,
    deadline: Instant,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl hyper::body::Body for BodyDeadline {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(BoxError::from)));
        }
        let deadline = this.deadline;
        let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
