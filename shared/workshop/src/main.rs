//! `workshop`: the workshop runner. See the library's documentation (`src/lib.rs`).

use clap::{Parser, Subcommand};
use workshop::commands::{attempt, grade, hint, list};
use workshop::context::Workshop;
use workshop::verify;

/// The offload workshop: start an exercise, check it, get hints. Run from anywhere in the
/// checkout; progress is kept in target/workshop/.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Every exercise: id, strategy, status (todo / started / passed), minutes, title.
    List,
    /// Start exercise ID: a branch ex/ID from the finished code, with the starter committed
    /// on it, so `git diff` shows only your work.
    Start {
        /// The exercise, e.g. 5.1.
        id: String,
    },
    /// Check the current exercise: its named tests, then one harness run under its fault,
    /// with a scorecard (`lost 41 -> target 0  FAIL`).
    Check {
        /// Check every exercise you started, each as committed on its branch (the current
        /// one as it is in the working tree), and recompute the progress from the results.
        #[arg(long)]
        all: bool,
    },
    /// The next hint of the current exercise (one more each time).
    Hint,
    /// Back to the starter of the current exercise (your uncommitted work goes to a stash).
    Reset,
    /// The finished code of the current exercise's files, in the working tree, not committed.
    Solution,
    /// Start the exercise after the current one.
    Next,
    /// For every exercise, in a worktree under target/workshop/verify/: the starter builds,
    /// passes fmt and clippy, and fails its check for the expected reason; the finished
    /// code passes the same check; the metadata is complete. Run by scripts/test.
    Verify {
        /// Only these exercises (comma-separated ids).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Run each check this many times, to see that its verdict never changes.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=20))]
        repeat: u64,
    },
}

fn main() -> anyhow::Result<()> {
    let command = Cli::parse().command.unwrap_or(Command::List);
    let workshop = Workshop::open()?;
    let ok = match command {
        Command::List => list::list(&workshop).map(|()| true)?,
        Command::Start { id } => attempt::start(&workshop, &id).map(|()| true)?,
        Command::Check { all: false } => grade::check_current(&workshop)?,
        Command::Check { all: true } => grade::check_all(&workshop)?,
        Command::Hint => hint::hint(&workshop).map(|()| true)?,
        Command::Reset => attempt::reset(&workshop).map(|()| true)?,
        Command::Solution => attempt::solution(&workshop).map(|()| true)?,
        Command::Next => attempt::next(&workshop).map(|()| true)?,
        Command::Verify { only, repeat } => {
            let options = verify::Options {
                only,
                repeat: repeat as usize,
            };
            verify::verify(&workshop, &options)?
        }
    };
    std::process::exit(if ok { 0 } else { 1 });
}
