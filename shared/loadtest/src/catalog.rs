//! The strategies the harness knows: one [`Strategy`] entry each.
//!
//! An entry says which binary to run, which processes (roles) make up the strategy, in what
//! order to start them and how to tell each one is ready, which switches make a variant,
//! which part to kill in the `worker-crash` scenario, and where mail that failed is parked.
//! Everything else (sink, Redis, load, faults, accounting) is the same for every strategy.
//!
//! The entries rely on the conventions every strategy binary keeps: `--port`/`--host` on
//! every role that serves HTTP, `SMTP_URL` and `REDIS_URL` in the environment, and a log
//! line containing `worker ready` (or `consumer ready`) from roles without a web front.

/// One process of a strategy.
#[derive(Debug)]
pub struct Role {
    /// The name the harness and the report use (`web`, `worker`, ...).
    pub name: &'static str,
    /// Arguments that start this role (`--role worker`, ...). `--port` is added for web roles.
    pub args: &'static [&'static str],
    pub ready: Ready,
}

/// How the harness knows a freshly started process can take work.
#[derive(Debug, Clone, Copy)]
pub enum Ready {
    /// It serves HTTP: it gets `--port` and is ready when `GET /healthz` answers 200.
    Http,
    /// It logs a line containing this text.
    Log(&'static str),
    /// It promises no ready line: ready if it is still running a moment after the start.
    Alive,
}

/// A switch of a strategy that changes its outcome, measured as a run of its own.
#[derive(Debug)]
pub struct Variant {
    pub name: &'static str,
    /// Extra arguments, per role name.
    pub args: &'static [(&'static str, &'static [&'static str])],
}

impl Variant {
    /// This variant's extra arguments for `role`.
    pub fn args_for<'a>(&'a self, role: &'a str) -> impl Iterator<Item = &'static str> + 'a {
        self.args
            .iter()
            .filter(move |(name, _)| *name == role)
            .flat_map(|(_, args)| args.iter().copied())
    }
}

/// The strategy's only variant when it has no outcome-changing switch.
pub const DEFAULT_ONLY: &[Variant] = &[Variant {
    name: "default",
    args: &[],
}];

/// What `worker-crash` kills: the part of the strategy that holds work in flight.
#[derive(Debug, Clone, Copy)]
pub enum Crash {
    /// SIGKILL this role's process, then start a new one (a web role on the same port).
    Restart(&'static str),
    /// SIGKILL the process whose pid the web front reports in `GET /healthz` under this
    /// field. The strategy's own supervisor is expected to start a new one.
    ReportedPid(&'static str),
}

/// Where a strategy keeps mail it accepted but gave up on (and says so).
#[derive(Debug, Clone, Copy)]
pub enum Parked {
    /// Nowhere: a failed mail is either refused to the client or lost.
    Nowhere,
    /// Resque's failed list, the Redis list `resque:failed`.
    ResqueFailed,
    /// The event log's dead letters of this consumer group.
    EventLogDeadLetters { group: &'static str },
}

/// One strategy, as the harness runs it.
#[derive(Debug)]
pub struct Strategy {
    /// `"1"` to `"6"`: what `--strategies` selects.
    pub id: &'static str,
    pub title: &'static str,
    /// The executable's file name in the bin dir.
    pub binary: &'static str,
    /// Gets its own redis-server (AOF on) through `REDIS_URL`; runs the `redis-restart` scenario.
    pub uses_redis: bool,
    /// Started in this order: workers before the web front, so the first request finds them.
    pub roles: &'static [Role],
    pub variants: &'static [Variant],
    pub crash: Crash,
    pub parked: Parked,
}

impl Strategy {
    /// `"2 fire-and-forget"`, or `"5 resque (reliable)"` for a variant other than the first.
    pub fn label(&self, variant: &Variant) -> String {
        if self.variants.len() > 1 {
            format!("{} {} ({})", self.id, self.title, variant.name)
        } else {
            format!("{} {}", self.id, self.title)
        }
    }
}

const WEB: Role = Role {
    name: "web",
    args: &[],
    ready: Ready::Http,
};
const WEB_ROLE: Role = Role {
    name: "web",
    args: &["--role", "web"],
    ready: Ready::Http,
};

/// Every strategy, in the order of the talk.
pub const STRATEGIES: &[Strategy] = &[
    Strategy {
        id: "1",
        title: "foreground",
        binary: "strategy-1",
        uses_redis: false,
        roles: &[WEB],
        variants: DEFAULT_ONLY,
        crash: Crash::Restart("web"),
        parked: Parked::Nowhere,
    },
    Strategy {
        id: "2",
        title: "fire-and-forget",
        binary: "strategy-2",
        uses_redis: false,
        roles: &[WEB],
        variants: DEFAULT_ONLY,
        crash: Crash::Restart("web"),
        parked: Parked::Nowhere,
    },
    Strategy {
        id: "3",
        title: "forked-ipc",
        binary: "strategy-3",
        uses_redis: false,
        // The supervisor forks the web and worker children itself; its web child serves
        // `--port`. The default 1000 ms throttle per mail is the demo's pacing, not the
        // strategy, so it is off here.
        roles: &[Role {
            name: "supervisor",
            args: &["--throttle-ms", "0"],
            ready: Ready::Http,
        }],
        variants: DEFAULT_ONLY,
        crash: Crash::ReportedPid("worker"),
        parked: Parked::Nowhere,
    },
    Strategy {
        id: "4",
        title: "pubsub",
        binary: "strategy-4",
        uses_redis: true,
        roles: &[
            Role {
                name: "worker",
                args: &["--role", "worker", "--throttle-ms", "0"],
                ready: Ready::Log("worker ready"),
            },
            WEB_ROLE,
        ],
        variants: DEFAULT_ONLY,
        crash: Crash::Restart("worker"),
        parked: Parked::Nowhere,
    },
    Strategy {
        id: "5",
        title: "resque",
        binary: "strategy-5",
        uses_redis: true,
        roles: &[
            Role {
                name: "worker",
                args: &["--role", "worker"],
                ready: Ready::Log("worker ready"),
            },
            Role {
                name: "scheduler",
                args: &["--role", "scheduler"],
                ready: Ready::Log("scheduler ready"),
            },
            WEB_ROLE,
        ],
        variants: &[
            Variant {
                name: "default",
                args: &[],
            },
            Variant {
                name: "reliable",
                args: &[
                    ("worker", &["--reliable", "--retry", "3"]),
                    ("scheduler", &["--reliable"]),
                ],
            },
        ],
        crash: Crash::Restart("worker"),
        parked: Parked::ResqueFailed,
    },
    Strategy {
        id: "6",
        title: "event-bus",
        binary: "strategy-6",
        uses_redis: true,
        roles: &[
            Role {
                name: "consumer",
                args: &["--role", "consumer", "--group", "mailer"],
                ready: Ready::Log("consumer ready"),
            },
            WEB_ROLE,
        ],
        variants: &[
            Variant {
                name: "at-least-once",
                args: &[],
            },
            Variant {
                name: "at-most-once",
                args: &[("consumer", &["--delivery", "at-most-once"])],
            },
        ],
        crash: Crash::Restart("consumer"),
        parked: Parked::EventLogDeadLetters { group: "mailer" },
    },
];

/// The entry for `id` (`"1"` to `"6"`).
pub fn find(id: &str) -> Option<&'static Strategy> {
    STRATEGIES.iter().find(|s| s.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_crash_target_and_variant_names_a_role_of_its_strategy() {
        for strategy in STRATEGIES {
            let has_role = |name: &str| strategy.roles.iter().any(|r| r.name == name);
            if let Crash::Restart(role) = strategy.crash {
                assert!(has_role(role), "strategy {}: no role {role}", strategy.id);
            }
            for variant in strategy.variants {
                for (role, _) in variant.args {
                    assert!(has_role(role), "strategy {}: no role {role}", strategy.id);
                }
            }
            let web_roles = strategy
                .roles
                .iter()
                .filter(|r| matches!(r.ready, Ready::Http))
                .count();
            assert_eq!(web_roles, 1, "strategy {}: one web front", strategy.id);
        }
    }

    #[test]
    fn variant_args_go_to_their_role_only() {
        let resque = find("5").unwrap();
        let reliable = &resque.variants[1];
        assert_eq!(
            reliable.args_for("worker").collect::<Vec<_>>(),
            ["--reliable", "--retry", "3"]
        );
        assert_eq!(reliable.args_for("web").count(), 0);
    }
}
