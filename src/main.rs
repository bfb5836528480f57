//! `greenchannel`: parse the command line and run it.
use clap::Parser;

/// mimalloc: many small, short-lived allocations per request (JSON, rows)
/// are measurably cheaper than with glibc's allocator under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    greenchannel::cli::run(greenchannel::cli::Cli::parse()).await
}
