//! The demo defaults: with no `SMTP_URL`, an in-process mail sink; with no `REDIS_URL`, a
//! private `redis-server`. A newcomer runs one command and sees mail arrive.

use crate::config::{MailArgs, RedisArgs};
use crate::redis_server::{RedisLaunchError, RedisServer};
use mailer::{Mailer, Sink, SinkConfig};

/// The mail client a strategy sends with, and the embedded sink if one was started.
/// Keep it alive: dropping it stops the embedded sink.
pub struct MailSetup {
    pub mailer: Mailer,
    pub sink: Option<Sink>,
}

/// Builds the mail client from the flags, starting the embedded sink when no URL is given.
pub async fn mail(args: &MailArgs) -> anyhow::Result<MailSetup> {
    args.warn_if_faults_are_ignored();
    let (url, sink) = match &args.smtp_url {
        Some(url) => (url.clone(), None),
        None => {
            let config = SinkConfig {
                faults: args.embedded_faults(),
                log_deliveries: true,
                ..SinkConfig::default()
            };
            let sink = Sink::start_local(config).await?;
            tracing::info!(
                url = %sink.url(),
                latency = %args.mailer_latency_ms,
                failure_rate = args.mailer_failure_rate,
                "no SMTP_URL given: started the embedded mail sink"
            );
            (sink.url(), Some(sink))
        }
    };
    let mailer = Mailer::from_url(&url, args.smtp_pool_size)?;
    Ok(MailSetup { mailer, sink })
}

/// The Redis URL to use, and the private server if one was started. Keep the server alive:
/// dropping it stops Redis.
pub fn redis(args: &RedisArgs) -> Result<(String, Option<RedisServer>), RedisLaunchError> {
    match &args.redis_url {
        Some(url) => Ok((url.clone(), None)),
        None => {
            let server = RedisServer::start()?;
            tracing::info!(
                url = %server.url(),
                "no REDIS_URL given: started a private redis-server (stopped on exit)"
            );
            Ok((server.url(), Some(server)))
        }
    }
}
