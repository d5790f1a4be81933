//! SIGTERM/SIGINT: stopping the children one at a time, in an order that loses the least.
//!
//! Each child is asked with a SIGTERM and given `--stop-timeout-ms`; only then is it
//! killed. The supervisor itself goes last, once every child has been reaped, so that no
//! child is left behind and the final tally counts every email.

use super::Supervisor;
use crate::settings::Role;
use nix::sys::signal::{kill, Signal};
use std::time::Instant;

/// The order children are stopped in on SIGTERM: first the web server, so no new email
/// arrives; then the worker, which finishes the email it is sending; the sink last, so
/// that email has somewhere to land.
const STOP_ORDER: [Role; 3] = [Role::Web, Role::Worker, Role::Sink];

impl Supervisor {
    pub(super) fn begin_shutdown(&mut self, signal: Signal) {
        self.stopping = true;
        // A child that died just before the signal is not re-forked only to be stopped.
        self.dead.clear();
        self.master(format!(
            "{signal}: stopping the web server, then the email worker (it finishes the email it is sending)"
        ));
        self.stop_next_child();
    }

    /// Asks the first child of [`STOP_ORDER`] still alive to stop (SIGTERM), or kills it if
    /// it overstayed `--stop-timeout-ms`. `true` once every child is gone.
    ///
    /// Called at every turn of the loop while stopping: a child counts as gone only once it
    /// is reaped, so the next one is asked only after the previous one has exited.
    pub(super) fn stop_next_child(&mut self) -> bool {
        let timeout = self.settings.stop_timeout;
        for role in STOP_ORDER {
            let Some(child) = self.children.iter_mut().find(|c| c.role == role) else {
                continue;
            };
            match child.asked_to_stop {
                None => {
                    // Asked, the worker finishes the email it is sending and reports the ids
                    // it abandons before it exits (`ChildMessage::Stopping`).
                    let _ = kill(child.pid, Signal::SIGTERM);
                    child.asked_to_stop = Some(Instant::now());
                }
                Some(asked) if asked.elapsed() >= timeout => {
                    tracing::warn!(
                        "[master @ {}] the {} did not stop within {timeout:?}: killing it",
                        self.pid,
                        role.name()
                    );
                    let _ = kill(child.pid, Signal::SIGKILL);
                    child.asked_to_stop = Some(Instant::now());
                }
                Some(_) => {}
            }
            return false;
        }
        true
    }
}
