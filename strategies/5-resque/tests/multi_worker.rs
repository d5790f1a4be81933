//! MultiWorker scaling by runtime lag. The tests run on tokio's current-thread runtime, the
//! closest thing to Node's single event loop: an async job that blocks holds up everything.
//! They assert slot counts, never durations.

mod common;

use common::*;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use strategy_5::events::WorkerEvent;
use strategy_5::worker::{MultiWorker, MultiWorkerOptions, WorkerOptions};
use strategy_5::{EventSender, JobDef, Jobs};

fn options(max: usize) -> MultiWorkerOptions {
    let mut worker = WorkerOptions::new(&["slow"]);
    worker.block_timeout = Duration::from_millis(500);
    let mut o = MultiWorkerOptions::new(worker);
    o.min = 1;
    o.max = max;
    o.check_interval = Duration::from_millis(50);
    // Generous for a loaded CI machine; a blocking job is late by a whole job (150 ms).
    o.max_lag = Duration::from_millis(40);
    o
}

async fn enqueue(s: &Setup, n: usize) {
    let jobs: Vec<_> = (0..n)
        .map(|i| ("slow".to_string(), "job".to_string(), vec![json!(i)]))
        .collect();
    s.queue.enqueue_bulk(&jobs).await.unwrap();
}

async fn processed(s: &Setup) -> u64 {
    s.get("resque:stat:processed")
        .await
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn start(s: &Setup, jobs: Jobs, max: usize) -> (MultiWorker, EventSender) {
    let events = EventSender::new("test");
    let multi = MultiWorker::new(
        options(max),
        s.queue.clone(),
        s.client.clone(),
        Arc::new(jobs),
        events.clone(),
    );
    (multi, events)
}

#[tokio::test]
async fn scales_up_to_max_under_io_bound_jobs() {
    let s = setup().await;
    enqueue(&s, 400).await;
    let jobs = Jobs::new().with(
        "job",
        JobDef::new(|_| async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok(json!(null))
        }),
    );
    let (multi, _) = start(&s, jobs, 6);
    let (status, stop) = (multi.status(), multi.stop_token());
    let task = tokio::spawn(multi.run());
    wait_until("six slots", || async {
        status.most_slots.load(Ordering::Relaxed) == 6
    })
    .await;
    wait_until("six registered workers", || async {
        s.queue.workers().await.unwrap().len() == 6
    })
    .await;
    assert!(
        status.lag_us.load(Ordering::Relaxed) != u64::MAX,
        "lag is measured and exposed"
    );
    // Out of work, the idle slots are retired down to `min`, each unregistering itself.
    s.queue.del_queue("slow").await.unwrap();
    wait_until("back to one slot", || async {
        status.slots.load(Ordering::Relaxed) == 1
    })
    .await;
    wait_until("one registered worker", || async {
        s.queue.workers().await.unwrap().len() == 1
    })
    .await;
    stop.cancel();
    task.await.unwrap();
    assert!(
        s.queue.workers().await.unwrap().is_empty(),
        "every slot unregistered"
    );
}

#[tokio::test]
async fn does_not_scale_up_when_jobs_block_the_runtime() {
    let s = setup().await;
    enqueue(&s, 40).await;
    // CPU-bound work written as an async job: it blocks the runtime thread, as a busy loop
    // blocks Node's event loop. It yields once halfway, so the scaler runs while the slot is
    // busy and would add a slot if it ignored the lag. (A job that never yields is always
    // seen idle: the scaler only runs between jobs, and the test could not fail.)
    let jobs = Jobs::new().with(
        "job",
        JobDef::new(|_| async {
            std::thread::sleep(Duration::from_millis(150));
            tokio::task::yield_now().await;
            std::thread::sleep(Duration::from_millis(150));
            Ok(json!(null))
        }),
    );
    let (multi, _) = start(&s, jobs, 6);
    let (status, stop) = (multi.status(), multi.stop_token());
    let task = tokio::spawn(multi.run());
    wait_until("eight jobs done", || async { processed(&s).await >= 8 }).await;
    assert_eq!(
        status.most_slots.load(Ordering::Relaxed),
        1,
        "a blocked runtime gets no new slot"
    );
    stop.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn cpu_bound_jobs_on_the_blocking_pool_leave_the_runtime_free() {
    let s = setup().await;
    enqueue(&s, 200).await;
    let jobs = Jobs::new().with(
        "job",
        JobDef::blocking(|_| {
            std::thread::sleep(Duration::from_millis(150));
            Ok(json!(null))
        }),
    );
    let (multi, _) = start(&s, jobs, 4);
    let (status, stop) = (multi.status(), multi.stop_token());
    let task = tokio::spawn(multi.run());
    wait_until("four slots", || async {
        status.most_slots.load(Ordering::Relaxed) == 4
    })
    .await;
    stop.cancel();
    task.await.unwrap();
}

/// A burst finds every slot busy, and the slots double instead of growing one per check
/// (node-resque's pace, `max` checks to meet it): some `+` adds more than one slot.
#[tokio::test]
async fn slots_double_while_every_slot_is_busy() {
    let s = setup().await;
    enqueue(&s, 800).await;
    let jobs = Jobs::new().with(
        "job",
        JobDef::new(|_| async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok(json!(null))
        }),
    );
    let (multi, events) = start(&s, jobs, 16);
    let mut actions = events.subscribe();
    let (status, stop) = (multi.status(), multi.stop_token());
    let task = tokio::spawn(multi.run());
    wait_until("sixteen slots", || async {
        status.most_slots.load(Ordering::Relaxed) == 16
    })
    .await;
    stop.cancel();
    task.await.unwrap();
    let mut grown_by = Vec::new();
    let mut before = 1;
    loop {
        match actions.try_recv() {
            Ok(event) => {
                if let WorkerEvent::MultiWorkerAction { verb, slots, .. } = event.event {
                    if verb == "+" {
                        grown_by.push(slots.saturating_sub(before));
                    }
                    before = slots;
                }
            }
            Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => continue,
            Err(_) => break,
        }
    }
    assert!(
        grown_by.iter().any(|added| *added > 1),
        "slots added per +: {grown_by:?}"
    );
}
