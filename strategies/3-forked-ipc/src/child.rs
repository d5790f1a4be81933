//! The first steps of a freshly forked child, before it becomes a web server, a worker or
//! the mail sink.
//!
//! The child is a copy of the single-threaded supervisor, so it may allocate, lock and build
//! a runtime freely (the rules of `fork()` in a multi-threaded program do not apply). It
//! never returns into the supervisor's loop: [`run`] ends in `process::exit`.

use crate::link::{self, Incoming, Link};
use crate::logging;
use crate::protocol::ChildMessage;
use crate::settings::{Role, Settings};
use crate::{sink, web, worker};
use nix::sys::prctl;
use nix::sys::signal::{SigSet, Signal};
use nix::unistd::{getppid, setpgid, Pid};
use std::net::TcpListener;
use std::os::fd::OwnedFd;

/// Runs `role` in this (child) process and exits with its status.
pub fn run(
    role: Role,
    supervisor: Pid,
    socket: OwnedFd,
    listener: Option<TcpListener>,
    settings: &Settings,
    supervisor_signals: &SigSet,
) -> ! {
    // Die with the supervisor. However it dies (a SIGKILL gives it no chance to stop
    // anyone), the kernel then sends this child SIGTERM, and the child stops as it would
    // on Ctrl-C. The end of its socketpair says the same, but only to a child that is
    // reading it; the signal reaches a child wherever it is. Without either, a killed
    // supervisor would leave orphans: a web server holding the port, a worker sending mail
    // that nobody counts (test `children_die_with_a_killed_supervisor`).
    // If the supervisor died between fork() and here, the signal will never come: the
    // parent pid has already changed, so leave now.
    if prctl::set_pdeathsig(Signal::SIGTERM).is_err() || getppid() != supervisor {
        std::process::exit(0);
    }
    // Ctrl-C in a terminal signals the whole foreground process group. In a group of its
    // own, a child hears only the supervisor, which stops the children in a safe order.
    let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
    // The supervisor blocks these to read them from its signalfd; the mask is inherited.
    let _ = supervisor_signals.thread_unblock();
    // A panic is logged like everything else, through the supervisor; the default hook
    // still writes it to stderr, in case this process dies before the line is sent.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        tracing::error!("panicked: {info}");
        default_hook(info);
    }));

    let runtime = match role {
        Role::Web => tokio::runtime::Builder::new_multi_thread(),
        // One email at a time: a single thread is all the worker and the sink need.
        Role::Worker | Role::Sink => tokio::runtime::Builder::new_current_thread(),
    }
    .enable_all()
    .build()
    .expect("building the child's runtime");

    let code = runtime.block_on(async move {
        let (link, incoming) = match link::open(socket) {
            Ok(opened) => opened,
            Err(_) => return 1,
        };
        logging::forward_to(link.clone());
        let outcome = play(role, link.clone(), incoming, listener, settings).await;
        if let Err(e) = &outcome {
            link.send(ChildMessage::Log {
                level: crate::protocol::LogLevel::Error,
                line: format!("stopped by an error: {e:#}"),
            });
        }
        link.flush().await;
        i32::from(outcome.is_err())
    });
    drop(runtime);
    std::process::exit(code)
}

async fn play(
    role: Role,
    link: Link,
    incoming: Incoming,
    listener: Option<TcpListener>,
    settings: &Settings,
) -> anyhow::Result<()> {
    match role {
        Role::Web => {
            let listener = listener.expect("the web server inherits the listening socket");
            web::run(link, incoming, listener).await
        }
        Role::Worker => worker::run(link, incoming, settings).await,
        Role::Sink => {
            let listener = listener.expect("the sink inherits its listening socket");
            let embedded = settings
                .embedded_sink
                .as_ref()
                .expect("the sink is only forked when embedded");
            sink::run(link, incoming, listener, embedded).await
        }
    }
}
