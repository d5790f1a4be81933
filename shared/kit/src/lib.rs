//! # kit: everything a strategy binary needs that is not the strategy
//!
//! Each strategy in offload differs in one place: what happens between "the web front
//! has a valid email" and "the SMTP server accepted it". Everything around that is the
//! same for all six and lives here, so that a strategy's own crate holds only its lesson.
//!
//! ```text
//!  curl ──HTTP──► http::serve ──parse + validate──► EmailService::submit ──► (the strategy)
//!                     │  400 + {"error"} for bad input, never a mail
//!                     └─ /healthz, /favicon.ico (404), the strategy's extra routes
//! ```
//!
//! * [`config`]: the flags every binary shares, each with its environment variable.
//! * [`http`]: the hyper server, the route table of the contract (`GET /<to>/<subject>/<text>`,
//!   `POST /emails`, `GET /healthz`), strict percent-decoding, JSON answers, graceful shutdown.
//! * [`service`]: the [`EmailService`] trait a strategy implements.
//! * [`embedded`]: with no `SMTP_URL`, an in-process mail sink; with no `REDIS_URL`, a
//!   private `redis-server` child. One `cargo run -p strategy-N` is a whole demo.
//! * [`redis_server`]: the launcher that starts `redis-server` on a free port (tests, demos, harness).
//! * [`logging`], [`shutdown`]: tracing setup, and SIGINT/SIGTERM as a cancellation token.
//! * [`ready`]: the one line a role without a web front logs when it can take work.
//! * [`dashboard`]: the base of every strategy's `/dashboard` pages (layout, live refresh,
//!   escaping, the session token every action must carry); [`access`]: who may use the
//!   admin routes and the dashboards' actions (loopback, `--admin-token`, same origin).
//! * [`client`]: a small HTTP client, for the load harness and the tests (whose helpers live
//!   in `shared/testkit`, so that this runtime crate ships no test code).
//!
//! kit makes no delivery promise of its own: it hands a valid email to the strategy and
//! reports what the strategy said.
//!
//! See ARCHITECTURE.md, section "shared/kit".

pub mod access;
pub mod client;
pub mod config;
pub mod dashboard;
pub mod embedded;
pub mod http;
pub mod logging;
pub mod ready;
pub mod redis_server;
pub mod service;
pub mod shutdown;

pub use config::{AdminArgs, HttpArgs, MailArgs, RedisArgs};
pub use redis_server::{Fsync, RedisOptions, RedisServer};
pub use service::{BoxFuture, EmailService, Refusal};
