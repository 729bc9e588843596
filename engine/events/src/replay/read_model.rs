//! A read model as data, and the difference between two of them, table by
//! table and row by row.
//!
//! Rows are compared by their primary key when the table has one: a row
//! whose key is on both sides with other values is *changed*. Without a
//! key, rows are compared whole (a change shows as one removed, one added).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    pub name: String,
    pub columns: Vec<String>,
    /// Indexes of the primary key's columns, in key order (none: no key).
    #[serde(skip)]
    pub key: Vec<usize>,
    /// Each value as an SQL literal (`NULL`, `42`, `'text'`), rows sorted.
    pub rows: Vec<Vec<String>>,
}

/// The tables of a read model, by name; wbx's own (`_wbx_*`) left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReadModel {
    pub tables: Vec<Table>,
}

/// One table's difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableDiff {
    pub table: String,
    pub columns: Vec<String>,
    pub added: Vec<Vec<String>>,
    pub removed: Vec<Vec<String>>,
    /// Before and after, for rows with the same key.
    pub changed: Vec<(Vec<String>, Vec<String>)>,
}

/// Counts over every table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DiffSummary {
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    pub tables_changed: usize,
}

fn literal(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".to_owned(),
        ValueRef::Integer(n) => n.to_string(),
        ValueRef::Real(x) => format!("{x:?}"),
        ValueRef::Text(t) => format!("'{}'", String::from_utf8_lossy(t).replace('\'', "''")),
        ValueRef::Blob(b) => {
            let hex: String = b.iter().map(|byte| format!("{byte:02x}")).collect();
            format!("x'{hex}'")
        }
    }
}

/// Reads every table of the database on `conn`.
pub fn dump(conn: &Connection) -> Result<ReadModel> {
    let names: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_wbx\\_%' ESCAPE '\\' \
             ORDER BY name",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let tables = names
        .into_iter()
        .map(|name| table(conn, name))
        .collect::<Result<_>>()?;
    Ok(ReadModel { tables })
}

fn table(conn: &Connection, name: String) -> Result<Table> {
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    let mut key: Vec<(i64, usize)> = Vec::new();
    let mut columns = Vec::new();
    let mut info = conn.prepare(&format!("PRAGMA table_info({quoted})"))?;
    let mut rows = info.query([])?;
    while let Some(row) = rows.next()? {
        let pk: i64 = row.get(5)?;
        if pk > 0 {
            key.push((pk, columns.len()));
        }
        columns.push(row.get::<_, String>(1)?);
    }
    key.sort();
    let mut select = conn
        .prepare(&format!("SELECT * FROM {quoted}"))
        .with_context(|| format!("cannot read table {name}"))?;
    let width = select.column_count();
    let mut rows: Vec<Vec<String>> = select
        .query_map([], |row| {
            (0..width)
                .map(|i| row.get_ref(i).map(literal))
                .collect::<Result<Vec<_>, _>>()
        })?
        .collect::<Result<_, _>>()?;
    rows.sort();
    Ok(Table {
        name,
        columns,
        key: key.into_iter().map(|(_, i)| i).collect(),
        rows,
    })
}

/// The read model in the SQLite file at `path`, opened read-only.
pub fn read(path: &Path) -> Result<ReadModel> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("cannot open {}", path.display()))?;
    dump(&conn).with_context(|| format!("cannot read the read model {}", path.display()))
}

/// The tables that differ between `before` and `after`.
pub fn diff(before: &ReadModel, after: &ReadModel) -> Vec<TableDiff> {
    let names: BTreeSet<&str> = before
        .tables
        .iter()
        .chain(&after.tables)
        .map(|t| t.name.as_str())
        .collect();
    let find =
        |model: &'_ ReadModel, name: &str| model.tables.iter().find(|t| t.name == name).cloned();
    names
        .into_iter()
        .filter_map(|name| {
            let (b, a) = (find(before, name), find(after, name));
            let template = a.clone().or(b.clone())?;
            let empty = || Table {
                rows: Vec::new(),
                ..template.clone()
            };
            table_diff(&b.unwrap_or_else(empty), &a.unwrap_or_else(empty))
        })
        .collect()
}

fn table_diff(before: &Table, after: &Table) -> Option<TableDiff> {
    let mut diff = TableDiff {
        table: after.name.clone(),
        columns: after.columns.clone(),
        added: Vec::new(),
        removed: Vec::new(),
        changed: Vec::new(),
    };
    if !after.key.is_empty() && before.key == after.key && before.columns == after.columns {
        let keyed = |t: &Table| -> BTreeMap<Vec<String>, Vec<String>> {
            t.rows
                .iter()
                .map(|r| (t.key.iter().map(|&i| r[i].clone()).collect(), r.clone()))
                .collect()
        };
        let (b, a) = (keyed(before), keyed(after));
        // Keys that repeat (NULLs in a non-integer key) cannot pair rows.
        if b.len() < before.rows.len() || a.len() < after.rows.len() {
            return whole_rows(diff, before, after);
        }
        for (key, row) in &b {
            match a.get(key) {
                None => diff.removed.push(row.clone()),
                Some(new) if new != row => diff.changed.push((row.clone(), new.clone())),
                Some(_) => {}
            }
        }
        diff.added = a
            .iter()
            .filter(|(key, _)| !b.contains_key(*key))
            .map(|(_, row)| row.clone())
            .collect();
    } else {
        return whole_rows(diff, before, after);
    }
    nonempty(diff)
}

/// Rows compared whole: a change is a row removed and a row added.
fn whole_rows(mut diff: TableDiff, before: &Table, after: &Table) -> Option<TableDiff> {
    let mut left: BTreeMap<&Vec<String>, usize> = BTreeMap::new();
    for row in &before.rows {
        *left.entry(row).or_default() += 1;
    }
    for row in &after.rows {
        match left.get_mut(row) {
            Some(n) if *n > 0 => *n -= 1,
            _ => diff.added.push(row.clone()),
        }
    }
    for (row, n) in left {
        diff.removed.extend(std::iter::repeat_n(row.clone(), n));
    }
    nonempty(diff)
}

fn nonempty(diff: TableDiff) -> Option<TableDiff> {
    let same = diff.added.is_empty() && diff.removed.is_empty() && diff.changed.is_empty();
    (!same).then_some(diff)
}

pub fn summarize(diffs: &[TableDiff]) -> DiffSummary {
    diffs
        .iter()
        .fold(DiffSummary::default(), |s, d| DiffSummary {
            added: s.added + d.added.len(),
            removed: s.removed + d.removed.len(),
            changed: s.changed + d.changed.len(),
            tables_changed: s.tables_changed + 1,
        })
}

/// A row as `(v1, v2, …)`.
pub fn row_text(row: &[String]) -> String {
    format!("({})", row.join(", "))
}

impl TableDiff {
    /// `books (book_id, title): 1 added, 0 removed, 2 changed`
    pub fn heading(&self) -> String {
        format!(
            "{} ({}): {} added, {} removed, {} changed",
            self.table,
            self.columns.join(", "),
            self.added.len(),
            self.removed.len(),
            self.changed.len()
        )
    }

    /// The rows before and after as a unified diff (`-` before, `+` after),
    /// rows in key order.
    pub fn unified(&self) -> String {
        let mut before: Vec<String> = self.removed.iter().map(|r| row_text(r)).collect();
        let mut after: Vec<String> = self.added.iter().map(|r| row_text(r)).collect();
        for (b, a) in &self.changed {
            before.push(row_text(b));
            after.push(row_text(a));
        }
        before.sort();
        after.sort();
        let lines = |rows: Vec<String>| rows.iter().map(|r| format!("{r}\n")).collect::<String>();
        let (before, after) = (lines(before), lines(after));
        let text = similar::TextDiff::from_lines(&before, &after);
        text.iter_all_changes()
            .filter(|c| c.tag() != similar::ChangeTag::Equal)
            .map(|c| {
                let sign = match c.tag() {
                    similar::ChangeTag::Delete => '-',
                    _ => '+',
                };
                format!("{sign} {}", c.value().trim_end())
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(sql: &str) -> ReadModel {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(sql).unwrap();
        dump(&conn).unwrap()
    }

    const SCHEMA: &str = "CREATE TABLE books (id TEXT PRIMARY KEY, title TEXT, n INTEGER);
                          CREATE TABLE tags (tag TEXT);
                          CREATE TABLE _wbx_projector (id INTEGER PRIMARY KEY, position INTEGER);";

    #[test]
    fn rows_are_matched_by_key_and_wbx_tables_left_out() {
        let before = model(&format!(
            "{SCHEMA} INSERT INTO books VALUES ('a', 'A', 1), ('b', 'B', 2), ('c', 'It''s', NULL);
             INSERT INTO tags VALUES ('x'), ('x'), ('y');"
        ));
        assert_eq!(
            before
                .tables
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>(),
            ["books", "tags"]
        );
        assert_eq!(before.tables[0].rows[2], ["'c'", "'It''s'", "NULL"]);
        let after = model(&format!(
            "{SCHEMA} INSERT INTO books VALUES ('a', 'A', 1), ('b', 'B', 3), ('d', 'D', 4);
             INSERT INTO tags VALUES ('x'), ('z'), ('y');"
        ));
        let diffs = diff(&before, &after);
        assert_eq!(diffs.len(), 2);
        assert_eq!(
            diffs[0].changed,
            [(
                vec!["'b'".into(), "'B'".into(), "2".into()],
                vec!["'b'".into(), "'B'".into(), "3".into()]
            )]
        );
        assert_eq!(
            diffs[0].added,
            [vec!["'d'".to_owned(), "'D'".into(), "4".into()]]
        );
        assert_eq!(diffs[0].removed.len(), 1);
        assert_eq!(diffs[1].added, [vec!["'z'".to_owned()]]);
        assert_eq!(
            diffs[1].removed,
            [vec!["'x'".to_owned()]],
            "a keyless table counts duplicates"
        );
        assert_eq!(
            summarize(&diffs),
            DiffSummary {
                added: 2,
                removed: 2,
                changed: 1,
                tables_changed: 2
            }
        );
        let text = diffs[0].unified();
        assert!(
            text.contains("- ('b', 'B', 2)") && text.contains("+ ('b', 'B', 3)"),
            "{text}"
        );
        assert!(diff(&before, &before).is_empty());
    }
}
