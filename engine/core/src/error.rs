//! [`GuestError`]: a guest call or instantiation that failed, and why, in
//! terms a caller can act on: a trap, a panic, a timeout, a memory or table
//! limit, or a host function's error.

use std::fmt;
use std::time::Duration;

use wasmtime::Trap;

use crate::kind::ModuleKind;
use crate::limits::Refusal;
use crate::registry::ModuleVersion;

/// Why a guest call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The guest trapped (without a panic message).
    Trap(Trap),
    /// A Rust guest panicked: `panicked at src/lib.rs:27:29: boom`.
    Panic(String),
    /// The call ran past the call timeout and was interrupted.
    Timeout(Duration),
    /// The guest asked for more memory or table than its limits allow.
    Limit(Refusal),
    /// Something on the host side failed (a host function, linking, I/O).
    Host(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Trap(trap) => write!(f, "the guest trapped: {trap}"),
            Failure::Panic(message) => write!(f, "the guest {message}"),
            Failure::Timeout(limit) => write!(
                f,
                "interrupted: the call ran longer than the call timeout of {limit:?}"
            ),
            Failure::Limit(refusal) => write!(f, "{refusal}"),
            Failure::Host(text) => f.write_str(text),
        }
    }
}

/// A failed guest call, naming the module version it ran on.
#[derive(Debug)]
pub struct GuestError {
    pub module: String,
    pub kind: ModuleKind,
    pub version: ModuleVersion,
    pub failure: Failure,
    /// The error wasmtime reported, with its own chain (a wasm backtrace for
    /// a trap). Kept for whoever wants the detail; not part of the message,
    /// which says what a guest author needs without it.
    pub wasm: wasmtime::Error,
}

impl GuestError {
    pub fn is_timeout(&self) -> bool {
        matches!(self.failure, Failure::Timeout(_))
    }
}

impl fmt::Display for GuestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "module '{}' ({} {}): {}",
            self.module, self.kind, self.version, self.failure
        )
    }
}

impl std::error::Error for GuestError {}
