//! The choices a deployment makes: which Redis data structure holds the log, and when a
//! group's offset moves.

/// Where events live in Redis: the configured choice. The code behind each choice is an
/// engine (`ListEngine`, `StreamEngine`, both implementing the trait in `engine.rs`), which
/// `Log::connect` picks from this value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// One LIST per partition, offsets and leases kept by our Lua scripts (this crate's lesson).
    Lists,
    /// One STREAM per partition: XADD, XREADGROUP, XACK, XAUTOCLAIM (what Redis offers built in).
    Streams,
}

impl Backend {
    /// The name used on the command line and in Redis (`lists`, `streams`).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Lists => "lists",
            Backend::Streams => "streams",
        }
    }
}

/// When a group's offset moves past an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Delivery {
    /// After the handler succeeded (or the event was dead-lettered). A consumer that dies
    /// mid-batch leaves the offset where it was, so the batch is handled again: nothing
    /// is lost, some events may be handled twice.
    AtLeastOnce,
    /// Before the handler runs, the original design's read-and-advance. A consumer that
    /// dies mid-batch loses the rest of the batch: nothing is handled twice, some never.
    AtMostOnce,
}

/// What a log is called in Redis and how it is cut.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// Key prefix; keys look like `{PREFIX:P}:log` (see [`crate::keys`]).
    pub prefix: String,
    /// Number of partitions. The first process to connect records it (and the backend) in
    /// Redis; `Log::connect` refuses a process that disagrees.
    pub partitions: u32,
    pub backend: Backend,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            prefix: "events".into(),
            partitions: 4,
            backend: Backend::Lists,
        }
    }
}
