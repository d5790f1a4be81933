//! The log on a real Redis Cluster: 3 masters, partitions on different nodes, every script
//! call on one slot. Started here with redis-server in cluster mode and `redis-cli --cluster
//! create`, like scripts/redis-cluster does.

mod common;

use common::*;
use kit::{RedisOptions, RedisServer};
use std::collections::HashSet;
use std::process::Command;
use std::time::{Duration, Instant};
use strategy_6::{Backend, Connector, Log, LogConfig};
use testkit::ChildProcess;

/// A free port whose cluster bus port (+10000) is free too.
fn cluster_port() -> u16 {
    loop {
        let port = kit::redis_server::free_port();
        if port < 50000 && std::net::TcpListener::bind(("127.0.0.1", port + 10000)).is_ok() {
            return port;
        }
    }
}

fn start_cluster() -> Vec<RedisServer> {
    let nodes: Vec<RedisServer> = (0..3)
        .map(|_| {
            RedisServer::start_with(RedisOptions {
                port: Some(cluster_port()),
                extra_args: vec![
                    ("cluster-enabled".into(), "yes".into()),
                    ("cluster-config-file".into(), "nodes.conf".into()),
                    ("cluster-node-timeout".into(), "5000".into()),
                ],
                ..RedisOptions::default()
            })
            .expect("a cluster node")
        })
        .collect();
    let status = Command::new("redis-cli")
        .arg("--cluster")
        .arg("create")
        .args(nodes.iter().map(|n| format!("127.0.0.1:{}", n.port())))
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("redis-cli");
    assert!(status.success(), "redis-cli --cluster create failed");
    let deadline = Instant::now() + DEADLINE;
    for node in &nodes {
        loop {
            let info = Command::new("redis-cli")
                .args(["-p", &node.port().to_string(), "cluster", "info"])
                .output()
                .expect("redis-cli");
            if String::from_utf8_lossy(&info.stdout).contains("cluster_state:ok") {
                break;
            }
            assert!(Instant::now() < deadline, "the cluster never became ok");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    nodes
}

/// How many nodes hold keys matching `pattern`.
fn nodes_holding(nodes: &[RedisServer], pattern: &str) -> usize {
    nodes
        .iter()
        .filter(|node| {
            let out = Command::new("redis-cli")
                .args([
                    "-p",
                    &node.port().to_string(),
                    "--scan",
                    "--pattern",
                    pattern,
                ])
                .output()
                .expect("redis-cli");
            !String::from_utf8_lossy(&out.stdout).trim().is_empty()
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_runs_on_a_redis_cluster_with_partitions_on_several_nodes() {
    let nodes = start_cluster();
    let seeds: Vec<String> = nodes.iter().map(|n| n.url()).collect();
    for (backend, prefix) in [(Backend::Lists, "lists"), (Backend::Streams, "streams")] {
        let log = Log::connect(
            Connector::Cluster(seeds.clone()),
            LogConfig {
                prefix: prefix.into(),
                partitions: 4,
                backend,
            },
        )
        .await
        .expect("connect to the cluster");
        let published = log.publish_batch(events(100, 20)).await.unwrap();
        assert_eq!(
            published
                .iter()
                .map(|a| a.partition)
                .collect::<HashSet<_>>()
                .len(),
            4
        );
        let (mailer, audit) = (Recorder::new(), Recorder::new());
        let a = start(&log, config("mailer"), mailer.clone()).await;
        let b = start(&log, config("audit"), audit.clone()).await;
        log.publish_batch(events(20, 20)).await.unwrap();
        assert!(
            wait_until(|| mailer.count() == 120 && audit.count() == 120).await,
            "{backend:?}: mailer {} audit {}",
            mailer.count(),
            audit.count()
        );
        a.stop().await;
        b.stop().await;
        let data_key = if backend == Backend::Lists {
            "log"
        } else {
            "stream"
        };
        let spread = nodes_holding(&nodes, &format!("{{{prefix}:*}}:{data_key}"));
        assert!(spread >= 2, "{backend:?}: partitions on {spread} node(s)");
    }
}

/// A process on a cluster says so once at start-up, with the cluster's size and the seeds
/// it was given: an operator reading the log must not have to guess where events go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_says_once_that_it_runs_on_a_redis_cluster() {
    let nodes = start_cluster();
    let seeds: Vec<String> = nodes.iter().map(|n| n.url()).collect();
    let audit = ChildProcess::start(
        env!("CARGO_BIN_EXE_strategy-6"),
        ["--role", "consumer", "--group", "audit"],
        &[("REDIS_URL", &seeds.join(",")), ("REDIS_CLUSTER", "1")],
    )
    .unwrap();
    assert!(
        audit.wait_for_log("consumer ready", DEADLINE).await,
        "{}",
        audit.logs()
    );
    let logs = audit.logs();
    let lines: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("Redis Cluster"))
        .collect();
    assert_eq!(lines.len(), 1, "{logs}");
    assert!(lines[0].contains("3 nodes"), "{}", lines[0]);
    assert!(lines[0].contains(&seeds[0]), "{}", lines[0]);
}
