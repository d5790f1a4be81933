//! One file per group of commands; `main.rs` maps the command line onto them.

pub mod attempt;
pub mod grade;
pub mod hint;
pub mod list;
