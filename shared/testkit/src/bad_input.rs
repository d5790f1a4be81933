//! The web contract's bad-input table, run against every strategy's web front: each case
//! must get `400 {"error": ...}` and send nothing.

use kit::client::HttpClient;
use std::time::Duration;

/// One malformed request of the contract's bad-input table.
#[derive(Debug, Clone)]
pub struct BadRequestCase {
    pub what: &'static str,
    pub post_body: Option<&'static [u8]>,
    pub path: String,
}

/// The bad-input table every strategy's web front must answer with `400 {"error": ...}`,
/// sending nothing: invalid escapes, invalid UTF-8, missing segments, empty or malformed
/// `to`, CR/LF (header injection), a 60 KB path, and bodies that are not an email.
pub fn bad_requests() -> Vec<BadRequestCase> {
    let get = |what, path: &str| BadRequestCase {
        what,
        post_body: None,
        path: path.to_string(),
    };
    let post = |what, body: &'static [u8]| BadRequestCase {
        what,
        post_body: Some(body),
        path: "/emails".to_string(),
    };
    vec![
        get("truncated escape", "/you@example.com/Hello/%E0%A4%A"),
        get("non-hex escape", "/you@example.com/%zzHello/World"),
        get("signed escape", "/you@example.com/Hello/%+9World"),
        get("invalid UTF-8", "/you@example.com/%FF%FEHello/World"),
        get("missing text", "/you@example.com/Hello"),
        get("missing subject and text", "/you@example.com"),
        get("empty to", "//Hello/World"),
        get("to is not an address", "/not-an-address/Hello/World"),
        get("to with two @", "/a@b@example.com/Hello/World"),
        get(
            "to with a quoted comma",
            "/%22a@example.com,b@example.com%22@example.com/Hello/World",
        ),
        get("to with an IP literal", "/a@%5B127.0.0.1%5D/Hello/World"),
        get(
            "encoded word in subject",
            "/you@example.com/=%3Futf-8%3Fq%3Fhello=0D=0ABcc:=20evil@evil.com=00%3F=/World",
        ),
        get(
            "CR/LF in to",
            "/you@example.com%0D%0ABcc:%20evil@example.com/Hello/World",
        ),
        get(
            "CR/LF in subject",
            "/you@example.com/Hello%0D%0ABcc:%20evil@example.com/World",
        ),
        get(
            "LF in text",
            "/you@example.com/Hello/World%0A.%0AMAIL%20FROM",
        ),
        get(
            "60 KB path",
            &format!("/you@example.com/Hello/{}", "x".repeat(60 * 1024)),
        ),
        post("non-JSON body", b"to=you@example.com&subject=Hello"),
        post(
            "JSON without text",
            br#"{"to":"you@example.com","subject":"Hello"}"#,
        ),
        post(
            "JSON with a bad address",
            br#"{"to":"nobody","subject":"Hello","text":"World"}"#,
        ),
        post(
            "JSON with CR/LF in subject",
            br#"{"to":"you@example.com","subject":"Hi\r\nBcc: evil@example.com","text":"World"}"#,
        ),
    ]
}

/// Sends every [`bad_requests`] case to `base` (`http://127.0.0.1:PORT`) and returns a
/// description of each answer that was not `400` with a JSON `error` string. Then sends a
/// 100 KB path over a raw socket: past 64 KB the HTTP layer (the `http` crate caps a URI
/// at 64 KB) refuses it with `414` before any handler runs; that must be a 4xx, not a crash.
pub async fn check_bad_requests(base: &str) -> Vec<String> {
    let client = HttpClient::default();
    let mut failures = Vec::new();
    let huge = format!("/you@example.com/Hello/{}", "x".repeat(100 * 1024));
    match raw_get_status(base, &huge).await {
        Ok(status) if (400..500).contains(&status) => {}
        Ok(status) => failures.push(format!("100 KB path: got {status}")),
        Err(e) => failures.push(format!("100 KB path: {e}")),
    }
    for case in bad_requests() {
        let url = format!("{base}{}", case.path);
        let answer = match case.post_body {
            Some(body) => client.post_raw(&url, body).await,
            None => client.get(&url).await,
        };
        match answer {
            Ok(answer) if answer.status == 400 && answer.json["error"].is_string() => {}
            Ok(answer) => failures.push(format!(
                "{}: got {} {}",
                case.what, answer.status, answer.json
            )),
            Err(e) => failures.push(format!("{}: request failed: {e}", case.what)),
        }
    }
    failures
}

/// `GET path` over a plain socket, for requests a well-behaved client refuses to build.
/// Returns the status code of the answer.
pub async fn raw_get_status(base: &str, path: &str) -> anyhow::Result<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let authority = base
        .strip_prefix("http://")
        .unwrap_or(base)
        .trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(authority).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    // The server may answer and close before it read the whole request: ignore write errors.
    let _ = stream.write_all(request.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no HTTP status in {:?}",
                answer.chars().take(80).collect::<String>()
            )
        })
}
