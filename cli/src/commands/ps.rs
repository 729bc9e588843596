//! `wbx ps [--json] [--sort COLUMN]`: the running engine's processes
//! (`GET /api/actors`), one line each: pid, registered name, module,
//! version, status, mailbox depth and its high-water mark, messages
//! handled, memory, restarts, last exit reason. `--json` prints the API's
//! array as it is (in `--sort`'s order; by pid, the API's own, unless told).

use std::cmp::Ordering;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::Value;

use crate::actors;
use crate::cli::{PsArgs, PsSort};
use crate::client;
use crate::console::{self, RED};
use crate::table::{self, cell};

pub fn run(args: PsArgs) -> Result<ExitCode> {
    let project = wbx_engine::project::open(&super::cwd()?)?;
    let Some(client) = actors::engine(&project) else {
        return Ok(ExitCode::FAILURE);
    };
    let mut items = client.list("/api/actors", "actors", "its processes")?;
    items.sort_by(|a, b| order(args.sort, &a.value, &b.value));
    if args.json {
        console::out(&client::json_array(&items));
        return Ok(ExitCode::SUCCESS);
    }
    if items.is_empty() {
        console::out("no processes run");
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<&Value> = items.iter().map(|item| &item.value).collect();
    print_table(&rows);
    Ok(ExitCode::SUCCESS)
}

/// `sort`'s order: counts largest first, text from A to Z (processes
/// without a name last); ties by pid.
fn order(sort: PsSort, a: &Value, b: &Value) -> Ordering {
    let count = |row: &Value, key: &str| row[key].as_u64().unwrap_or(0);
    let text = |row: &Value, key: &str| row[key].as_str().map(str::to_owned);
    let by = match sort {
        PsSort::Pid => Ordering::Equal,
        PsSort::Name => match (text(a, "name"), text(b, "name")) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        },
        PsSort::Module => text(a, "module").cmp(&text(b, "module")),
        PsSort::Mailbox => count(b, "mailbox").cmp(&count(a, "mailbox")),
        PsSort::Handled => count(b, "handled").cmp(&count(a, "handled")),
        PsSort::Memory => count(b, "memory").cmp(&count(a, "memory")),
        PsSort::Restarts => count(b, "restarts").cmp(&count(a, "restarts")),
    };
    by.then_with(|| pid_number(a).cmp(&pid_number(b)))
}

/// The serial of a pid `<0.N>`, so `<0.10>` comes after `<0.9>`.
fn pid_number(row: &Value) -> u64 {
    row["pid"]
        .as_str()
        .and_then(|pid| {
            pid.trim_start_matches("<0.")
                .trim_end_matches('>')
                .parse()
                .ok()
        })
        .unwrap_or(u64::MAX)
}

const HEADINGS: [&str; 10] = [
    "PID",
    "NAME",
    "MODULE",
    "VERSION",
    "STATUS",
    "MAILBOX",
    "HANDLED",
    "MEMORY",
    "RESTARTS",
    "LAST EXIT",
];

/// Columns 5 to 8 (mailbox, handled, memory, restarts) are numbers.
fn numeric(column: usize) -> bool {
    (5..=8).contains(&column)
}

/// One line per process; a process whose mailbox is full in red, so what
/// refuses messages stands out.
fn print_table(rows: &[&Value]) {
    let lines: Vec<([String; 10], Option<&str>)> = rows
        .iter()
        .map(|row| {
            let depth = row["mailbox"].as_u64().unwrap_or(0);
            let full = row["mailbox_capacity"]
                .as_u64()
                .is_some_and(|capacity| depth >= capacity);
            let cells = [
                cell(&row["pid"]),
                cell(&row["name"]),
                cell(&row["module"]),
                cell(&row["version"]),
                cell(&row["status"]),
                format!("{depth}/{}", row["mailbox_high"].as_u64().unwrap_or(depth)),
                cell(&row["handled"]),
                row["memory"]
                    .as_u64()
                    .filter(|&bytes| bytes > 0)
                    .map_or_else(|| "-".to_owned(), bytes),
                cell(&row["restarts"]),
                cell(&row["last_exit"]),
            ];
            (cells, full.then_some(RED))
        })
        .collect();
    for line in table::render(&HEADINGS, &lines, numeric) {
        console::out(&line);
    }
}

/// A size in bytes as people read it: `512 B`, `64 KiB`, `1.2 MiB`.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 || value >= 100.0 || value.fract() == 0.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
