//! `wbx tree [--json]`: the running engine's supervision trees (`GET
//! /api/actors/tree`), drawn with `├─` and `└─`: each process's pid, name,
//! module (a supervisor: its strategy), restarts and last exit reason. A
//! process no supervisor holds is a tree of its own. `--json` prints the
//! API's array of nested `{pid, name, module, id, strategy, status,
//! restarts, last_exit, children}`.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::Value;

use crate::actors;
use crate::cli::TreeArgs;
use crate::client;
use crate::console::{self, Stream, YELLOW, paint};

pub fn run(args: TreeArgs) -> Result<ExitCode> {
    let project = wbx_engine::project::open(&super::cwd()?)?;
    let Some(client) = actors::engine(&project) else {
        return Ok(ExitCode::FAILURE);
    };
    let trees = client.list("/api/actors/tree", "actors", "its supervision trees")?;
    if args.json {
        console::out(&client::json_array(&trees));
        return Ok(ExitCode::SUCCESS);
    }
    if trees.is_empty() {
        console::out("no processes run");
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = Vec::new();
    for tree in &trees {
        walk(&tree.value, "", "", &mut rows);
    }
    print_rows(&rows);
    Ok(ExitCode::SUCCESS)
}

/// One node drawn: the branch before its pid, then its columns.
struct Row {
    /// The branch and the pid: `│  ├─ <0.12>`.
    head: String,
    name: String,
    what: String,
    restarts: u64,
    last_exit: Option<String>,
}

/// `node` as a row after `branch`, and its children under it; `indent` is
/// what goes before their branches (a `│` while `node` has siblings below).
fn walk(node: &Value, branch: &str, indent: &str, rows: &mut Vec<Row>) {
    let text = |key: &str| node[key].as_str().map(str::to_owned);
    rows.push(Row {
        head: format!("{branch}{}", text("pid").unwrap_or_default()),
        // A child without a registered name: its id in its supervisor's spec.
        name: text("name")
            .or_else(|| text("id").map(|id| format!("({id})")))
            .unwrap_or_else(|| "-".to_owned()),
        what: match text("strategy") {
            Some(strategy) => format!("supervisor {strategy}"),
            None => text("module").unwrap_or_default(),
        },
        restarts: node["restarts"].as_u64().unwrap_or(0),
        last_exit: text("last_exit"),
    });
    let children = node["children"].as_array().map_or(&[][..], Vec::as_slice);
    for (i, child) in children.iter().enumerate() {
        let last = i + 1 == children.len();
        let (fork, below) = if last {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        walk(
            child,
            &format!("{indent}{fork}"),
            &format!("{indent}{below}"),
            rows,
        );
    }
}

/// The rows in aligned columns; a process that was restarted in yellow.
fn print_rows(rows: &[Row]) {
    let width = |cell: fn(&Row) -> &str| {
        rows.iter()
            .map(|r| cell(r).chars().count())
            .max()
            .unwrap_or(0)
    };
    let (head, name, what) = (width(|r| &r.head), width(|r| &r.name), width(|r| &r.what));
    for row in rows {
        let mut line = format!(
            "{:<head$}  {:<name$}  {:<what$}  restarts {}",
            row.head, row.name, row.what, row.restarts
        );
        if let Some(reason) = &row.last_exit {
            line += &format!("  last exit: {reason}");
        }
        console::out(&if row.restarts > 0 {
            paint(Stream::Stdout, &line, YELLOW)
        } else {
            line
        });
    }
}
