//! The Lua scripts of `src/lua/`, loaded once per process. Each script's file starts with
//! its KEYS, ARGV and numbered steps; read those first. Every key a script touches is passed
//! in KEYS and all of them share one partition's hash tag, so every call runs on one cluster
//! slot.
//!
//! `redis::Script` sends `EVALSHA` and falls back to `EVAL` when the server does not know
//! the script yet (a fresh or restarted Redis), so nobody has to load them by hand.

use redis::Script;
use std::sync::LazyLock;

pub static APPEND: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/append.lua")));
// Both read keys that any other program could have overwritten: the checks of checks.lua,
// put in front of them, say which key holds what instead (see `corrupt.rs`).
pub static READ: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        include_str!("lua/checks.lua"),
        include_str!("lua/read.lua")
    ))
});
pub static COMMIT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/commit.lua")));
pub static DEAD_LETTER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        include_str!("lua/checks.lua"),
        include_str!("lua/dead_letter.lua")
    ))
});
// Both find events by time: they share the search in stamps.lua, put in front of them.
// Replay also checks its keys, as read.lua does.
pub static REPLAY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        include_str!("lua/stamps.lua"),
        include_str!("lua/checks.lua"),
        include_str!("lua/replay.lua")
    ))
});
pub static TRIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        include_str!("lua/stamps.lua"),
        include_str!("lua/trim.lua")
    ))
});
pub static LEASE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/lease.lua")));
pub static RELEASE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/release.lua")));
pub static PRUNE_CONSUMERS: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/prune_consumers.lua")));
pub static SETTINGS: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/settings.lua")));
pub static HEARTBEAT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/heartbeat.lua")));
