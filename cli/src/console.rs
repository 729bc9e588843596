//! All terminal output goes through here, so a stray print can never tear a
//! progress bar or, later, the TUI. A closed stdout (`wbx … | head`) is not
//! an error.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Write};

/// A line of results on stdout.
pub fn out(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
}

/// A line of diagnostics or progress on stderr.
pub fn err(line: &str) {
    eprintln!("{line}");
}

/// `error: …` on stderr.
pub fn error(message: &str) {
    err(&format!(
        "{} {message}",
        paint(Stream::Stderr, "error:", RED)
    ));
}

/// `n` and the noun, singular for one: `1 module`, `3 modules`.
pub fn count(n: u64, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

#[derive(Debug, Clone, Copy)]
pub enum Stream {
    Stdout,
    Stderr,
}

pub const RED: &str = "1;31";
pub const GREEN: &str = "1;32";
pub const YELLOW: &str = "1;33";
pub const DIM: &str = "2";

/// Whether `stream` goes to a terminal (a person reads it, not a program).
pub fn terminal(stream: Stream) -> bool {
    match stream {
        Stream::Stdout => std::io::stdout().is_terminal(),
        Stream::Stderr => std::io::stderr().is_terminal(),
    }
}

/// Whether `stream` takes colour: a terminal, and NO_COLOR unset.
pub fn color(stream: Stream) -> bool {
    terminal(stream) && std::env::var_os("NO_COLOR").is_none()
}

/// `text` in an ANSI style when `stream` takes colour.
pub fn paint(stream: Stream, text: &str, style: &str) -> String {
    if color(stream) {
        format!("\x1b[{style}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}
