//! Every Redis key of the log, in one place.
//!
//! All keys of partition `P` share the hash tag `{PREFIX:P}`, so each script call (which
//! only touches one partition) stays on one hash slot, and different partitions spread over
//! the slots of a cluster.
//!
//! | key | type | holds |
//! |---|---|---|
//! | `{events:P}:log` | LIST | the events of partition P (list backend), oldest first |
//! | `{events:P}:meta` | HASH | `base`: the offset of the list's first element; `last_ms`: the newest stamp |
//! | `{events:P}:wake` | STREAM (1 entry) | bumped by every append; idle consumers block on it |
//! | `{events:P}:offsets` | HASH | group -> next offset to read (list backend) |
//! | `{events:P}:stream` | STREAM | the events of partition P (Streams backend) |
//! | `{events:P}:lease:GROUP` | STRING (PX) | which member of GROUP owns partition P |
//! | `{events:P}:dead:GROUP` | LIST | dead letters: events GROUP gave up on, as JSON |
//! | `{events:P}:stuck` | HASH | group -> why its consumer cannot read partition P (JSON), for `/healthz` |
//! | `{events}:members:GROUP` | ZSET | live members of GROUP, scored by last heartbeat |
//! | `{events}:settings` | HASH | `partitions`, `backend`: recorded by the first process to connect |

/// Key names for one log (one prefix).
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: impl Into<String>) -> Keys {
        Keys {
            prefix: prefix.into(),
        }
    }

    fn partition(&self, partition: u32, name: &str) -> String {
        format!("{{{}:{partition}}}:{name}", self.prefix)
    }

    pub fn log(&self, partition: u32) -> String {
        self.partition(partition, "log")
    }

    pub fn meta(&self, partition: u32) -> String {
        self.partition(partition, "meta")
    }

    pub fn wake(&self, partition: u32) -> String {
        self.partition(partition, "wake")
    }

    pub fn offsets(&self, partition: u32) -> String {
        self.partition(partition, "offsets")
    }

    pub fn stream(&self, partition: u32) -> String {
        self.partition(partition, "stream")
    }

    pub fn lease(&self, partition: u32, group: &str) -> String {
        self.partition(partition, &format!("lease:{group}"))
    }

    pub fn dead(&self, partition: u32, group: &str) -> String {
        self.partition(partition, &format!("dead:{group}"))
    }

    pub fn stuck(&self, partition: u32) -> String {
        self.partition(partition, "stuck")
    }

    pub fn members(&self, group: &str) -> String {
        format!("{{{}}}:members:{group}", self.prefix)
    }

    pub fn settings(&self) -> String {
        format!("{{{}}}:settings", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_keeps_its_keys_in_one_slot() {
        let keys = Keys::new("events");
        assert_eq!(keys.log(3), "{events:3}:log");
        assert_eq!(keys.lease(3, "mailer"), "{events:3}:lease:mailer");
        for key in [
            keys.log(3),
            keys.meta(3),
            keys.wake(3),
            keys.offsets(3),
            keys.stream(3),
            keys.lease(3, "g"),
            keys.dead(3, "g"),
            keys.stuck(3),
        ] {
            // Redis Cluster hashes only the part between the first `{` and `}`.
            assert!(key.starts_with("{events:3}:"), "{key}");
        }
    }
}
