//! The host side of `wbx:guest/sql`: statements on the module's own SQLite
//! database. The connection is opened by the runtime of the module's kind
//! with `ATTACH` disabled, so a guest can reach no other file.

use std::path::Path;

use anyhow::{Context, Result};
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, params_from_iter};

use crate::bindings::imports::wbx::guest::sql::{self, Rows, Value};
use crate::host_state::HostState;

/// Opens a module's database for the `sql` import.
pub fn open_database(path: &Path) -> Result<Connection> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let conn = Connection::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // No ATTACH: the module's own file is all it may touch.
    conn.set_limit(rusqlite::limits::Limit::SQLITE_LIMIT_ATTACHED, 0)?;
    Ok(conn)
}

impl HostState {
    /// The module's database, with the guest's rules in force until the
    /// returned guard is dropped.
    fn database(&mut self) -> Result<GuestRules<'_>, String> {
        let conn = self.database.as_mut().ok_or_else(|| {
            "this module has no database: only projectors and effects do".to_owned()
        })?;
        conn.authorizer(Some(guest_rules));
        Ok(GuestRules(conn))
    }
}

/// What a guest's statements may not do: run their own transactions (the
/// host wraps each batch in one, with the position), touch the host's
/// `_wbx_*` tables, or change settings with a pragma.
fn guest_rules(context: AuthContext<'_>) -> Authorization {
    let host_table = |table: &str| table.starts_with("_wbx_");
    match context.action {
        AuthAction::Transaction { .. } | AuthAction::Savepoint { .. } => Authorization::Deny,
        AuthAction::Pragma {
            pragma_value: Some(_),
            ..
        } => Authorization::Deny,
        AuthAction::Insert { table_name }
        | AuthAction::Delete { table_name }
        | AuthAction::Update { table_name, .. }
        | AuthAction::DropTable { table_name }
        | AuthAction::AlterTable { table_name, .. }
            if host_table(table_name) =>
        {
            Authorization::Deny
        }
        _ => Authorization::Allow,
    }
}

/// A connection under the guest's rules; the host's own statements run
/// without them once this is dropped.
struct GuestRules<'a>(&'a mut Connection);

impl std::ops::Deref for GuestRules<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.0
    }
}

impl Drop for GuestRules<'_> {
    fn drop(&mut self) {
        self.0
            .authorizer(None::<fn(AuthContext<'_>) -> Authorization>);
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Integer(n) => ValueRef::Integer(*n),
            Value::Real(x) => ValueRef::Real(*x),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

fn from_sql(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::Integer(n),
        ValueRef::Real(x) => Value::Real(x),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

impl sql::Host for HostState {
    fn execute(&mut self, statement: String, params: Vec<Value>) -> Result<u64, String> {
        let conn = self.database()?;
        let mut prepared = conn.prepare_cached(&statement).map_err(|e| e.to_string())?;
        prepared
            .execute(params_from_iter(params.iter()))
            .map(|n| n as u64)
            .map_err(|e| e.to_string())
    }

    fn execute_batch(&mut self, statements: String) -> Result<(), String> {
        self.database()?
            .execute_batch(&statements)
            .map_err(|e| e.to_string())
    }

    fn query(&mut self, statement: String, params: Vec<Value>) -> Result<Rows, String> {
        let conn = self.database()?;
        let mut prepared = conn.prepare_cached(&statement).map_err(|e| e.to_string())?;
        rows_of(&mut prepared, &params).map_err(|e| e.to_string())
    }
}

/// Every row a prepared query returns for `params`.
pub(crate) fn rows_of(
    statement: &mut rusqlite::Statement<'_>,
    params: &[Value],
) -> rusqlite::Result<Rows> {
    let columns: Vec<String> = statement
        .column_names()
        .into_iter()
        .map(String::from)
        .collect();
    let width = columns.len();
    let mut rows = Vec::new();
    let mut cursor = statement.query(params_from_iter(params.iter()))?;
    while let Some(row) = cursor.next()? {
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(from_sql(row.get_ref(i)?));
        }
        rows.push(values);
    }
    Ok(Rows { columns, rows })
}

/// A value as JSON: blobs as arrays of bytes.
pub fn value_to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Integer(n) => (*n).into(),
        Value::Real(x) => (*x).into(),
        Value::Text(s) => s.clone().into(),
        Value::Blob(b) => b.clone().into(),
    }
}

/// Rows as JSON: `{"columns": [...], "rows": [[...], ...]}`.
pub fn rows_to_json(rows: &Rows) -> serde_json::Value {
    serde_json::json!({
        "columns": rows.columns,
        "rows": rows
            .rows
            .iter()
            .map(|row| row.iter().map(value_to_json).collect::<Vec<_>>())
            .collect::<Vec<_>>(),
    })
}
