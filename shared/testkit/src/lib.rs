//! # testkit: what the tests share
//!
//! Every test in offload runs the real thing: strategy binaries as child processes, a real
//! `redis-server`, the real SMTP sink on a socket, real HTTP. What those tests have in common
//! lives here, once:
//!
//! * [`process`]: [`ChildProcess`], a binary started as a real child with its output kept
//!   for the test to read, killed when dropped (the load harness starts strategies with it
//!   too).
//! * [`wait`]: [`wait_until`], [`eventually`] and [`poll`], the one polling loop.
//! * [`bad_input`]: the web contract's bad-input table, [`check_bad_requests`], run against
//!   every strategy's web front.
//! * [`dashboard`]: [`DashboardClient`], a client for the `/dashboard` pages that keeps the
//!   session cookie and sends each action with the page's token, as a browser does.
//!
//! `tests/architecture.rs` checks the layout's rules (no import cycle, no arrow from
//! `shared/` up into `strategies/`); see ARCHITECTURE.md, section "shared/testkit".
//!
//! Strategies take this crate as a dev-dependency only, so the runtime crate (`kit`) ships
//! no test code.

pub mod bad_input;
pub mod dashboard;
pub mod process;
pub mod wait;

pub use bad_input::{bad_requests, check_bad_requests, raw_get_status, BadRequestCase};
pub use dashboard::{DashboardClient, Page};
pub use process::{ChildProcess, STARTUP_TIMEOUT};
pub use wait::{eventually, poll, wait_until};
