//! The wire format: every byte this crate writes to Redis, as node-resque writes it, so that
//! node-resque, Ruby's resque-web and this crate can share one Redis.
//!
//! * [`keys`]: every key name, under the namespace (`resque:queue:emailQueue`, ...).
//! * [`job`]: a job's payload, `{"class":..,"queue":..,"args":[..]}`, byte for byte.
//! * [`payload`]: a popped payload as bytes ([`Payload`]), shown escaped when not UTF-8.
//! * [`failed_entry`](mod@failed_entry): why a job failed ([`JobError`]) and the entry
//!   pushed on `failed`.
//! * [`working_on`](mod@working_on): the value of `worker:NAME:QUEUES` while a job runs.
//! * [`worker_id`]: worker names (`host:pid`) and ids (`host:pid:queues`).
//! * [`dates`]: `run_at`/`failed_at` in JavaScript's `Date.toString()` form; `started` and
//!   the heartbeat in the forms Ruby Resque writes.
//!
//! Nothing here talks to Redis: these are the shapes the rest of the crate reads and writes.
//! The Lua scripts in `src/lua/` write some of the same shapes (the working-on value, a
//! failed entry for an undeliverable delayed item); they follow these.

pub mod dates;
pub mod failed_entry;
pub mod job;
pub mod keys;
pub mod payload;
pub mod worker_id;
pub mod working_on;

pub use dates::{iso_time, js_date, parse_date, ruby_time};
pub use failed_entry::{failed_entry, JobError};
pub use job::{arrayify, encode, DecodeError, Job};
pub use keys::Keys;
pub use payload::Payload;
pub use worker_id::{default_name, hostname, split_worker_id};
pub use working_on::working_on;
