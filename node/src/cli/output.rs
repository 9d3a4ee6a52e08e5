//! Everything the CLI prints goes through here, never through `println!`: `println!` panics when
//! stdout is a pipe whose reader has gone (`waybill ... | head`). A closed pipe ends the process
//! the way it ends `cat`: by SIGPIPE, silently (status 141 in a shell). Any other failure to
//! write is an error message and status 1.

use std::fmt;
use std::io::{self, Write};

/// Prints a line to stdout (as `println!`).
macro_rules! say {
    () => {
        $crate::cli::output::stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::output::stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub fn stdout(args: fmt::Arguments) {
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        failed("stdout", e);
    }
}

/// Prints a line to stderr (as `eprintln!`).
pub fn stderr(args: fmt::Arguments) {
    let mut err = io::stderr().lock();
    if let Err(e) = writeln!(err, "{args}") {
        failed("stderr", e);
    }
}

fn failed(what: &str, e: io::Error) -> ! {
    if e.kind() == io::ErrorKind::BrokenPipe {
        closed_pipe();
    }
    // stderr may be the broken one; nothing more can be said then.
    let _ = writeln!(io::stderr(), "error: cannot write to {what}: {e}");
    std::process::exit(1)
}

/// Ends the process as SIGPIPE would have, had Rust not set it to be ignored.
pub fn closed_pipe() -> ! {
    // SAFETY: restoring the default action of a signal and raising it in this process; nothing
    // runs after it but the exit below if the signal is somehow blocked.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    std::process::exit(128 + libc::SIGPIPE)
}
