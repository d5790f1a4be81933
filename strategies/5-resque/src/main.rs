//! Strategy 5: a Resque-compatible job queue in Redis: not built yet. This package exists so that the workspace layout is complete;
//! running it says so and exits.

use clap::Parser;

/// Strategy 5: a Resque-compatible job queue in Redis (not built yet).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {}

fn main() {
    Args::parse();
    eprintln!("strategy-5 is not built yet; see README.md for the strategies that are.");
    std::process::exit(2);
}
