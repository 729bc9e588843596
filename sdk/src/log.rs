//! Logging to the host. Lines carry the module's name on the host side, so a
//! guest writes only the message.
//!
//! Plain `println!`/`eprintln!` reach the host too (as stdout and stderr lines);
//! these functions add a level.

pub use crate::imports::wbx::guest::log::Level;
use crate::imports::wbx::guest::log::log as host_log;

/// Logs `message` at `level`.
pub fn log(level: Level, message: &str) {
    host_log(level, message);
}

pub fn trace(message: &str) {
    log(Level::Trace, message);
}

pub fn debug(message: &str) {
    log(Level::Debug, message);
}

pub fn info(message: &str) {
    log(Level::Info, message);
}

pub fn warn(message: &str) {
    log(Level::Warn, message);
}

pub fn error(message: &str) {
    log(Level::Error, message);
}

/// `info!("x = {x}")`: formats, then logs at info level.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::info(&::std::format!($($arg)*)) };
}

/// Formats, then logs at warn level.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log::warn(&::std::format!($($arg)*)) };
}

/// Formats, then logs at error level.
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log::error(&::std::format!($($arg)*)) };
}

/// Formats, then logs at debug level.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log::debug(&::std::format!($($arg)*)) };
}
