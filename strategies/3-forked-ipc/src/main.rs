//! The `strategy-3` binary, with no runtime (it forks); what it teaches is in `src/lib.rs`.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    strategy_3::run(strategy_3::Args::parse())
}
