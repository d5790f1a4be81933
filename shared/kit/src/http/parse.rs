//! Turning a request into a valid [`Email`], or into a 400 that says why not.
//!
//! The original demo used `decodeURI`, which leaves `%40` undecoded, turns a missing
//! segment into the string `"undefined"`, and throws (crashing the process) on a bad
//! escape. Here every escape is decoded, and everything else is a clear 400.

use mailer::Email;
use serde::Deserialize;

/// Longest path we try to read as an email. Longer ones are refused before decoding.
pub const MAX_PATH: usize = 8 * 1024;

/// Why a request is not an email. Shown to the client as `{"error": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadRequest {
    #[error("expected /<to>/<subject>/<text> (escape a '/' inside a field as %2F)")]
    Shape,
    #[error("the path is too long ({0} bytes, at most {MAX_PATH})")]
    PathTooLong(usize),
    #[error("invalid percent escape in the {0} segment")]
    BadEscape(&'static str),
    #[error("the {0} segment is not valid UTF-8 once decoded")]
    NotUtf8(&'static str),
    #[error("the body is not a JSON object with string fields to, subject and text: {0}")]
    BadJson(String),
    #[error(transparent)]
    Invalid(#[from] mailer::EmailError),
}

const SEGMENTS: [&str; 3] = ["to", "subject", "text"];

/// Parses `/<to>/<subject>/<text>`; each segment is percent-decoded, strictly.
pub fn email_from_path(path: &str) -> Result<Email, BadRequest> {
    if path.len() > MAX_PATH {
        return Err(BadRequest::PathTooLong(path.len()));
    }
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    if segments.len() != 3 {
        return Err(BadRequest::Shape);
    }
    let mut decoded = Vec::with_capacity(3);
    for (raw, name) in segments.iter().zip(SEGMENTS) {
        let bytes = percent_decode(raw).ok_or(BadRequest::BadEscape(name))?;
        decoded.push(String::from_utf8(bytes).map_err(|_| BadRequest::NotUtf8(name))?);
    }
    let [to, subject, text]: [String; 3] = decoded.try_into().expect("three segments");
    Ok(Email::new(to, subject, text)?)
}

/// Parses `{"to": ..., "subject": ..., "text": ...}`. Unknown fields are refused too, so
/// that a typo (`"subjet"`) is an error instead of an empty subject.
pub fn email_from_json(body: &[u8]) -> Result<Email, BadRequest> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        to: String,
        subject: String,
        text: String,
    }
    let body: Body =
        serde_json::from_slice(body).map_err(|e| BadRequest::BadJson(e.to_string()))?;
    Ok(Email::new(body.to, body.subject, body.text)?)
}

/// Decodes every `%XX` escape; `None` when a `%` is not followed by two hex digits.
/// `+` stays `+`: this is a path, not a form.
pub fn percent_decode(input: &str) -> Option<Vec<u8>> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            // Digit by digit: `u8::from_str_radix("+9", 16)` is Ok(9), so `%+9` would pass.
            let high = hex_digit(*bytes.get(i + 1)?)?;
            let low = hex_digit(*bytes.get(i + 2)?)?;
            out.push(high << 4 | low);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

fn hex_digit(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).map(|digit| digit as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_escape_including_at_sign() {
        let email = email_from_path("/you%40example.com/Hello%20there/W%C3%B6rld").unwrap();
        assert_eq!(email.to, "you@example.com");
        assert_eq!(email.subject, "Hello there");
        assert_eq!(email.text, "Wörld");
    }

    #[test]
    fn refuses_bad_escapes_and_bad_utf8() {
        assert_eq!(
            email_from_path("/a@example.com/%E0%A4%A/x"),
            Err(BadRequest::BadEscape("subject"))
        );
        assert_eq!(
            email_from_path("/a@example.com/s/%zz"),
            Err(BadRequest::BadEscape("text"))
        );
        assert_eq!(
            email_from_path("/a@example.com/%FF%FE/x"),
            Err(BadRequest::NotUtf8("subject"))
        );
        // A sign is not a hex digit.
        assert_eq!(
            email_from_path("/a@example.com/s/x%+9y"),
            Err(BadRequest::BadEscape("text"))
        );
    }

    #[test]
    fn refuses_wrong_shapes() {
        for path in ["/", "/a@example.com", "/a@example.com/s", "/a/b/c/d"] {
            assert_eq!(email_from_path(path), Err(BadRequest::Shape), "{path}");
        }
    }

    #[test]
    fn refuses_json_that_is_not_an_email() {
        assert!(matches!(
            email_from_json(b"not json"),
            Err(BadRequest::BadJson(_))
        ));
        assert!(matches!(
            email_from_json(br#"{"to":"a@example.com","subjet":"s","text":"t"}"#),
            Err(BadRequest::BadJson(_))
        ));
        assert!(email_from_json(br#"{"to":"a@example.com","subject":"s","text":"t"}"#).is_ok());
    }
}
