//! The SMTP client every strategy uses: lettre's async transport, pooled, with timeouts.
//!
//! The one decision a strategy makes about a failed send is "try again later, or give
//! up?". [`SendError`] answers it: a 4xx reply, a timeout or a broken connection is
//! [`SendError::Transient`]; a 5xx reply is [`SendError::Permanent`] and retrying it only
//! repeats the refusal.

use crate::Email;
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// Default sender. The sink accepts any; a real relay would want a real one
/// ([`Mailer::with_from`]).
pub const DEFAULT_FROM: &str = "offload <offload@localhost>";

/// How long one SMTP command may take before the send counts as a transient failure.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// A send that did not end with the server's `250`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth retrying: a 4xx reply, a timeout, a refused or dropped connection.
    #[error("transient SMTP failure: {0}")]
    Transient(String),
    /// Not worth retrying: the server said no for good (5xx), or the message could not be built.
    #[error("permanent SMTP failure: {0}")]
    Permanent(String),
}

impl SendError {
    pub fn is_transient(&self) -> bool {
        matches!(self, SendError::Transient(_))
    }
}

/// A configuration problem with the SMTP URL or the sender.
#[derive(Debug, thiserror::Error)]
#[error("bad SMTP configuration: {0}")]
pub struct ConfigError(String);

/// A cheap-to-clone handle to a pooled SMTP transport.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    url: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("url", &self.url).finish()
    }
}

impl Mailer {
    /// Builds a client for `smtp://host:port` (plain TCP, as for a local relay or the sink).
    /// `pool_size` bounds the connections kept open; sends beyond it open extra ones.
    /// Call it inside a tokio runtime: the pool starts a background task.
    pub fn from_url(url: &str, pool_size: u32) -> Result<Mailer, ConfigError> {
        let (host, port) = parse_smtp_url(url)?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(COMMAND_TIMEOUT))
            .pool_config(PoolConfig::new().max_size(pool_size.max(1)))
            .build();
        let from = DEFAULT_FROM.parse().expect("the default sender parses");
        Ok(Mailer {
            transport,
            from,
            url: url.to_string(),
        })
    }

    /// Replaces the sender address.
    pub fn with_from(mut self, from: &str) -> Result<Mailer, ConfigError> {
        self.from = from
            .parse()
            .map_err(|e| ConfigError(format!("sender {from:?}: {e}")))?;
        Ok(self)
    }

    /// The URL this client sends to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends one email and returns its Message-ID once the server accepted it.
    pub async fn send(&self, email: &Email) -> Result<String, SendError> {
        email
            .validate()
            .map_err(|e| SendError::Permanent(e.to_string()))?;
        let message_id = format!("<{}@offload>", uuid::Uuid::new_v4());
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| SendError::Permanent(format!("recipient: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.as_str())
            .message_id(Some(message_id.clone()))
            .header(ContentType::TEXT_PLAIN)
            .body(email.text.clone())
            .map_err(|e| SendError::Permanent(format!("building the message: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(message_id),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }
}

/// Splits `smtp://host[:port]` (port 25 by default). Only plain SMTP is offered: the sink and
/// local relays speak it, and leaving TLS out keeps OpenSSL out of the build.
fn parse_smtp_url(url: &str) -> Result<(&str, u16), ConfigError> {
    let rest = url
        .strip_prefix("smtp://")
        .ok_or_else(|| ConfigError(format!("{url}: expected smtp://host:port")))?;
    let rest = rest.trim_end_matches('/');
    match rest.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() => {
            let port = port
                .parse()
                .map_err(|_| ConfigError(format!("{url}: {port:?} is not a port")))?;
            Ok((host, port))
        }
        None if !rest.is_empty() => Ok((rest, 25)),
        _ => Err(ConfigError(format!("{url}: no host"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_smtp_urls() {
        assert_eq!(
            parse_smtp_url("smtp://127.0.0.1:2525").unwrap(),
            ("127.0.0.1", 2525)
        );
        assert_eq!(
            parse_smtp_url("smtp://mail.local/").unwrap(),
            ("mail.local", 25)
        );
        assert!(parse_smtp_url("http://x:1").is_err());
        assert!(parse_smtp_url("smtp://x:port").is_err());
    }
}
