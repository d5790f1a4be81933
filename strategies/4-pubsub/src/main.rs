//! The `strategy-4` binary; what it teaches is in the library's doc, `src/lib.rs`.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    kit::logging::init();
    strategy_4::run(strategy_4::Args::parse()).await
}
