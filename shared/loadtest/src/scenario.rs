//! The five scenarios: the same load, with a different fault each.

use crate::catalog::Strategy;
use mailer::{Faults, Latency};
use std::fmt;
use std::str::FromStr;

/// Share of messages the sink refuses with a transient `451` in `flaky-mailer`.
pub const FLAKY_FAILURE_RATE: f64 = 0.2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// No fault: the baseline.
    Steady,
    /// The SMTP server refuses 20% of messages with a transient error.
    FlakyMailer,
    /// Halfway through the load, once a mail is in the middle of its send, the part holding
    /// work in flight is SIGKILLed and restarted.
    WorkerCrash,
    /// Halfway through the load, Redis is stopped and started again (with its AOF).
    RedisRestart,
    /// The worker part is not running during the first half of the load; it starts halfway.
    /// Only for strategies whose worker is a process of its own (4 to 6).
    LateWorker,
}

impl Scenario {
    pub const ALL: [Scenario; 5] = [
        Scenario::Steady,
        Scenario::FlakyMailer,
        Scenario::WorkerCrash,
        Scenario::RedisRestart,
        Scenario::LateWorker,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Steady => "steady",
            Scenario::FlakyMailer => "flaky-mailer",
            Scenario::WorkerCrash => "worker-crash",
            Scenario::RedisRestart => "redis-restart",
            Scenario::LateWorker => "late-worker",
        }
    }

    /// One sentence for the report.
    pub fn description(self) -> &'static str {
        match self {
            Scenario::Steady => "No fault: every part runs, the mail server accepts everything.",
            Scenario::FlakyMailer => {
                "The mail server refuses 20% of messages with a transient 451 error."
            }
            Scenario::WorkerCrash => {
                "Halfway through the load, at a moment a mail is being sent, the part that holds \
                 work in flight is killed with SIGKILL and started again (the whole process \
                 for 1 and 2)."
            }
            Scenario::RedisRestart => {
                "Halfway through the load, Redis is stopped and started again; its append-only \
                 file brings back what it had acknowledged. Only the strategies that use Redis \
                 (4 to 6) run this scenario."
            }
            Scenario::LateWorker => {
                "Only the web front runs during the first half of the load; the worker part \
                 starts halfway. A queue keeps what arrived meanwhile; pub/sub reaches nobody. \
                 Only the strategies whose worker is a process of its own (4 to 6) run this \
                 scenario."
            }
        }
    }

    /// Whether this scenario means anything for `strategy` (no Redis, no Redis restart; no
    /// mail, the floor: only the steady scenario).
    pub fn applies_to(self, strategy: &Strategy) -> bool {
        if !strategy.sends_mail() {
            return self == Scenario::Steady;
        }
        match self {
            Scenario::RedisRestart => strategy.uses_redis,
            Scenario::LateWorker => strategy.worker_role().is_some(),
            Scenario::Steady | Scenario::FlakyMailer | Scenario::WorkerCrash => true,
        }
    }

    /// Whether the fault happens once, in the middle of the load.
    pub fn has_mid_run_fault(self) -> bool {
        matches!(
            self,
            Scenario::WorkerCrash | Scenario::RedisRestart | Scenario::LateWorker
        )
    }

    /// The role not started with the others, for a scenario that starts it mid-run.
    pub fn held_back_role(self, strategy: &Strategy) -> Option<&'static str> {
        match self {
            Scenario::LateWorker => strategy.worker_role(),
            _ => None,
        }
    }

    /// What the sink does to each message in this scenario.
    pub fn sink_faults(self, latency: Latency) -> Faults {
        let failure_rate = match self {
            Scenario::FlakyMailer => FLAKY_FAILURE_RATE,
            _ => 0.0,
        };
        Faults {
            latency,
            failure_rate,
            ..Faults::default()
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scenario {
    type Err = String;

    fn from_str(s: &str) -> Result<Scenario, String> {
        Scenario::ALL
            .into_iter()
            .find(|scenario| scenario.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Scenario::ALL.iter().map(|s| s.name()).collect();
                format!("unknown scenario {s:?}; known: {}", names.join(", "))
            })
    }
}
