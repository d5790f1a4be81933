//! What can go wrong with a queue call, in one enum for the whole client.

/// The client's `Result`.
pub type Result<T> = std::result::Result<T, QueueError>;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// Redis did not answer (or refused): worth trying again later.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("Job already enqueued at this time with same arguments")]
    DuplicateDelayedJob,
    #[error("This job is not in failed queue")]
    NotInFailedQueue,
    /// An enqueue hook failed: the plugin's name and its error.
    #[error("plugin {0}: {1}")]
    Plugin(&'static str, anyhow::Error),
    /// The caller's input does not make sense (a failed entry without a payload, ...).
    #[error("{0}")]
    Invalid(String),
}
