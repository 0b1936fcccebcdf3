//! Standard output of the one-shot commands. `println!` panics when the reader
//! of a pipe goes away (`unionstat completeness … | head`); [`outln!`] instead
//! drops the rest of the output quietly, and the command finishes its work and
//! exits with its own code. Any other write error (a full disk behind a
//! redirection) is said once on stderr and makes the command exit 2.
//!
//! Only stdout changes: `serve` and `worker` keep Rust's handling of sockets
//! (SIGPIPE ignored, a closed connection is an error on that connection).

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

const OPEN: u8 = 0;
const READER_GONE: u8 = 1;
const FAILED: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(OPEN);

/// `println!` for the CLI's results.
macro_rules! outln {
    () => {
        $crate::cli::out::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::cli::out::line(format_args!($($arg)*))
    };
}

/// Writes one line to stdout unless an earlier write failed.
pub fn line(args: std::fmt::Arguments<'_>) {
    if STATE.load(Ordering::Relaxed) != OPEN {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            STATE.store(READER_GONE, Ordering::Relaxed);
        } else if STATE.swap(FAILED, Ordering::Relaxed) != FAILED {
            let _ = writeln!(
                std::io::stderr(),
                "error: cannot write to standard output: {e}"
            );
        }
    }
}

/// Whether writing the output failed for another reason than its reader
/// going away.
pub fn failed() -> bool {
    STATE.load(Ordering::Relaxed) == FAILED
}
