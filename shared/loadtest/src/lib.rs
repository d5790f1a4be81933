//! # loadtest: the six strategies side by side, under the same load and the same faults
//!
//! Each strategy promises something about the email a client asked for. This harness checks
//! the promise by counting: it sends a known set of requests, each carrying a unique id in
//! its subject, then asks the SMTP sink which ids arrived. Whatever the client was told `200`
//! for and never arrived was lost silently, the one outcome a strategy should never hide.
//!
//! ```text
//!             open-loop load (fixed rate, latency from the intended send time)
//!  loadtest ───────────────────────────────────────────► strategy processes ──SMTP──► sink
//!     │  client log: id, status, latency                  ▲  (own Redis if any)      │
//!     │                                                   │                          │ ledger:
//!     │  scenario faults: 20% SMTP 451s, SIGKILL the ─────┘                          │ id, time
//!     │  worker part, restart Redis                                                  │
//!     └──────── join by id after delivery settled ◄──────────────────────────────────┘
//!               accepted / rejected / delivered / duplicates / lost / parked
//! ```
//!
//! * [`catalog`]: the table of strategies: their binaries, roles, variants, what to kill.
//!   Adding a strategy is one entry there. Its [`catalog::FLOOR`] runs [`floor`], a bare
//!   hyper server doing no work, in every steady run: the latency the others are read against.
//! * [`scenario`]: the five scenarios and the faults each one injects.
//! * [`deployment`]: starts one strategy's processes with their own sink and Redis, kills
//!   and restarts parts of it; [`keeper`] is the thread every child is started from.
//! * [`load`]: the open-loop load generator.
//! * [`account`]: the join of the client log with the deliveries, and the percentiles.
//! * [`memory`]: the resident memory of each process, before the load and after it settled;
//!   [`memory_run`] reads it at checkpoints over a long load (`loadtest memory`).
//! * [`parked`]: asks a strategy's `GET /parked` what it accepted, gave up on, and keeps visible.
//! * [`run`] runs one strategy × variant × scenario; [`compare`] runs the whole matrix.
//! * [`report`]: `report.json`, the SVG charts, and `report.md` and `report.html`, which
//!   open with one summary table (latency, and what each fault did to the mail).
//! * [`binaries`]: where the strategy binaries are, and building them for tests and benches.
//!
//! The harness makes no delivery promise of its own, but it must be able to fail both ways:
//! its tests run strategies that do lose mail and strategies that do not, and check that
//! the report tells them apart.
//!
//! See ARCHITECTURE.md, section "shared/loadtest".

pub mod account;
pub mod binaries;
pub mod catalog;
pub mod compare;
pub mod deployment;
pub mod floor;
pub mod keeper;
pub mod load;
pub mod memory;
pub mod memory_run;
pub mod parked;
pub mod report;
pub mod run;
pub mod scenario;
