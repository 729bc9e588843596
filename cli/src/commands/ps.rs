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
use crate::console::{self, DIM, RED, Stream, paint};
use crate::table;

pub fn run(args: PsArgs) -> Result<ExitCode> {
    let project = wbx_engine::project::open(&super::cwd()?)?;
    let Some(client) = actors::engine(&project) else {
        return Ok(ExitCode::FAILURE);
    };
    let mut items = actors::list(&client, "/api/actors", "its processes")?;
    items.sort_by(|a, b| order(args.sort, &a.value, &b.value));
    if args.json {
        console::out(&actors::json_array(&items));
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
    let lines: Vec<([String; 10], bool)> = rows
        .iter()
        .map(|row| {
            let depth = row["mailbox"].as_u64().unwrap_or(0);
            let full = row["mailbox_capacity"]
                .as_u64()
                .is_some_and(|capacity| depth >= capacity);
            let cells = [
                text(&row["pid"]),
                text(&row["name"]),
                text(&row["module"]),
                text(&row["version"]),
                text(&row["status"]),
                format!("{depth}/{}", row["mailbox_high"].as_u64().unwrap_or(depth)),
                text(&row["handled"]),
                row["memory"]
                    .as_u64()
                    .filter(|&bytes| bytes > 0)
                    .map_or_else(|| "-".to_owned(), bytes),
                text(&row["restarts"]),
                text(&row["last_exit"]),
            ];
            (cells, full)
        })
        .collect();
    let widths = table::widths(&HEADINGS, lines.iter().map(|(cells, _)| cells));
    let heading = HEADINGS.map(str::to_owned);
    console::out(&paint(
        Stream::Stdout,
        &table::line(&heading, &widths, numeric),
        DIM,
    ));
    for (cells, full) in &lines {
        let line = table::line(cells, &widths, numeric);
        console::out(&if *full {
            paint(Stream::Stdout, &line, RED)
        } else {
            line
        });
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
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
