//! Forking a child, and re-forking it after it died. The one place this program calls
//! `fork()`, and the reason the supervisor stays single-threaded.
//!
//! A fork gives the child a copy of everything the supervisor has: its memory (the
//! settings, the held emails, the list of the other children) and its file descriptors
//! (the listening sockets, the signalfd, the supervisor's end of every socketpair). The
//! child keeps what its role needs and closes the rest, because an open copy of a socket
//! in the wrong process keeps that socket alive: its peer then never sees the end.

use super::{say, Child, Supervisor};
use crate::channel::Channel;
use crate::child;
use crate::protocol::LogLevel;
use crate::settings::{Listeners, Role};
use nix::sys::signal::{kill, Signal};
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use nix::unistd::{fork, ForkResult};
use std::os::fd::OwnedFd;
use std::time::Instant;

impl Supervisor {
    pub(super) fn start(&mut self, role: Role) {
        if let Err(e) = self.fork_child(role) {
            tracing::error!(
                "[master @ {}] could not start the {}: {e:#}; trying again at the next check",
                self.pid,
                role.name()
            );
            // Treated like a death: the next check tries again, as it would after a crash.
            self.dead.push((role, Instant::now()));
        }
    }

    fn fork_child(&mut self, role: Role) -> anyhow::Result<()> {
        // Checked, not assumed: a library that starts a thread behind our back would make
        // this fork unsafe (see the module doc of `supervisor`). Refusing is better than a
        // child that hangs on a lock nobody will release.
        let threads = thread_count();
        anyhow::ensure!(
            threads == 1,
            "refusing to fork: this process has {threads} threads, and a child would inherit their locks without them"
        );
        // One socketpair per child: children talk only to the supervisor, never to each
        // other. Both ends exist before the fork, so the child is born connected.
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )?;
        let channel = Channel::new(ours)?;
        // SAFETY: this process has exactly one thread (checked above) and no runtime, so
        // there is no lock another thread could hold at this instant. The child may allocate
        // and build its own runtime.
        match unsafe { fork() }? {
            ForkResult::Parent { child } => {
                // The child's end is the child's alone. Were the supervisor to keep its copy,
                // the socket would stay open when the child dies, and the supervisor's reads
                // would never see the EOF that says the child is gone.
                drop(theirs);
                self.children.push(Child {
                    role,
                    pid: child,
                    channel,
                    // No email goes to it before it says `ready` (`give_to_worker`).
                    ready: false,
                    closed: false,
                    asked_to_stop: None,
                });
                say(
                    role.name(),
                    child,
                    LogLevel::Info,
                    format!("starting {}", role.name()),
                );
                Ok(())
            }
            ForkResult::Child => {
                // Likewise the other way round: the supervisor's end is the supervisor's.
                drop(channel);
                self.become_child(role, theirs)
            }
        }
    }

    /// Runs in the new child: close the supervisor's descriptors (only the supervisor's own
    /// copies must keep those sockets open), then play `role` and exit.
    fn become_child(&mut self, role: Role, socket: OwnedFd) -> ! {
        // The supervisor's ends of the other children's socketpairs. A copy left open here
        // would keep, say, the worker's socket open after the supervisor died, and the
        // worker would miss the EOF that tells it so (its other messenger is
        // PR_SET_PDEATHSIG, see `child::run`).
        self.children.clear();
        // The child reads its signals its own way, on its runtime (`kit::shutdown`).
        self.signals = None;
        // Keep the socket this role accepts on, if any; the other one closes here. A copy of
        // the web server's socket in the worker would keep the port open, taking connections
        // that nobody answers, for as long as the worker outlived the supervisor.
        let listener = self
            .listeners
            .take()
            .and_then(|Listeners { web, sink }| match role {
                Role::Web => Some(web),
                Role::Sink => sink,
                Role::Worker => None,
            });
        child::run(
            role,
            self.pid,
            socket,
            listener,
            &self.settings,
            &self.signal_set,
        )
    }

    /// Reaps the dead and re-forks them, once per check interval (as the original did).
    pub(super) fn check_children(&mut self) {
        // A child may have died since the poll returned, its SIGCHLD not read yet: reaping
        // here counts it now, so it is re-forked at this check rather than the next one.
        self.reap();
        for child in &self.children {
            if child.closed && child.asked_to_stop.is_none() {
                // Alive but deaf: no email can reach it. Killing it gets a working one.
                tracing::warn!(
                    "[master @ {}] the {} closed its socket; killing it",
                    self.pid,
                    child.role.name()
                );
                let _ = kill(child.pid, Signal::SIGKILL);
            }
        }
        if self.stopping {
            return;
        }
        for (role, died_at) in std::mem::take(&mut self.dead) {
            // The first death is kept when a re-fork fails and is tried again: "is back
            // after N ms" then counts from the moment the role went missing.
            self.restarting.entry(role).or_insert(died_at);
            // A fresh copy of the supervisor as it is now: the same settings and listening
            // sockets as the child that died, none of its memory (its queue is gone).
            self.start(role);
        }
    }
}

/// The number of threads of this process, as the kernel sees them.
fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| tasks.count())
        .unwrap_or(1)
}
