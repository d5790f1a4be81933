//! What can go wrong talking to the log.

/// An error from the log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Redis is unreachable, or answered with an error.
    #[error("redis: {0}")]
    Redis(redis::RedisError),
    /// This member's lease on the partition expired and another member may own it now:
    /// stop working on it (its uncommitted events will be read again by the new owner).
    #[error("the lease on partition {0} is no longer ours")]
    LeaseLost(u32),
    /// A key of the log holds what the log never wrote there (a string where the events'
    /// list belongs, an offset that is not a number): something else wrote to it. Says
    /// which key and what it holds (see [`crate::corrupt`]). Retrying cannot help until an
    /// operator repairs the key.
    #[error("{0}")]
    Corrupt(String),
    /// This process was started with settings (partition count, backend) that differ from
    /// the ones recorded in Redis by the first process of this log. Retrying cannot help.
    #[error("{0}")]
    Mismatch(String),
    /// A request the log cannot serve (a stream ID given to the list backend, say).
    #[error("{0}")]
    Invalid(String),
}

impl From<redis::RedisError> for LogError {
    /// The scripts' `CORRUPT` errors (from `lua/checks.lua`) become [`LogError::Corrupt`];
    /// every other error stays a Redis error.
    fn from(error: redis::RedisError) -> LogError {
        match (error.code(), error.detail()) {
            (Some("CORRUPT"), Some(what)) => LogError::Corrupt(what.to_string()),
            _ => LogError::Redis(error),
        }
    }
}

impl LogError {
    /// Maps the scripts' `NOTHOLDER` error to [`LogError::LeaseLost`] (and `CORRUPT` to
    /// [`LogError::Corrupt`], as for any error).
    pub(crate) fn from_script(error: redis::RedisError, partition: u32) -> LogError {
        // Pipelined behind XREAD (lists/cursor.rs), a script's error comes wrapped in the
        // pipeline's, which has no code of its own: unwrap it, so that the script's code
        // reads the same with or without a pipeline.
        let error = match error.clone().into_server_errors() {
            Some(errors) if error.code().is_none() && errors.len() == 1 => {
                redis::RedisError::from(errors[0].1.clone())
            }
            _ => error,
        };
        if error.code() == Some("NOTHOLDER") {
            LogError::LeaseLost(partition)
        } else {
            error.into()
        }
    }
}

pub type Result<T> = std::result::Result<T, LogError>;
