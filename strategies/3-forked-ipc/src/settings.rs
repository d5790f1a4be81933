//! What every process needs to know, decided once by the supervisor before it forks: a
//! forked child starts with a copy of the supervisor's memory, so it simply reads these.

use crate::retry::Backoff;
use mailer::Faults;
use std::net::TcpListener;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the worker sends: SMTP_URL, or the embedded sink's address.
    pub smtp_url: String,
    pub smtp_pool_size: u32,
    /// The worker's pause after each email.
    pub throttle: Duration,
    /// When a failed email is tried again, and how many times at most.
    pub retry: Backoff,
    /// The most emails held or in the worker at once; past it, new ones are refused.
    pub max_backlog: usize,
    /// `--ack`: the supervisor keeps a copy of every email the worker has not acknowledged
    /// (reported sent or given up), and hands those copies to the next worker when this
    /// one dies. Off by default: the lesson is the loss.
    pub ack: bool,
    /// How often the supervisor re-forks dead children.
    pub check_interval: Duration,
    /// On shutdown, how long each child may take to stop before it is killed.
    pub stop_timeout: Duration,
    /// Set when there is no SMTP_URL: the mail sink runs in a child of its own.
    pub embedded_sink: Option<EmbeddedSink>,
}

/// The listening sockets, bound by the supervisor before it forks and kept open across
/// the deaths of the children that accept on them.
#[derive(Debug)]
pub struct Listeners {
    pub web: TcpListener,
    /// The embedded mail sink's, when there is no SMTP_URL.
    pub sink: Option<TcpListener>,
}

#[derive(Debug, Clone)]
pub struct EmbeddedSink {
    pub faults: Faults,
}

/// The supervisor's children. The names are the original demo's, and appear in every log
/// line the supervisor prints for a child: `[email worker @ 4242] email sent!`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Web,
    Worker,
    Sink,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Web => "web server",
            Role::Worker => "email worker",
            Role::Sink => "mail sink",
        }
    }
}
