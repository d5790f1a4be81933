//! # workshop: exercises derived from the finished strategies, graded by measured loss
//!
//! The talk is a sequence of "here is the flaw, here is the fix"; the workshop lets an
//! attendee make each fix and see the number move (mail lost under a SIGKILL: 82 → 0).
//!
//! ```text
//! scripts/workshop                 list: id, title, strategy, status (todo/started/passed)
//! scripts/workshop start 5.1       branch ex/5.1, the starter committed on it
//! scripts/workshop check           fast tier (named tests), behaviour tier (one harness run)
//! scripts/workshop hint            the next hint
//! scripts/workshop reset | solution | next
//! scripts/workshop verify          CI: every starter fails as expected, every solution passes
//! ```
//!
//! The finished strategy is the reference solution: a starter is derived from it by the
//! markers in its source ([`markers`]), so there is no second copy that can drift.
//!
//! * [`markers`]: the swap of one file's marked blocks; [`sources`]: the marked files of a
//!   checkout, and putting one exercise's starter or solution in place.
//! * [`exercise`]: an exercise's folder (README.md, hints.md, exercise.json) and the list
//!   of all of them; [`conditions`]: the pass conditions on counts.
//! * [`check`]: building, the fast tier, the behaviour tier, the [`check::Scorecard`];
//!   [`logged`]: every tool run with a log and a time limit.
//! * [`commands`]: what each command does; [`context`]: the checkout and the current
//!   exercise; [`git`]: the git commands; [`progress`]: `target/workshop/progress.json`.
//! * [`verify`]: the proof, both ways, that CI runs.
//!
//! The runner meets a strategy as the harness does, from outside: by cargo, by its tests
//! and by `loadtest`. It imports no strategy.
//!
//! See ARCHITECTURE.md, section "shared/workshop".

pub mod check;
pub mod commands;
pub mod conditions;
pub mod context;
pub mod exercise;
pub mod git;
pub mod logged;
pub mod markers;
pub mod progress;
pub mod sources;
pub mod verify;
