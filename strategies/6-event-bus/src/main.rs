//! `strategy-6`: the event log's web front, consumers and replay tool. See the library
//! documentation (`strategy_6`) for what it teaches.

mod app;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    kit::logging::init();
    let args = app::args::Args::parse();
    app::run(args).await
}
