//! Wiring of the binary's roles.

pub mod args;
mod dashboard;
mod handlers;
mod web;

use args::{Args, Role};
use handlers::{AuditHandler, EmailHandler, MAILER_GROUP};
use std::sync::Arc;
use std::time::Duration;
use strategy_6::{connection, consumer, Connector, Handler, Log, LogError};
use tokio_util::sync::CancellationToken;

pub async fn run(args: Args) -> anyhow::Result<()> {
    if args.role != Role::All && args.redis.redis_url.is_none() {
        anyhow::bail!(
            "--role web, consumer and replay need REDIS_URL (or --redis-url): the processes \
             meet in that Redis; only --role all starts a private one"
        );
    }
    let shutdown = kit::shutdown::on_signal();
    // The private redis-server, if there is no REDIS_URL. It sits in a process group of its
    // own, so a terminal's Ctrl-C reaches this process and not it: it stops when this
    // handle is dropped, below, after everything that uses it has stopped.
    let (url, private_redis) = kit::embedded::redis(&args.redis)?;
    let connector = Connector::from_url(&url, args.redis_cluster);
    let Some(log) = connect(&connector, &args, &shutdown).await? else {
        return Ok(());
    };
    let ran = match args.role {
        Role::Web => serve(&args, log, shutdown).await,
        Role::Consumer => consume(&args, log, &args.group, shutdown).await,
        Role::All => {
            let web_log = log.clone();
            let web = async {
                let served = serve(&args, web_log, shutdown.clone()).await;
                // A demo whose web front could not start (port taken) must not live on as
                // a consumer alone: stop the consumer too, and report why.
                shutdown.cancel();
                served
            };
            // On a signal both stop taking work at once: the web accepts no more requests
            // (so none gets a 200 for an event nobody will read) and answers the ones in
            // flight; the consumer reads no new batch and commits the ones in hand. Both
            // need Redis to the end, which is why it outlives them.
            let (web, consumer) =
                tokio::join!(web, consume(&args, log, MAILER_GROUP, shutdown.clone()));
            web.and(consumer)
        }
        Role::Replay => replay(&args, log).await,
    };
    // Last, the private Redis: every commit and every append is done. Stopped earlier (as a
    // Ctrl-C to the whole group did), the consumer's last commits failed with broken pipes.
    drop(private_redis);
    ran
}

/// Connects, waiting for Redis if it is not up yet (the harness may restart it any time).
/// A process whose --partitions or --backend disagree with the log's stops at once:
/// waiting cannot fix that. `Ok(None)`: shutdown came first.
async fn connect(
    connector: &Connector,
    args: &Args,
    shutdown: &CancellationToken,
) -> anyhow::Result<Option<Log>> {
    let mut warned = false;
    loop {
        match Log::connect(connector.clone(), args.log_config()).await {
            Ok(log) => {
                announce_cluster(connector, &log).await;
                return Ok(Some(log));
            }
            Err(LogError::Redis(e)) if !warned => {
                tracing::warn!(error = %e, "waiting for Redis");
                warned = true;
            }
            Err(LogError::Redis(_)) => {}
            Err(e) => return Err(e.into()),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(None),
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

/// On a Redis Cluster, says so once, with its size and the seeds it was reached through:
/// partitions live on several nodes, and whoever reads the log should not have to guess.
async fn announce_cluster(connector: &Connector, log: &Log) {
    let Connector::Cluster(seeds) = connector else {
        return;
    };
    let seeds = seeds.join(", ");
    match connection::cluster_size(&mut log.connection()).await {
        Ok((nodes, masters)) => tracing::info!(
            "running on a Redis Cluster of {nodes} nodes ({masters} serving hash slots), \
             reached through the seeds {seeds}"
        ),
        Err(e) => tracing::info!(
            "running on a Redis Cluster, reached through the seeds {seeds} (its size is \
             unknown: {e})"
        ),
    }
}

async fn serve(args: &Args, log: Log, shutdown: CancellationToken) -> anyhow::Result<()> {
    let (host, port) = (&args.http.host, args.http.port);
    let access = kit::access::AdminAccess::new(host, port, args.admin.admin_token.clone())?;
    let listener = kit::http::bind(&args.http.addr()).await?;
    let retention = (args.retain_secs > 0 || args.retain_max > 0).then(|| {
        tokio::spawn(retention(
            log.clone(),
            args.retain_secs,
            args.retain_max,
            shutdown.clone(),
        ))
    });
    let dashboard = dashboard::Dashboard {
        log: log.clone(),
        gate: kit::dashboard::Gate::new(access),
        groups: vec![MAILER_GROUP.to_string()],
        retain_secs: args.retain_secs,
        retain_max: args.retain_max,
    };
    let publisher = web::Publisher { log, dashboard };
    kit::http::serve(listener, Arc::new(publisher), shutdown).await;
    // Serving ends with the shutdown, which ends retention too; a trim in progress still
    // finishes before the web role returns (and so before a private Redis stops under it).
    if let Some(retention) = retention {
        let _ = retention.await;
    }
    Ok(())
}

async fn consume(
    args: &Args,
    log: Log,
    group: &str,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    // Keep the embedded sink (if any) alive while consuming.
    let mut _sink = None;
    let handler: Arc<dyn Handler> = if group == MAILER_GROUP {
        let mail = kit::embedded::mail(&args.mail).await?;
        _sink = mail.sink;
        Arc::new(EmailHandler {
            mailer: mail.mailer,
        })
    } else {
        Arc::new(AuditHandler)
    };
    let config = args.consumer_config(group);
    let handle = loop {
        match consumer::start(
            log.clone(),
            config.clone(),
            handler.clone(),
            shutdown.child_token(),
        )
        .await
        {
            Ok(handle) => break handle,
            Err(e) => tracing::warn!(error = %e, "consumer could not join its group; retrying"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    };
    kit::ready::announce(
        "consumer",
        format_args!(
            "member {} of group {group}, delivery {}, {} backend, {} partitions",
            config.member,
            flag_value(config.delivery),
            flag_value(log.config().backend),
            log.config().partitions
        ),
    );
    shutdown.cancelled().await;
    tracing::info!("consumer stopping: finishing the batches in flight");
    handle.stop().await;
    tracing::info!("consumer stopped");
    Ok(())
}

/// A setting as its flag spells it (`at-least-once`), not as Rust names it.
fn flag_value(value: impl clap::ValueEnum) -> String {
    value
        .to_possible_value()
        .map_or_else(String::new, |v| v.get_name().to_owned())
}

async fn replay(args: &Args, log: Log) -> anyhow::Result<()> {
    let Some(target) = &args.to else {
        anyhow::bail!("--role replay needs --to start|OFFSET|STREAM-ID|TIME");
    };
    for moved in log.replay(&args.group, target, args.partition).await? {
        // `previous` is unknown on the Streams backend, and for a group that never read.
        let from = moved
            .previous
            .map(|p| format!(" from {p}"))
            .unwrap_or_default();
        tracing::info!(
            "replay: group {} partition {} moved{from} to {}",
            args.group,
            moved.partition,
            moved.now
        );
    }
    Ok(())
}

/// Retention, every 10 s: drop events older than `secs` and beyond `max` per partition.
async fn retention(log: Log, secs: u64, max: u64, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(10)) => {}
        }
        let cutoff = if secs == 0 {
            0
        } else {
            let now = chrono::Utc::now().timestamp_millis().max(0) as u64;
            now.saturating_sub(secs * 1000)
        };
        match log.trim(cutoff, max).await {
            Ok(0) => {}
            Ok(dropped) => tracing::info!("retention dropped {dropped} old event(s)"),
            Err(e) => tracing::warn!(error = %e, "retention failed"),
        }
    }
}
