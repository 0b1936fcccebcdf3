use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    unionstat::cli::run(unionstat::cli::Cli::parse()).await
}
