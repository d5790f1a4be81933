//! The strategies the harness knows: one [`Strategy`] entry each.
//!
//! An entry says which binary to run, which processes (roles) make up the strategy, in what
//! order to start them and how to tell each one is ready, which switches make a variant,
//! which part to kill in the `worker-crash` scenario, and what each variant promises when
//! it is killed. Everything else (sink, Redis, load, faults, accounting) is the same for
//! every strategy. Adding a strategy is one entry in [`STRATEGIES`]: `--strategies`, the
//! report and the harness's tests take it from there.
//!
//! The harness meets a strategy only through its face, the conventions every strategy
//! binary keeps: `--port`/`--host` on every role that serves HTTP, `SMTP_URL` and
//! `REDIS_URL` in the environment, `GET /healthz`, `GET /parked` (the mails it accepted,
//! gave up on, and keeps visible), and [`kit::ready`]'s line from roles without a web front.
//! It never reads a strategy's Redis keys.

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
    /// It logs [`kit::ready`]'s line for this role word (`worker`, `consumer`, ...).
    Line(&'static str),
    /// It promises no ready line: ready if it is still running a moment after the start.
    Alive,
}

/// A switch of a strategy that changes its outcome, measured as a run of its own.
#[derive(Debug)]
pub struct Variant {
    pub name: &'static str,
    /// Extra arguments, per role name.
    pub args: &'static [(&'static str, &'static [&'static str])],
    /// What this variant promises about accepted mail when its worker part is SIGKILLed
    /// mid-run; the harness's own tests hold every variant to it.
    pub worker_crash: CrashPromise,
}

/// What a variant promises under `worker-crash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPromise {
    /// Work in flight dies with the process: some accepted mail is lost silently.
    Loses,
    /// Nothing accepted is lost silently (it is sent, perhaps twice, or parked).
    LosesNothing,
    /// It depends on where the kill lands (what was in flight at that moment): no promise.
    NoPromise,
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

/// What `worker-crash` kills: the part of the strategy that holds work in flight.
#[derive(Debug, Clone, Copy)]
pub enum Crash {
    /// SIGKILL this role's process, then start a new one (a web role on the same port).
    Restart(&'static str),
    /// SIGKILL the process whose pid the web front reports in `GET /healthz` under this
    /// field. The strategy's own supervisor is expected to start a new one.
    ReportedPid(&'static str),
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
}

impl Strategy {
    /// The role that does the sending when it is a process of its own, apart from the web
    /// front (4's `worker`, 6's `consumer`): the one `worker-crash` restarts. `None` where
    /// the web front sends (1, 2) or the strategy forks its worker itself (3).
    pub fn worker_role(&self) -> Option<&'static str> {
        match self.crash {
            Crash::Restart(name) => self
                .roles
                .iter()
                .find(|r| r.name == name && !matches!(r.ready, Ready::Http))
                .map(|r| r.name),
            Crash::ReportedPid(_) => None,
        }
    }

    /// False for the [`FLOOR`] only: what it accepts is never mail to deliver.
    pub fn sends_mail(&self) -> bool {
        self.id != FLOOR.id
    }

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

/// The one variant of a strategy run as it is, whose worker-crash loses what was in flight.
const DEFAULT_LOSES: Variant = Variant {
    name: "default",
    args: &[],
    worker_crash: CrashPromise::Loses,
};

/// Every strategy, in the order of the talk.
pub const STRATEGIES: &[Strategy] = &[
    Strategy {
        id: "1",
        title: "foreground",
        binary: "strategy-1",
        uses_redis: false,
        roles: &[WEB],
        variants: &[Variant {
            name: "default",
            args: &[],
            // Requests in flight at the kill get an error; nothing accepted is pending.
            worker_crash: CrashPromise::LosesNothing,
        }],
        crash: Crash::Restart("web"),
    },
    Strategy {
        id: "2",
        title: "fire-and-forget",
        binary: "strategy-2",
        uses_redis: false,
        roles: &[WEB],
        variants: &[DEFAULT_LOSES],
        crash: Crash::Restart("web"),
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
        variants: &[
            DEFAULT_LOSES,
            Variant {
                name: "ack",
                args: &[("supervisor", &["--ack"])],
                // The supervisor keeps what the worker has not acknowledged and hands it
                // to the next worker: the mail being sent at the kill may arrive twice.
                worker_crash: CrashPromise::LosesNothing,
            },
        ],
        crash: Crash::ReportedPid("worker"),
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
                ready: Ready::Line("worker"),
            },
            WEB_ROLE,
        ],
        variants: &[
            DEFAULT_LOSES,
            Variant {
                name: "require-receivers",
                args: &[("web", &["--require-receivers"])],
                // A mail nobody heard is refused (503), but the killed worker's backlog is
                // still only in its memory.
                worker_crash: CrashPromise::Loses,
            },
        ],
        crash: Crash::Restart("worker"),
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
                ready: Ready::Line("worker"),
            },
            Role {
                name: "scheduler",
                args: &["--role", "scheduler"],
                ready: Ready::Line("scheduler"),
            },
            WEB_ROLE,
        ],
        variants: &[
            Variant {
                name: "default",
                args: &[],
                // The jobs taken by the killed worker are parked in `failed` once it is
                // found dead, unless the kill landed between send and record.
                worker_crash: CrashPromise::NoPromise,
            },
            Variant {
                name: "reliable",
                args: &[
                    ("worker", &["--reliable", "--retry", "3"]),
                    ("scheduler", &["--reliable"]),
                ],
                worker_crash: CrashPromise::LosesNothing,
            },
            Variant {
                name: "queue-bus",
                // The web role publishes an event; the worker subscribes the mailer app and
                // a second app, drives bus_incoming and rides both apps' queues.
                args: &[
                    ("web", &["--bus"]),
                    ("worker", &["--bus", "--bus-app", "offload_audit"]),
                    ("scheduler", &["--bus"]),
                ],
                // As the default: an event or a ride the killed worker held is parked in
                // `failed` once it is found dead, unless the kill landed after its fan-out
                // or its send but before the outcome was recorded.
                worker_crash: CrashPromise::NoPromise,
            },
        ],
        crash: Crash::Restart("worker"),
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
                ready: Ready::Line("consumer"),
            },
            WEB_ROLE,
        ],
        variants: &[
            Variant {
                name: "at-least-once",
                args: &[],
                worker_crash: CrashPromise::LosesNothing,
            },
            Variant {
                name: "at-most-once",
                args: &[("consumer", &["--delivery", "at-most-once"])],
                // Loses the rest of the batch in hand, if the kill finds one in hand.
                worker_crash: CrashPromise::NoPromise,
            },
        ],
        crash: Crash::Restart("consumer"),
    },
];

/// The floor, `0 hyper-hello`: `loadtest hello`, a bare hyper server that answers 202 and
/// does no work (see [`crate::floor`]). Not a strategy: it sends no mail, so it runs only in
/// the steady scenario, where every comparison runs it too, and its HTTP latency is what
/// the strategies' latencies are read against.
pub const FLOOR: Strategy = Strategy {
    id: "0",
    title: "hyper-hello",
    binary: "loadtest",
    uses_redis: false,
    roles: &[Role {
        name: "web",
        args: &["hello"],
        ready: Ready::Http,
    }],
    variants: &[Variant {
        name: "default",
        args: &[],
        worker_crash: CrashPromise::NoPromise,
    }],
    crash: Crash::Restart("web"),
};

/// The entry for `id` (`"0"`, the floor, to `"6"`).
pub fn find(id: &str) -> Option<&'static Strategy> {
    std::iter::once(&FLOOR)
        .chain(STRATEGIES)
        .find(|s| s.id == id)
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
    fn only_4_to_6_have_a_worker_process_of_their_own() {
        let workers: Vec<(&str, Option<&str>)> =
            STRATEGIES.iter().map(|s| (s.id, s.worker_role())).collect();
        assert_eq!(
            workers,
            [
                ("1", None),
                ("2", None),
                ("3", None),
                ("4", Some("worker")),
                ("5", Some("worker")),
                ("6", Some("consumer")),
            ]
        );
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
