//! The host side of `wbx:guest/sql`: statements on the module's own SQLite
//! database. The connection is opened by the runtime of the module's kind
//! with `ATTACH` disabled, so a guest can reach no other file.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, params_from_iter};

use wbx_core::HostState;

use crate::bindings::imports::wbx::guest::sql::{self, Rows, Value};

/// A module's own database: the extension a projector's or an effect's
/// instance gets, with the switch that puts the guest's rules in force.
pub struct ModuleDatabase {
    pub conn: Connection,
    guest_rules: Arc<AtomicBool>,
}

impl ModuleDatabase {
    pub fn new(conn: Connection) -> Self {
        let guest_rules = install_guest_rules(&conn);
        ModuleDatabase { conn, guest_rules }
    }

    /// Opens the database at `path` (see [`open_database`]).
    pub fn open(path: &Path) -> Result<Self> {
        Ok(Self::new(open_database(path)?))
    }
}

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

/// Installs the guest's rules (see [`guest_rules`]) on a module's database
/// once, for the life of the connection, and returns their switch: they
/// apply only while it is on. Installing an authorizer expires every
/// statement the connection has prepared, so installing it around each
/// guest call made every cached statement compile again.
///
/// SQLite asks the authorizer when a statement is compiled, not when it
/// runs, so the host's own statements on this connection must not go
/// through `prepare_cached`: the guest could be handed one of them,
/// compiled without its rules, by sending the same text.
fn install_guest_rules(conn: &Connection) -> Arc<AtomicBool> {
    let on = Arc::new(AtomicBool::new(false));
    let switch = on.clone();
    conn.authorizer(Some(move |context: AuthContext<'_>| {
        if switch.load(Ordering::Relaxed) {
            guest_rules(context)
        } else {
            Authorization::Allow
        }
    }));
    on
}

/// The instance's database, with the guest's rules in force until the
/// returned guard is dropped.
fn database(state: &mut HostState) -> Result<GuestRules<'_>, String> {
    let database = state
        .extensions
        .get::<ModuleDatabase>()
        .ok_or_else(|| "this module has no database: only projectors and effects do".to_owned())?;
    Ok(GuestRules::enter(&database.conn, &database.guest_rules))
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
struct GuestRules<'a> {
    conn: &'a Connection,
    on: &'a AtomicBool,
}

impl<'a> GuestRules<'a> {
    fn enter(conn: &'a Connection, on: &'a AtomicBool) -> Self {
        on.store(true, Ordering::Relaxed);
        GuestRules { conn, on }
    }
}

impl std::ops::Deref for GuestRules<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for GuestRules<'_> {
    fn drop(&mut self) {
        self.on.store(false, Ordering::Relaxed);
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
        let conn = database(self)?;
        let mut prepared = conn.prepare_cached(&statement).map_err(|e| e.to_string())?;
        prepared
            .execute(params_from_iter(params.iter()))
            .map(|n| n as u64)
            .map_err(|e| e.to_string())
    }

    fn execute_batch(&mut self, statements: String) -> Result<(), String> {
        database(self)?
            .execute_batch(&statements)
            .map_err(|e| e.to_string())
    }

    fn query(&mut self, statement: String, params: Vec<Value>) -> Result<Rows, String> {
        let conn = database(self)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_apply_only_while_on_and_keep_statements_compiled() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x); CREATE TABLE _wbx_position (x);")
            .unwrap();
        let on = install_guest_rules(&conn);
        let insert = "INSERT INTO t (x) VALUES (1)";
        for _ in 0..3 {
            let guest = GuestRules::enter(&conn, &on);
            guest.prepare_cached(insert).unwrap().execute([]).unwrap();
            let refused = guest.execute("INSERT INTO _wbx_position (x) VALUES (1)", []);
            assert!(refused.is_err(), "the guest wrote a host table");
            assert!(
                guest.execute_batch("BEGIN").is_err(),
                "the guest began a transaction"
            );
        }
        // The host, rules off, may do both.
        conn.execute("INSERT INTO _wbx_position (x) VALUES (1)", [])
            .unwrap();
        conn.execute_batch("BEGIN; COMMIT;").unwrap();
        // The guest's statement was compiled once and never expired.
        let statement = conn.prepare_cached(insert).unwrap();
        assert_eq!(
            statement.get_status(rusqlite::StatementStatus::RePrepare),
            0
        );
    }
}
