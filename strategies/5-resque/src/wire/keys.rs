//! Key names, exactly as node-resque builds them: the namespace and the parts joined by `:`.
//!
//! Every other module asks this one for a key, so the whole wire layout can be read here.

/// The namespace (default `resque`) and the keys under it.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Default for Keys {
    fn default() -> Keys {
        Keys::new("resque")
    }
}

impl Keys {
    /// `namespace` empty gives bare keys, as in node-resque.
    pub fn new(namespace: &str) -> Keys {
        let namespace = namespace.trim();
        let prefix = if namespace.is_empty() {
            String::new()
        } else {
            format!("{namespace}:")
        };
        Keys { prefix }
    }

    /// `resque:` (what `SCAN MATCH` patterns and Lua scripts prepend).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn key(&self, rest: &str) -> String {
        format!("{}{rest}", self.prefix)
    }

    /// Strips the namespace from a key returned by `SCAN`.
    pub fn strip<'a>(&self, key: &'a str) -> &'a str {
        key.strip_prefix(self.prefix.as_str()).unwrap_or(key)
    }

    pub fn queues(&self) -> String {
        self.key("queues")
    }
    pub fn queue(&self, queue: &str) -> String {
        self.key(&format!("queue:{queue}"))
    }
    pub fn failed(&self) -> String {
        self.key("failed")
    }
    pub fn workers(&self) -> String {
        self.key("workers")
    }
    /// What worker `id` (`NAME:QUEUES`) works on right now.
    pub fn worker(&self, id: &str) -> String {
        self.key(&format!("worker:{id}"))
    }
    pub fn worker_started(&self, id: &str) -> String {
        self.key(&format!("worker:{id}:started"))
    }
    /// Liveness: `{"time":<s>,"name":NAME,"queues":"a,b"}`, keyed by the name without queues.
    pub fn ping(&self, name: &str) -> String {
        self.key(&format!("worker:ping:{name}"))
    }
    pub fn stat(&self, stat: &str) -> String {
        self.key(&format!("stat:{stat}"))
    }
    /// A worker's own counter (`stat` is `processed` or `failed`), under both names it is
    /// read by: node-resque's `stat:S:NAME` and Ruby Resque's (and resque-web's)
    /// `stat:S:NAME:QUEUES`. Each count goes to both.
    pub fn worker_stats(&self, stat: &str, name: &str, queues: &str) -> [String; 2] {
        [
            self.key(&format!("stat:{stat}:{name}")),
            self.key(&format!("stat:{stat}:{name}:{queues}")),
        ]
    }
    /// Ruby Resque's liveness: a hash from worker id to its last heartbeat (ISO-8601).
    /// resque-web shows it, and Ruby's `prune_dead_workers` unregisters a worker whose
    /// heartbeat is too old (it never touches one that has none).
    pub fn heartbeats(&self) -> String {
        self.key("workers:heartbeat")
    }
    pub fn delayed_schedule(&self) -> String {
        self.key("delayed_queue_schedule")
    }
    pub fn delayed(&self, ts_seconds: i64) -> String {
        self.key(&format!("delayed:{ts_seconds}"))
    }
    /// Which `delayed:TS` lists hold this exact item (the key embeds the item's bytes).
    pub fn timestamps(&self, item: &str) -> String {
        self.key(&format!("timestamps:{item}"))
    }
    pub fn leader_lock(&self) -> String {
        self.key("resque_scheduler_leader_lock")
    }
    /// resque-scheduler's leader lock. It names its key `NAMESPACE:resque_scheduler_master_lock`
    /// and redis-namespace prefixes the namespace once more, so the key in Redis is
    /// `resque:resque:resque_scheduler_master_lock`. Holding it too keeps a Ruby scheduler
    /// from promoting beside ours.
    pub fn ruby_scheduler_lock(&self) -> String {
        format!("{0}{0}resque_scheduler_master_lock", self.prefix)
    }
    /// Reliable fetch only (not part of Resque): jobs worker `name` took from `queue` and
    /// has not finished. The queue comes first so a worker's lists can be found per queue.
    pub fn processing(&self, queue: &str, name: &str) -> String {
        self.key(&format!("processing:{queue}:{name}"))
    }

    // ----- QueueBus (the `bus` module): the names node-queue-bus, resque-bus and
    // py-queue-bus all use under the same namespace -----

    /// The set of application keys that have subscriptions.
    pub fn bus_apps(&self) -> String {
        self.key("bus_apps")
    }
    /// One application's subscriptions: field = subscription key, value = its record.
    pub fn bus_app(&self, app: &str) -> String {
        self.key(&format!("bus_app:{app}"))
    }
    /// Who runs the heartbeat now: a lock holding its expiry (Unix seconds).
    pub fn bus_heartbeat_lock(&self) -> String {
        self.key("bus:heartbeat:lock")
    }
    /// The last epoch minute the heartbeat published.
    pub fn bus_heartbeat_timestamp(&self) -> String {
        self.key("bus:heartbeat:timestamp")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_rules_follow_node_resque() {
        assert_eq!(Keys::default().queue("math"), "resque:queue:math");
        assert_eq!(Keys::new("").queue("math"), "queue:math");
        assert_eq!(Keys::new("  ").failed(), "failed");
        assert_eq!(
            Keys::default().worker_started("h:1:a,b"),
            "resque:worker:h:1:a,b:started"
        );
        assert_eq!(
            Keys::default().leader_lock(),
            "resque:resque_scheduler_leader_lock"
        );
        assert_eq!(
            Keys::default().ruby_scheduler_lock(),
            "resque:resque:resque_scheduler_master_lock"
        );
        assert_eq!(
            Keys::default().worker_stats("processed", "h:1", "a,b"),
            ["resque:stat:processed:h:1", "resque:stat:processed:h:1:a,b"]
        );
        assert_eq!(Keys::default().bus_app("my_app"), "resque:bus_app:my_app");
        assert_eq!(Keys::default().bus_apps(), "resque:bus_apps");
        assert_eq!(
            Keys::default().bus_heartbeat_timestamp(),
            "resque:bus:heartbeat:timestamp"
        );
    }
}
