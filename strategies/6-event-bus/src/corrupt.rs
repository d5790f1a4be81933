//! Data the log cannot read: a key of the log that holds what the log never wrote there.
//!
//! Anything can write to a Redis key: `SET {events:1}:log x` turns a partition's list into
//! a string, `HSET {events:2}:offsets mailer abc` turns a group's offset into a word. Left
//! alone, such a key fails deep inside a command or a script ("attempt to compare nil with
//! number", a bare WRONGTYPE) with an error that names neither the key nor what is wrong,
//! and a consumer retries it for ever. So the log looks first and says exactly that, in the
//! same words on both engines: `{events:1}:log holds a string, not a list`, as
//! [`LogError::Corrupt`]. The consumer reports it once and records it for the web's
//! `/healthz` (`consumer/stuck_report.rs`).
//!
//! * The list engine's scripts check the keys they read before using them (`lua/checks.lua`,
//!   put in front of `read.lua`, `dead_letter.lua` and `replay.lua`).
//! * The Streams engine runs Redis's own commands, which cannot check first: when one
//!   answers WRONGTYPE, [`explain`] asks Redis what the key holds.

use crate::connection::RedisConn;
use crate::error::LogError;

/// `error` came from a command on `key`, which should hold a `wanted` (`stream`, `list`):
/// if it was WRONGTYPE, the [`LogError::Corrupt`] that says what `key` holds instead.
pub(crate) async fn explain(
    conn: &mut RedisConn,
    error: redis::RedisError,
    key: &str,
    wanted: &str,
) -> LogError {
    if error.code() != Some("WRONGTYPE") {
        return error.into();
    }
    let found: redis::RedisResult<String> = redis::cmd("TYPE").arg(key).query_async(conn).await;
    match found {
        Ok(found) if found != wanted && found != "none" => {
            LogError::Corrupt(format!("{key} holds a {found}, not a {wanted}"))
        }
        // Repaired meanwhile, or Redis cannot say: the error as it came.
        _ => error.into(),
    }
}
