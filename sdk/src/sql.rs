//! The module's own SQLite database: a projector's read model or an
//! effect's state. Statements take `?` parameters as [`Value`]s.
//!
//! ```ignore
//! use wbx_guest::sql::{self, Value};
//! sql::execute_batch("CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY)")?;
//! sql::execute("INSERT INTO users (name) VALUES (?)", &[Value::from("ada")])?;
//! let rows = sql::query("SELECT count(*) FROM users", &[])?;
//! ```

use crate::imports::wbx::guest::sql as host;
pub use crate::imports::wbx::guest::sql::{Rows, Value};

/// Runs one statement; returns the number of rows it changed.
pub fn execute(statement: &str, params: &[Value]) -> Result<u64, String> {
    host::execute(statement, params)
}

/// Runs several statements without parameters.
pub fn execute_batch(statements: &str) -> Result<(), String> {
    host::execute_batch(statements)
}

/// Runs one query.
pub fn query(statement: &str, params: &[Value]) -> Result<Rows, String> {
    host::query(statement, params)
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Text(text.to_owned())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Text(text)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Integer(n)
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Real(x)
    }
}

impl Value {
    /// The integer in this value, if it is one.
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Value::Integer(n) => Some(*n),
            _ => None,
        }
    }

    /// The text in this value, if it is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}
