//! SIGKILL of a worker process with jobs in flight: with `--reliable` nothing is lost (the
//! restarted worker puts the dead one's jobs back); without it the loss shows up in `failed`.

mod common;

use common::{wait_until, DEADLINE};
use kit::RedisServer;
use mailer::{Faults, Latency, Sink, SinkConfig};
use serde_json::json;
use std::collections::BTreeSet;
use strategy_5::Queue;
use testkit::ChildProcess;

const BIN: &str = env!("CARGO_BIN_EXE_strategy-5");
const JOBS: usize = 12;
const SLOTS: &str = "4";

struct Run {
    redis: RedisServer,
    sink: Sink,
    queue: Queue,
}

impl Run {
    async fn start() -> Run {
        let redis = RedisServer::start().unwrap();
        let sink = Sink::start_local(SinkConfig {
            faults: Faults {
                latency: Latency::fixed(700),
                ..Faults::default()
            },
            ..SinkConfig::default()
        })
        .await
        .unwrap();
        let queue = Queue::connect(&redis.url()).await.unwrap();
        Run { redis, sink, queue }
    }

    fn worker(&self, reliable: bool) -> ChildProcess {
        let mut args = vec!["--role", "worker", "--min", SLOTS, "--max", SLOTS];
        if reliable {
            args.push("--reliable");
        }
        let (redis, smtp) = (self.redis.url(), self.sink.url());
        ChildProcess::start(BIN, args, &[("REDIS_URL", &redis), ("SMTP_URL", &smtp)]).unwrap()
    }

    async fn enqueue_all(&self) {
        for i in 0..JOBS {
            let email = json!({"to": format!("u{i}@example.com"), "subject": "s", "text": "t"});
            self.queue
                .enqueue("emailQueue", "sendEmail", vec![email])
                .await
                .unwrap();
        }
    }

    fn delivered(&self) -> BTreeSet<String> {
        self.sink.deliveries().into_iter().map(|d| d.to).collect()
    }

    /// Kills the worker while it has jobs in flight, not before any was taken.
    async fn kill_mid_run(&self, worker: &mut ChildProcess) {
        assert!(
            worker.wait_for_log("worker ready", DEADLINE).await,
            "{}",
            worker.logs()
        );
        self.enqueue_all().await;
        wait_until("jobs in flight", || async {
            self.queue
                .all_working_on()
                .await
                .unwrap()
                .values()
                .filter(|v| v.is_object())
                .count()
                >= 2
        })
        .await;
        worker.kill();
    }
}

#[tokio::test]
async fn reliable_fetch_loses_nothing_when_a_worker_is_killed() {
    let run = Run::start().await;
    let mut first = run.worker(true);
    run.kill_mid_run(&mut first).await;
    let in_flight: usize = {
        let keys: Vec<String> =
            redis::AsyncCommands::keys(&mut run.queue.connection(), "resque:processing:*")
                .await
                .unwrap();
        let mut n = 0;
        for key in keys {
            let len: usize = redis::AsyncCommands::llen(&mut run.queue.connection(), &key)
                .await
                .unwrap();
            n += len;
        }
        n
    };
    assert!(
        in_flight >= 1,
        "the kill should catch jobs in their processing lists"
    );

    let second = run.worker(true);
    assert!(
        second
            .wait_for_log("put back the unfinished jobs of worker", DEADLINE)
            .await,
        "{}",
        second.logs()
    );
    let all: BTreeSet<String> = (0..JOBS).map(|i| format!("u{i}@example.com")).collect();
    wait_until("every job delivered", || async { run.delivered() == all }).await;
    // At-least-once: a job killed after the sink took its mail runs again (a duplicate).
    assert!(run.sink.deliveries().len() >= JOBS);
    assert_eq!(run.queue.failed_count().await.unwrap(), 0);
    assert_eq!(
        run.queue.workers().await.unwrap().len(),
        4,
        "only the live worker's slots remain"
    );
}

#[tokio::test]
async fn without_reliable_fetch_killed_jobs_are_never_rerun_and_show_as_failed() {
    let run = Run::start().await;
    let mut first = run.worker(false);
    run.kill_mid_run(&mut first).await;
    // What the dead worker held: taken off the queue, never to be finished by anyone.
    let in_flight = run
        .queue
        .all_working_on()
        .await
        .unwrap()
        .values()
        .filter(|v| v.is_object())
        .count();
    assert!(in_flight >= 1);
    let second = run.worker(false);
    wait_until("queue drained and the dead worker cleaned", || async {
        run.queue.length("emailQueue").await.unwrap() == 0
            && run.queue.workers().await.unwrap().len() == 4
            && run
                .queue
                .all_working_on()
                .await
                .unwrap()
                .values()
                .all(|v| v == "started")
            // A slot reads idle a moment before the sink has stored the mail it just sent.
            && run.sink.deliveries().len() >= JOBS - in_flight
    })
    .await;
    let failed = run.queue.failed(0, -1).await.unwrap();
    assert!(!failed.is_empty(), "{}", second.logs());
    for entry in &failed {
        assert_eq!(entry["error"], "Worker Timeout (killed manually)");
    }
    assert_eq!(
        failed.len(),
        in_flight,
        "every job the killed worker held is recorded as failed"
    );
    // Nobody ran them again: each address got at most one mail (the killed worker may have
    // handed a mail to the sink before it died; its job still never finished).
    let deliveries = run.sink.deliveries();
    assert_eq!(deliveries.len(), run.delivered().len(), "no job ran twice");
}
