//! The binary's two handlers: the `mailer` group sends the mail, any other group audits.

use kit::BoxFuture;
use mailer::{Email, Mailer};
use strategy_6::{Event, Handler, HandlerError};

/// The consumer group whose handler sends the mail; every other group only audits.
pub const MAILER_GROUP: &str = "mailer";

/// Sends `emailEvent`s through the SMTP client; other event types are not its business.
pub struct EmailHandler {
    pub mailer: Mailer,
}

impl Handler for EmailHandler {
    fn name(&self) -> &str {
        "email handler"
    }

    fn handle<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            if event.kind != "emailEvent" {
                return Ok(());
            }
            // An event is data from the past: check it again before it becomes a mail.
            let email: Email = serde_json::from_value(event.payload.clone())
                .map_err(|e| HandlerError::Permanent(format!("payload is not an email: {e}")))?;
            email
                .validate()
                .map_err(|e| HandlerError::Permanent(format!("invalid email: {e}")))?;
            match self.mailer.send(&email).await {
                Ok(message_id) => {
                    tracing::info!(%message_id, "Sent an email to {}", email.to);
                    Ok(())
                }
                Err(e) if e.is_transient() => Err(HandlerError::Transient(e.to_string())),
                Err(e) => Err(HandlerError::Permanent(e.to_string())),
            }
        })
    }
}

/// Logs every event: the second group of the fan-out, which sees all the same events.
pub struct AuditHandler;

impl Handler for AuditHandler {
    fn name(&self) -> &str {
        "audit handler"
    }

    fn handle<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            tracing::info!(
                id = %event.id,
                key = %event.key,
                published_at = event.published_at,
                "audit: {} {}",
                event.kind,
                event.payload
            );
            Ok(())
        })
    }
}
