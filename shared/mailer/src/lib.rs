//! # mailer: the email, the SMTP client, and a real SMTP server to send it to
//!
//! Every strategy in offload sends the same thing, an [`Email`], through the same client,
//! [`Mailer`], to the same kind of server: a real SMTP server on a real TCP socket, the
//! [`sink`]. Nothing here is a trait mock. A strategy talks to the sink exactly as it would
//! talk to a production relay, so the latency and failures the load harness measures are
//! those of real sockets.
//!
//! ```text
//!  strategy ──Email──► Mailer (lettre, pooled) ──SMTP over TCP──► sink ──► ledger.jsonl
//!                                                                  │
//!                                    injected faults: latency, 4xx, 5xx, dropped connection
//! ```
//!
//! * [`email`]: the validated `Email { to, subject, text }`. Validation is where header
//!   injection is stopped: an address must parse, and no field may carry CR or LF.
//! * [`client`]: [`Mailer`], lettre's async SMTP transport, and [`SendError`], which says
//!   whether a failure is worth retrying (4xx, connection trouble) or not (5xx).
//! * [`sink`]: the SMTP server with fault injection, and the [`ledger`] it appends each
//!   accepted message to. The load harness counts what arrived by reading that ledger.
//!
//! Delivery guarantee of this crate alone: a send that returned `Ok` was accepted by the
//! server (it answered `250` to the end of DATA). A send that returned `Err` may still
//! have been accepted when the connection dropped after the server's reply was written;
//! the sink never does that on purpose, so its ledger is the truth for the harness.
//!
//! See ARCHITECTURE.md, section "shared/mailer".

pub mod client;
pub mod email;
pub mod ledger;
pub mod sink;

pub use client::{Mailer, SendError};
pub use email::{Email, EmailError};
pub use ledger::Delivery;
pub use sink::{Faults, Latency, Sink, SinkConfig};
