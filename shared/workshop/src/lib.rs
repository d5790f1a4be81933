//! # workshop: exercises derived from the finished strategies
//!
//! [`markers`]: the finished code is the reference solution, and an exercise's starter is
//! derived from it by the markers in its source, so there is no second copy that can drift.

pub mod markers;
