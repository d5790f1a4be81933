//! A small HTTP/1.1 client for tests and the load harness: keep-alive connections, JSON
//! answers, a timeout per request.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::time::Duration;

/// What came back: the status and the body parsed as JSON (`Value::Null` if it was not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub json: Value,
}

/// A pooled client. Cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    inner: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
}

impl Default for HttpClient {
    fn default() -> Self {
        HttpClient::new(Duration::from_secs(30))
    }
}

impl HttpClient {
    pub fn new(timeout: Duration) -> HttpClient {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let inner = Client::builder(TokioExecutor::new())
            // Below the server's idle timeout (`http::Limits::header_timeout`), so the client
            // gives up an idle connection before the server closes it under a new request.
            .pool_idle_timeout(Duration::from_secs(5))
            .build(connector);
        HttpClient { inner, timeout }
    }

    pub async fn get(&self, url: &str) -> anyhow::Result<Answer> {
        self.request(Method::GET, url, Bytes::new()).await
    }

    pub async fn post_json(&self, url: &str, body: &Value) -> anyhow::Result<Answer> {
        self.request(Method::POST, url, Bytes::from(serde_json::to_vec(body)?))
            .await
    }

    pub async fn post_raw(&self, url: &str, body: impl Into<Bytes>) -> anyhow::Result<Answer> {
        self.request(Method::POST, url, body.into()).await
    }

    async fn request(&self, method: Method, url: &str, body: Bytes) -> anyhow::Result<Answer> {
        let mut builder = Request::builder().method(method).uri(url);
        if !body.is_empty() {
            builder = builder.header("content-type", "application/json");
        }
        let request = builder.body(Full::new(body))?;
        let response = tokio::time::timeout(self.timeout, self.inner.request(request))
            .await
            .map_err(|_| anyhow::anyhow!("no answer from {url} within {:?}", self.timeout))??;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Answer { status, json })
    }
}
