//! The embedded mail sink (no SMTP_URL): a child of its own, so it outlives the worker.
//!
//! It could not live in the supervisor: the sink runs on tokio, and a runtime's threads in
//! the supervisor would make its later `fork()`s unsafe. Its delivery lines reach the
//! terminal the same way as every child's: `[mail sink @ PID] mail delivered to=...`.

use crate::link::{Incoming, Link};
use crate::protocol::ChildMessage;
use crate::settings::EmbeddedSink;
use mailer::{Sink, SinkConfig};

pub async fn run(
    link: Link,
    mut incoming: Incoming,
    embedded: &EmbeddedSink,
) -> anyhow::Result<()> {
    let shutdown = kit::shutdown::on_signal();
    let config = SinkConfig {
        faults: embedded.faults,
        log_deliveries: true,
        ..SinkConfig::default()
    };
    let sink = Sink::start(&embedded.addr.to_string(), config).await?;
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
