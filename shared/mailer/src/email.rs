//! The email every strategy sends, and the checks that keep bad input out of SMTP.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Longest subject we accept: RFC 5322 caps a header line at 998 characters.
pub const MAX_SUBJECT_LEN: usize = 998;
/// Longest body we accept. The demo sends short notes; a larger body is a mistake.
pub const MAX_TEXT_LEN: usize = 64 * 1024;
/// Longest address: RFC 5321 limits a forward path to 256 octets, 254 of them the address.
pub const MAX_ADDRESS_LEN: usize = 254;

/// One email, as a web request asks for it. Fields are public for reading; build one
/// with [`Email::new`] so that it is always valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// Why an email was refused. The message is shown to the HTTP client as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("`to` is empty")]
    EmptyTo,
    #[error("`to` is not an email address: {0}")]
    BadAddress(String),
    #[error("`{0}` contains a line break or control character")]
    ControlCharacter(&'static str),
    #[error("`{0}` contains an RFC 2047 encoded word (=?charset?Q|B?...?=), which a mail reader would decode: send the text itself")]
    EncodedWord(&'static str),
    #[error("`{field}` is too long ({len} > {max} bytes)")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
}

impl Email {
    /// Validates and builds an email.
    ///
    /// CR and LF are refused in every field: in `to` and `subject` they would let a caller
    /// write their own headers (header injection). lettre encodes headers safely, but the
    /// cheapest header to defend is the one that never gets in.
    pub fn new(
        to: impl Into<String>,
        subject: impl Into<String>,
        text: impl Into<String>,
    ) -> Result<Email, EmailError> {
        let email = Email {
            to: to.into(),
            subject: subject.into(),
            text: text.into(),
        };
        email.validate()?;
        Ok(email)
    }

    /// Checks an email that came from elsewhere (a queue, an event log) before sending it.
    pub fn validate(&self) -> Result<(), EmailError> {
        if self.to.is_empty() {
            return Err(EmailError::EmptyTo);
        }
        for (field, value) in [
            ("to", &self.to),
            ("subject", &self.subject),
            ("text", &self.text),
        ] {
            if value.chars().any(|c| c.is_control() && c != '\t') {
                return Err(EmailError::ControlCharacter(field));
            }
        }
        check_len("to", &self.to, MAX_ADDRESS_LEN)?;
        check_len("subject", &self.subject, MAX_SUBJECT_LEN)?;
        check_len("text", &self.text, MAX_TEXT_LEN)?;
        lettre::Address::from_str(&self.to)
            .map_err(|e| EmailError::BadAddress(format!("{:?}: {e}", self.to)))?;
        // The SMTP client parses `to` once more, as a mailbox, when it builds the message;
        // some addresses pass the first parse and fail that one (a quoted local part with a
        // comma, an IP literal). Apply the client's rule here, at the door, so such a mail
        // is a 400 now instead of a 200 that can never be sent.
        lettre::message::Mailbox::from_str(&self.to)
            .map_err(|e| EmailError::BadAddress(format!("{:?} cannot be sent: {e}", self.to)))?;
        // A subject is a header, and a receiver decodes RFC 2047 encoded words in it
        // (`=?utf-8?q?a=0D=0Ab?=` is "a", CR, LF, "b"): the refused characters would come back
        // through the encoding. lettre sends a plain ASCII subject as it is, so an encoded
        // word typed by the client would reach the receiver as one. Refuse it.
        if has_encoded_word(&self.subject) {
            return Err(EmailError::EncodedWord("subject"));
        }
        Ok(())
    }
}

/// Whether `value` holds something a mail reader decodes as an RFC 2047 encoded word:
/// `=?charset?B|Q?text?=`.
fn has_encoded_word(value: &str) -> bool {
    let mut rest = value;
    while let Some(start) = rest.find("=?") {
        rest = &rest[start + 2..];
        let mut parts = rest.splitn(3, '?');
        let (Some(charset), Some(encoding), Some(tail)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        if !charset.is_empty() && matches!(encoding, "b" | "B" | "q" | "Q") && tail.contains("?=") {
            return true;
        }
    }
    false
}

fn check_len(field: &'static str, value: &str, max: usize) -> Result<(), EmailError> {
    if value.len() > max {
        return Err(EmailError::TooLong {
            field,
            len: value.len(),
            max,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_plain_address() {
        assert!(Email::new("you@example.com", "Hello", "World").is_ok());
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        for to in ["", "you", "you@", "@example.com", "a b@example.com"] {
            assert!(Email::new(to, "s", "t").is_err(), "{to:?} was accepted");
        }
    }

    #[test]
    fn refuses_line_breaks_in_every_field() {
        assert_eq!(
            Email::new("a@example.com\r\nBcc: x@evil.com", "s", "t"),
            Err(EmailError::ControlCharacter("to"))
        );
        assert_eq!(
            Email::new("a@example.com", "s\r\nBcc: x@evil.com", "t"),
            Err(EmailError::ControlCharacter("subject"))
        );
        assert_eq!(
            Email::new("a@example.com", "s", "t\nx"),
            Err(EmailError::ControlCharacter("text"))
        );
    }

    #[test]
    fn refuses_addresses_the_smtp_client_could_never_send() {
        for to in [
            "\"a@example.com,b@example.com\"@example.com",
            "a@[127.0.0.1]",
        ] {
            assert!(
                matches!(Email::new(to, "s", "t"), Err(EmailError::BadAddress(_))),
                "{to:?} was accepted"
            );
        }
        assert!(Email::new("\"quoted\"@example.com", "s", "t").is_ok());
    }

    #[test]
    fn refuses_encoded_words_that_would_decode_to_refused_characters() {
        let smuggled = "=?utf-8?q?hello=0D=0ABcc:=20evil@evil.com=00?=";
        assert_eq!(
            Email::new("a@example.com", smuggled, "t"),
            Err(EmailError::EncodedWord("subject"))
        );
        assert!(Email::new("a@example.com", "=?UTF-8?B?aGk=?=", "t").is_err());
        for plain in ["1 + 1 =? 2", "what?=yes", "=?", "a =?x? b"] {
            assert!(Email::new("a@example.com", plain, "t").is_ok(), "{plain:?}");
        }
    }

    #[test]
    fn refuses_oversized_fields() {
        let long = "x".repeat(MAX_TEXT_LEN + 1);
        assert!(matches!(
            Email::new("a@example.com", "s", long),
            Err(EmailError::TooLong { field: "text", .. })
        ));
    }
}
