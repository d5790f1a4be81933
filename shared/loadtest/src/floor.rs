//! The floor: a bare hyper server that does no work, run by `loadtest hello`.
//!
//! It answers `POST /emails` with `202 {}` after reading the body, `GET /healthz` and
//! `GET /parked` as every strategy does, and nothing else: no parsing, no validation, no
//! Redis, no logging per request, no mail. The harness starts it like a strategy (the
//! catalog's [`crate::catalog::FLOOR`]) in the same run as the others, so every report carries
//! what HTTP alone costs on this machine at that moment, and a strategy's latency can be read
//! as a ratio to it.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use tokio::net::TcpListener;

/// Serves the floor on `addr` until the process is stopped.
pub async fn serve(addr: &str) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    eprintln!("hyper-hello listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors, most likely: wait for some to close.
                eprintln!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(answer))
                .await;
        });
    }
}

/// The floor's whole behaviour: read the request, answer without doing anything.
async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (head, body) = request.into_parts();
    // Read, so that a kept-alive connection is ready for the next request, as a strategy's is.
    let _ = body.collect().await;
    let (status, json): (StatusCode, &'static [u8]) = match (&head.method, head.uri.path()) {
        (&Method::POST, "/emails") => (StatusCode::ACCEPTED, b"{}\n"),
        (&Method::GET, "/healthz") => (StatusCode::OK, b"{\"status\":\"ok\"}\n"),
        (&Method::GET, "/parked") => (StatusCode::OK, b"{\"count\":0,\"parked\":[]}\n"),
        _ => (
            StatusCode::NOT_FOUND,
            b"{\"error\":\"the floor serves POST /emails only\"}\n",
        ),
    };
    let response = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(json)))
        .expect("a static header is valid");
    Ok(response)
}
