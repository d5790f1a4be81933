//! The embedded mail sink (no SMTP_URL): a child of its own, so it outlives the worker.
//!
//! It could not live in the supervisor: the sink runs on tokio, and a runtime's threads in
//! the supervisor would make its later `fork()`s unsafe. Like the web server, it accepts on
//! a socket the supervisor bound and keeps: a re-forked sink has the same address. Its
//! delivery lines reach the terminal the same way as every child's:
//! `[mail sink @ PID] mail delivered to=...`.

use crate::link::{Incoming, Link};
use crate::protocol::ChildMessage;
use crate::settings::EmbeddedSink;
use mailer::{Sink, SinkConfig};
use std::net::TcpListener;

pub async fn run(
    link: Link,
    mut incoming: Incoming,
    listener: TcpListener,
    embedded: &EmbeddedSink,
) -> anyhow::Result<()> {
    let shutdown = kit::shutdown::on_signal();
    let config = SinkConfig {
        faults: embedded.faults,
        log_deliveries: true,
        ..SinkConfig::default()
    };
    let sink = Sink::from_std(listener, config)?;
    link.send(ChildMessage::Ready {
        detail: format!("ready! accepting mail at {}", sink.url()),
    });
    tokio::select! {
        _ = shutdown.cancelled() => {}
        // The supervisor is gone (it closed our socket).
        _ = async { while incoming.next().await.is_some() {} } => {}
    }
    drop(sink);
    Ok(())
}
