//! The runtime-lag probe: the Rust form of MultiWorker's "is the event loop blocked?" check.
//!
//! A task sleeps for `interval` and measures how late it woke up. On an idle or I/O-bound
//! runtime it wakes within a millisecond or two; when jobs hog the runtime's threads (CPU
//! work in an async job, a blocking call), the timer task cannot run and the lateness grows.
//! Until the first measurement the runtime counts as blocked, as in node-resque.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
// workshop 5.2: solution begin
use std::time::{Duration, Instant};
// workshop 5.2: solution end
// workshop 5.2: starter
// use std::time::Duration;
// workshop 5.2: starter end
use tokio_util::sync::CancellationToken;

/// The last measured lateness, shared with whoever reads it.
#[derive(Clone)]
pub struct LagProbe {
    lag_us: Arc<AtomicU64>,
}

impl LagProbe {
    /// Starts measuring every `interval` until `stop` is cancelled.
    pub fn start(interval: Duration, stop: CancellationToken) -> LagProbe {
        let probe = LagProbe {
            lag_us: Arc::new(AtomicU64::new(u64::MAX)),
        };
        let lag_us = probe.lag_us.clone();
        tokio::spawn(async move {
            // workshop 5.2: solution begin
            loop {
                let asleep = Instant::now();
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = stop.cancelled() => return,
                }
                let late = asleep.elapsed().saturating_sub(interval);
                lag_us.store(late.as_micros() as u64, Ordering::Relaxed);
            }
            // workshop 5.2: solution end
            // workshop 5.2: starter
            // // Nothing measured yet: the runtime always looks free.
            // let _ = (interval, stop);
            // lag_us.store(0, Ordering::Relaxed);
            // workshop 5.2: starter end
        });
        probe
    }

    /// The last lateness; `None` before the first measurement.
    pub fn lag(&self) -> Option<Duration> {
        match self.lag_us.load(Ordering::Relaxed) {
            u64::MAX => None,
            us => Some(Duration::from_micros(us)),
        }
    }
}
