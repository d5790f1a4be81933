//! The demo's job: class `sendEmail` on queue `emailQueue`, args `[{"to","subject","text"}]`
//! (the names of the original node-resque demo), sent through the mailer.

use mailer::{Email, Mailer};
use serde_json::{json, Value};
use strategy_5::{JobDef, JobError, JobResult};

pub const CLASS: &str = "sendEmail";
pub const QUEUE: &str = "emailQueue";

/// The job definition: a bad email fails permanently (`InvalidEmail`), an SMTP refusal fails
/// with the server's words (`SMTPError`), marked permanent for a 5xx so that the Retry
/// plugin does not send a mail the server has refused for good again and again.
pub fn job(mailer: Mailer) -> JobDef {
    JobDef::new(move |args: Vec<Value>| {
        let mailer = mailer.clone();
        async move {
            let data = args.first().ok_or_else(|| {
                JobError::named("InvalidEmail", "sendEmail needs one argument").permanent()
            })?;
            send(&mailer, data).await
        }
    })
}

/// Sends the mail whose `to`, `subject` and `text` are fields of `data` (the job's
/// argument, or a bus event's attributes).
pub async fn send(mailer: &Mailer, data: &Value) -> JobResult {
    let email = email_from(data)?;
    let message_id = mailer.send(&email).await.map_err(|e| {
        let error = JobError::named("SMTPError", e.to_string());
        if e.is_transient() {
            error
        } else {
            error.permanent()
        }
    })?;
    Ok(json!({ "email": email, "message_id": message_id }))
}

fn email_from(data: &Value) -> Result<Email, JobError> {
    let field = |name: &str| data.get(name).and_then(Value::as_str).unwrap_or_default();
    Email::new(field("to"), field("subject"), field("text"))
        .map_err(|e| JobError::named("InvalidEmail", e.to_string()).permanent())
}
