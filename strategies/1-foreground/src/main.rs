//! The `strategy-1` binary; what it teaches is in the library's doc, `src/lib.rs`.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    kit::logging::init();
    strategy_1::run(strategy_1::Args::parse()).await
}
