//! The `strategy-2` binary; what it teaches is in the library's doc, `src/lib.rs`.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    kit::logging::init();
    strategy_2::run(strategy_2::Args::parse()).await
}
