//! The flags of the `strategy-6` binary, each with its environment variable.

use clap::{Parser, ValueEnum};
use kit::{HttpArgs, MailArgs, RedisArgs};
use std::time::Duration;
use strategy_6::consumer::Backoff;
use strategy_6::{Backend, ConsumerConfig, Delivery, LogConfig, ReplayTarget};

/// Strategy 6: an immutable event log in Redis. The web front publishes an `emailEvent` per
/// request; consumer groups read the log at their own offsets (group `mailer` sends the
/// mail, any other group logs what it sees).
#[derive(Parser, Debug)]
#[command(version, about)]
pub struct Args {
    /// Which part to run: `all` (web + a `mailer` consumer), `web`, `consumer`, or `replay`
    /// (move a group's offsets, then exit). All but `all` need REDIS_URL to meet in.
    #[arg(long, env = "ROLE", value_enum, default_value_t = Role::All)]
    pub role: Role,
    /// Consumer group (roles consumer and replay). `mailer` sends mail; others only log.
    #[arg(long, env = "GROUP", default_value = "mailer")]
    pub group: String,
    /// When the group's offset moves: after the handler succeeded (at-least-once), or
    /// before it runs, like the original (at-most-once).
    #[arg(long, env = "DELIVERY", value_enum, default_value_t = Delivery::AtLeastOnce)]
    pub delivery: Delivery,
    /// Where events live: Redis lists with Lua-kept offsets, or Redis Streams.
    #[arg(long, env = "BACKEND", value_enum, default_value_t = Backend::Lists)]
    pub backend: Backend,
    /// Number of partitions. The first process of a log records it (and --backend) in
    /// Redis; a process started with other values is refused with an error.
    #[arg(long, env = "PARTITIONS", default_value_t = 4)]
    pub partitions: u32,
    /// Key prefix of the log in Redis (keys look like `{events:0}:log`).
    #[arg(long, env = "EVENT_PREFIX", default_value = "events")]
    pub prefix: String,
    /// Most events a consumer reads per round trip. It reads on while sends are in flight,
    /// so this only sizes the round trips; `--max-in-flight` bounds the sends.
    #[arg(long, env = "BATCH_SIZE", default_value_t = 32)]
    pub batch_size: usize,
    /// Most events per partition read and not yet committed (sends in flight, events
    /// waiting for an earlier one of their key, finished ones behind an unfinished one):
    /// 1000 mails a second against a 50 ms mail server need 50 in flight, 13 per partition
    /// of 4, so 64 leaves room for a slow send. More is slower, not faster: draining a
    /// backlog through 10 SMTP connections, 256 per partition reached a quarter of what 64
    /// did (`--bench email_ceiling`). A consumer killed mid-flight sends up to that many
    /// twice (at-least-once).
    #[arg(long, env = "MAX_IN_FLIGHT", default_value_t = 64)]
    pub max_in_flight: usize,
    /// Handler runs per event before it goes to the dead letters.
    #[arg(long, env = "MAX_ATTEMPTS", default_value_t = 5)]
    pub max_attempts: u32,
    /// First retry delay (doubling after each failure).
    #[arg(long, env = "RETRY_BASE_MS", default_value_t = 100)]
    pub retry_base_ms: u64,
    /// Longest retry delay.
    #[arg(long, env = "RETRY_MAX_MS", default_value_t = 5000)]
    pub retry_max_ms: u64,
    /// A consumer that stops renewing its partition leases loses them after this long.
    #[arg(long, env = "LEASE_MS", default_value_t = 3000)]
    pub lease_ms: u64,
    /// Role replay: where to move the group: `start`, an offset, a stream ID (MS-SEQ), or
    /// an RFC 3339 time.
    #[arg(long, env = "REPLAY_TO")]
    pub to: Option<ReplayTarget>,
    /// Role replay: only this partition (default: all).
    #[arg(long, env = "REPLAY_PARTITION")]
    pub partition: Option<u32>,
    /// Roles web and all: drop events older than this many seconds (0 = keep forever).
    #[arg(long, env = "RETAIN_SECS", default_value_t = 0)]
    pub retain_secs: u64,
    /// Roles web and all: keep at most this many events per partition (0 = no bound).
    #[arg(long, env = "RETAIN_MAX", default_value_t = 0)]
    pub retain_max: u64,
    /// Treat REDIS_URL as comma-separated seed nodes of a Redis Cluster
    /// (`REDIS_CLUSTER=1`, `true` or `yes`, as scripts/redis-cluster suggests).
    #[arg(long, env = "REDIS_CLUSTER", value_parser = clap::builder::BoolishValueParser::new())]
    pub redis_cluster: bool,
    #[command(flatten)]
    pub http: HttpArgs,
    /// `--admin-token`, for the /dashboard actions (replay, retry a dead letter).
    #[command(flatten)]
    pub admin: kit::AdminArgs,
    #[command(flatten)]
    pub mail: MailArgs,
    #[command(flatten)]
    pub redis: RedisArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Role {
    All,
    Web,
    Consumer,
    Replay,
}

impl Args {
    pub fn log_config(&self) -> LogConfig {
        LogConfig {
            prefix: self.prefix.clone(),
            partitions: self.partitions.max(1),
            backend: self.backend,
        }
    }

    pub fn consumer_config(&self, group: &str) -> ConsumerConfig {
        ConsumerConfig {
            delivery: self.delivery,
            batch_size: self.batch_size.max(1),
            max_in_flight: self.max_in_flight.max(1),
            max_attempts: self.max_attempts.max(1),
            backoff: Backoff {
                base: Duration::from_millis(self.retry_base_ms),
                max: Duration::from_millis(self.retry_max_ms),
            },
            lease_ttl: Duration::from_millis(self.lease_ms.max(300)),
            ..ConsumerConfig::new(group)
        }
    }
}
