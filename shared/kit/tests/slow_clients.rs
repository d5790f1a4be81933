//! Slow and idle clients cannot lock others out of a web front: kit's server, on a real
//! socket, with a trivial strategy behind it. Every strategy's web front is this server.

use kit::client::HttpClient;
use kit::http::{serve_with, Limits};
use kit::{BoxFuture, EmailService, Refusal};
use mailer::Email;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// Accepts every email and sends nothing: the front is what is under test.
struct Accept;

impl EmailService for Accept {
    fn submit(&self, _email: Email) -> BoxFuture<'_, Result<Map<String, Value>, Refusal>> {
        Box::pin(async { Ok(Map::new()) })
    }
}

/// Starts the front with `limits`; returns its base URL and the token that stops it.
async fn front(limits: Limits) -> (String, CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    tokio::spawn(serve_with(
        listener,
        Arc::new(Accept),
        shutdown.clone(),
        limits,
    ));
    (base, shutdown)
}

/// True once the server closed `socket` (a read returns end of file or an error), within
/// `deadline`.
async fn closed_by_server(socket: &mut TcpStream, deadline: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let until = Instant::now() + deadline;
    while Instant::now() < until {
        match tokio::time::timeout(Duration::from_millis(200), socket.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) | Err(_) => {}
        }
    }
    false
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_closed() {
    let limits = Limits {
        max_connections: 64,
        header_timeout: Duration::from_millis(500),
    };
    let (base, shutdown) = front(limits).await;
    let addr = base.trim_start_matches("http://");
    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut socket = TcpStream::connect(addr).await.unwrap();
        socket
            .write_all(b"GET /you@example.com/Hi/the")
            .await
            .unwrap();
        slow.push(socket);
    }
    for socket in &mut slow {
        // The deadline ends a stuck test; the server's own timeout is 500 ms.
        assert!(closed_by_server(socket, Duration::from_secs(20)).await);
    }
    shutdown.cancel();
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let limits = Limits {
        max_connections: 64,
        header_timeout: Duration::from_millis(500),
    };
    let (base, shutdown) = front(limits).await;
    let addr = base.trim_start_matches("http://");
    let mut socket = TcpStream::connect(addr).await.unwrap();
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = vec![0u8; 4096];
    let n = socket.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200"));
    // Kept alive, then silent: the same clock as for headers closes it.
    assert!(closed_by_server(&mut socket, Duration::from_secs(20)).await);
    shutdown.cancel();
}

#[tokio::test]
async fn at_the_connection_cap_a_new_client_waits_and_is_then_served() {
    let limits = Limits {
        max_connections: 8,
        header_timeout: Duration::from_secs(1),
    };
    let (base, shutdown) = front(limits).await;
    let addr = base.trim_start_matches("http://");
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    // Every slot is held by a client that sends nothing; a real client is served once the
    // header timeout has closed them, not locked out for as long as they stay connected.
    let answer = HttpClient::new(Duration::from_secs(20))
        .get(&format!("{base}/you@example.com/Hi/there"))
        .await
        .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.json);
    for socket in &mut idle {
        assert!(closed_by_server(socket, Duration::from_secs(20)).await);
    }
    shutdown.cancel();
}
