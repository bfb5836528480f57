//! `greenchannel`: parse the command line and run it.
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    greenchannel::cli::run(greenchannel::cli::Cli::parse()).await
}
