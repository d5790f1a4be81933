//! Flags shared by the strategy binaries. Each flag has an environment variable of the same
//! meaning, so a harness can configure a child process either way. A strategy flattens the
//! groups it needs into its own `clap` parser (strategies 1 and 2 take no Redis flag).

use mailer::sink::{parse_rate, Latency};
use mailer::Faults;

/// Where the web front listens.
#[derive(clap::Args, Debug, Clone)]
pub struct HttpArgs {
    /// Address the web front listens on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port the web front listens on.
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,
}

impl HttpArgs {
    pub fn addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// Who may act through a web front's admin routes and dashboard (see [`crate::access`]).
#[derive(clap::Args, Debug, Clone)]
pub struct AdminArgs {
    /// Token the admin routes and the /dashboard actions ask for (`Authorization: Bearer
    /// <token>`, or a browser signed in at /dashboard/login): on every action, and on every
    /// request when --host is not a loopback address (which needs a token: the web role
    /// refuses to start without one).
    #[arg(long, env = "ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
}

/// Where mail goes, and how the embedded sink misbehaves when there is no SMTP server.
#[derive(clap::Args, Debug, Clone)]
pub struct MailArgs {
    /// SMTP server to send through, e.g. smtp://127.0.0.1:2525. Without it, an embedded
    /// mail sink is started on a free port and every delivery is logged.
    #[arg(long, env = "SMTP_URL")]
    pub smtp_url: Option<String>,
    /// Embedded sink only: delay before it accepts each message, `MS` or `MIN..MAX`.
    #[arg(long, env = "MAILER_LATENCY_MS", default_value = "0")]
    pub mailer_latency_ms: Latency,
    /// Embedded sink only: share of messages it refuses with a transient 451.
    #[arg(long, env = "MAILER_FAILURE_RATE", default_value = "0", value_parser = parse_rate)]
    pub mailer_failure_rate: f64,
    /// Most SMTP connections kept open to the server.
    #[arg(long, env = "SMTP_POOL_SIZE", default_value_t = 10)]
    pub smtp_pool_size: u32,
}

impl MailArgs {
    /// What the embedded sink injects: `--mailer-latency-ms` and `--mailer-failure-rate`.
    pub fn embedded_faults(&self) -> Faults {
        Faults {
            latency: self.mailer_latency_ms,
            failure_rate: self.mailer_failure_rate,
            ..Faults::default()
        }
    }

    /// With SMTP_URL there is no embedded sink, so its fault flags do nothing. Say so, rather
    /// than let `--mailer-failure-rate 1` run a demo that quietly never fails.
    pub fn warn_if_faults_are_ignored(&self) {
        if self.smtp_url.is_some() && self.embedded_faults() != Faults::default() {
            tracing::warn!(
                "SMTP_URL is set: --mailer-latency-ms and --mailer-failure-rate shape only the \
                 embedded sink, so they are ignored"
            );
        }
    }
}

/// Where Redis is (strategies 4 to 6).
#[derive(clap::Args, Debug, Clone)]
pub struct RedisArgs {
    /// Redis to use, e.g. redis://127.0.0.1:6379/. Without it, a private redis-server is
    /// started on a free port and stopped on exit.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
}
