//! Forking a child, and re-forking it after it died. The one place this program calls
//! `fork()`, and the reason the supervisor stays single-threaded.

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
            self.dead.push((role, Instant::now()));
        }
    }

    fn fork_child(&mut self, role: Role) -> anyhow::Result<()> {
        let threads = thread_count();
        anyhow::ensure!(
            threads == 1,
            "refusing to fork: this process has {threads} threads, and a child would inherit their locks without them"
        );
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
                drop(theirs);
                self.children.push(Child {
                    role,
                    pid: child,
                    channel,
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
                drop(channel);
                self.become_child(role, theirs)
            }
        }
    }

    /// Runs in the new child: close the supervisor's descriptors (only the supervisor's own
    /// copies must keep those sockets open), then play `role` and exit.
    fn become_child(&mut self, role: Role, socket: OwnedFd) -> ! {
        self.children.clear();
        self.signals = None;
        // Keep the socket this role accepts on, if any; the other one closes here.
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
            self.restarting.entry(role).or_insert(died_at);
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
