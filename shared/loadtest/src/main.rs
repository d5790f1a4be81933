//! The side-by-side load harness: latency and loss of every strategy under faults: not built yet. This package exists so that the workspace layout is complete;
//! running it says so and exits.

use clap::Parser;

/// The side-by-side load harness: latency and loss of every strategy under faults (not built yet).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {}

fn main() {
    Args::parse();
    eprintln!("loadtest is not built yet; see README.md for the strategies that are.");
    std::process::exit(2);
}
