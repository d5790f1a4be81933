//! The Lua scripts, loaded once. `redis::Script` sends `EVALSHA` and loads the script on
//! `NOSCRIPT`, so a restarted Redis needs no special care.

use redis::Script;
use std::sync::LazyLock;

pub static WORK: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/work.lua")));
pub static PROMOTE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/promote.lua")));
pub static LEADER: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/leader.lua")));
pub static RELEASE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/release.lua")));
pub static REQUEUE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/requeue.lua")));
