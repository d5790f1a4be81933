//! The list backend: the lesson of this crate. One Redis LIST per partition holds the
//! events; offsets, leases, dead letters and retention are a handful of Lua scripts
//! (`src/lua/*.lua`), each one atomic on one partition's hash slot.
//!
//! ```text
//! offset:        base      base+1    ...      base+len-1   (base+len = the end)
//! list index:    0         1         ...      len-1
//!                ▲ trim.lua drops from here and adds what it dropped to base
//!                          ▲ offsets[group] = next offset to read; commit.lua moves it
//! ```

pub mod admin;
pub mod cursor;
pub mod publish;
