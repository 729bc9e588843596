//! Read-only queries of the project's read models (each projector's own
//! SQLite database), for services and any module whose world imports
//! `wbx:guest/read-model`. Nothing a query runs can write.
//!
//! ```ignore
//! use serde_json::json;
//! let rows = wbx_guest::read_model::query(
//!     "balances",
//!     "SELECT account, amount FROM balances WHERE amount > ?",
//!     &[json!(100)],
//! )?;
//! for row in rows {
//!     println!("{} has {}", row["account"], row["amount"]);
//! }
//! ```

use crate::imports::wbx::guest::read_model as host;

/// One row: column name → value.
pub type Row = serde_json::Map<String, serde_json::Value>;

/// Runs one read-only `statement` with `?` parameters (strings, numbers,
/// booleans, null) on the read model of projector `projector`.
pub fn query(
    projector: &str,
    statement: &str,
    params: &[serde_json::Value],
) -> Result<Vec<Row>, String> {
    query_as(projector, statement, params)
}

/// [`query`], each row deserialised into a `T` (its fields named as the columns).
pub fn query_as<T: serde::de::DeserializeOwned>(
    projector: &str,
    statement: &str,
    params: &[serde_json::Value],
) -> Result<Vec<T>, String> {
    let params = serde_json::to_string(params).map_err(|e| format!("parameters: {e}"))?;
    let rows = host::query(projector, statement, &params)?;
    serde_json::from_str(&rows).map_err(|e| format!("the rows of {projector}: {e}"))
}
