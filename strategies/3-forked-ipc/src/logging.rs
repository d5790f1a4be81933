//! One tracing subscriber for all processes, installed once by the supervisor before it
//! forks (a forked child inherits it and cannot install another).
//!
//! In the supervisor, events go to stdout. In a child, after [`forward_to`], they go to the
//! supervisor as [`ChildMessage::Log`] instead, and the supervisor prints them as
//! `[web server @ PID] ...`. So, as in the original demo, children never print: one process
//! owns the terminal, and lines from different processes cannot tear each other.

use crate::link::Link;
use crate::protocol::ChildMessage;
use std::fmt::{self, Write as _};
use std::io::{self, IsTerminal};
use std::sync::OnceLock;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Set only in a child: where its events go instead of stdout.
static SUPERVISOR: OnceLock<Link> = OnceLock::new();

/// Installs the subscriber (`RUST_LOG` filters, default `info`). Call before forking.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let stdout = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_ansi(ansi)
        // With stdout a pipe nobody reads, the default `eprintln!`s the failed write and
        // panics on the same broken pipe: here that would kill the supervisor.
        .log_internal_errors(false)
        .with_writer(|| -> Box<dyn io::Write> {
            if SUPERVISOR.get().is_some() {
                Box::new(io::sink())
            } else {
                Box::new(io::stdout())
            }
        });
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(stdout)
        .with(ForwardToSupervisor)
        .try_init();
}

/// In a child: from now on, every event is sent to the supervisor.
pub fn forward_to(link: Link) {
    let _ = SUPERVISOR.set(link);
}

struct ForwardToSupervisor;

impl<S: Subscriber> Layer<S> for ForwardToSupervisor {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let Some(link) = SUPERVISOR.get() else {
            return;
        };
        let mut line = Line::default();
        event.record(&mut line);
        link.send(ChildMessage::Log {
            level: (*event.metadata().level()).into(),
            line: line.finish(),
        });
    }
}

/// `message key=value key=value`, like the fmt layer's default.
#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Line {
    fn finish(self) -> String {
        format!("{}{}", self.message, self.fields)
    }
}

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={}", field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={:?}", field.name(), value);
        }
    }
}
