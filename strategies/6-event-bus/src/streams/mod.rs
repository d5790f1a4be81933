//! The Streams backend: the same log with what Redis builds in. One STREAM per partition;
//! Redis assigns entry IDs (`XADD *`), keeps each group's position and its pending entries
//! (`XREADGROUP`, `XACK`), hands a dead member's entries over (`XAUTOCLAIM`) and blocks
//! idle readers (`XREADGROUP BLOCK`). Leases and dead letters are shared with the list
//! backend, so both behave alike and the benchmarks compare like with like.
//!
//! ```text
//! XADD {events:P}:stream * event {...}           -> 1764250000000-0
//! XREADGROUP GROUP mailer m1 COUNT 10 BLOCK 1000 STREAMS {events:P}:stream >
//! XACK {events:P}:stream mailer 1764250000000-0  (after the handler succeeded)
//! XAUTOCLAIM {events:P}:stream mailer m2 0 0-0   (a new lease holder takes what m1 left)
//! ```

pub mod admin;
pub mod cursor;
pub mod publish;

/// The millisecond part of an entry ID: when Redis appended it.
pub(crate) fn id_millis(id: &str) -> u64 {
    id.split('-')
        .next()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(0)
}
