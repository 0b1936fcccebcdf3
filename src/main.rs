use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

/// How long the exit may wait for runtime threads still busy after the command
/// is done; past it the process exits anyway (the command's work is complete).
const EXIT_GRACE: Duration = Duration::from_secs(2);

#[global_allocator]
static GLOBAL: unionstat::allocator::Allocator = mimalloc::MiMalloc;

fn main() -> ExitCode {
    unionstat::allocator::tune();
    let cli = unionstat::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let code = runtime.block_on(unionstat::startup::run(cli));
    runtime.shutdown_timeout(EXIT_GRACE);
    code
}
