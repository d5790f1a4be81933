//! What can go wrong talking to the log.

/// An error from the log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Redis is unreachable, or answered with an error.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// This member's lease on the partition expired and another member may own it now:
    /// stop working on it (its uncommitted events will be read again by the new owner).
    #[error("the lease on partition {0} is no longer ours")]
    LeaseLost(u32),
    /// This process was started with settings (partition count, backend) that differ from
    /// the ones recorded in Redis by the first process of this log. Retrying cannot help.
    #[error("{0}")]
    Mismatch(String),
    /// A request the log cannot serve (a stream ID given to the list backend, say).
    #[error("{0}")]
    Invalid(String),
}

impl LogError {
    /// Maps the scripts' `NOTHOLDER` error to [`LogError::LeaseLost`].
    pub(crate) fn from_script(error: redis::RedisError, partition: u32) -> LogError {
        if error.code() == Some("NOTHOLDER") {
            LogError::LeaseLost(partition)
        } else {
            LogError::Redis(error)
        }
    }
}

pub type Result<T> = std::result::Result<T, LogError>;
