//! `strategy-5`: the Resque demo's web front, workers and scheduler. See the library
//! documentation (`strategy_5`) for what it teaches, and `app/` for the wiring.

mod app;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    kit::logging::init();
    let args = app::args::Args::parse();
    app::run(args).await
}
