//! `wbx routes [--json]`: the running engine's mesh routes
//! (`GET /api/mesh/routes`): per service its address, version, requests,
//! errors, p50/p99 and breaker, and below it a row per caller. Routes exist
//! only while an engine runs, so without one this says so and fails.

use std::process::ExitCode;

use anyhow::{Result, bail};
use serde_json::Value;

use crate::cli::RoutesArgs;
use crate::client::{Client, error_message};
use crate::console::{self, DIM, RED, YELLOW};
use crate::table::{self, cell};

pub fn run(args: RoutesArgs) -> Result<ExitCode> {
    let project = wbx_engine::project::open(&super::cwd()?)?;
    let Some(client) = Client::running_for(&project, "routes and their figures") else {
        return Ok(ExitCode::FAILURE);
    };
    let answer = client.get("/api/mesh/routes")?;
    if answer.status != 200 {
        bail!(
            "the engine at {} answered {} for its routes: {}",
            client.api(),
            answer.status,
            error_message(&answer.body)
        );
    }
    if args.json {
        console::out(&answer.body.to_string());
        return Ok(ExitCode::SUCCESS);
    }
    let rows = answer.body.as_array().cloned().unwrap_or_default();
    if rows.is_empty() {
        console::out("the project has no services");
        return Ok(ExitCode::SUCCESS);
    }
    print_table(&rows);
    Ok(ExitCode::SUCCESS)
}

const HEADINGS: [&str; 8] = [
    "SERVICE", "ADDRESS", "VERSION", "REQUESTS", "ERRORS", "P50", "P99", "BREAKER",
];

/// One line per service, and one per caller of it, indented under it.
fn print_table(rows: &[Value]) {
    let mut lines: Vec<([String; 8], bool)> = Vec::new();
    for row in rows {
        lines.push((
            [
                cell(&row["service"]),
                cell(&row["address"]),
                cell(&row["version"]),
                cell(&row["requests"]),
                errors(row),
                millis(&row["p50_ms"]),
                millis(&row["p99_ms"]),
                cell(&row["breaker"]),
            ],
            false,
        ));
        for caller in row["callers"].as_array().into_iter().flatten() {
            lines.push((
                [
                    format!("  ← {}", cell(&caller["caller"])),
                    String::new(),
                    String::new(),
                    cell(&caller["requests"]),
                    errors(caller),
                    millis(&caller["p50_ms"]),
                    millis(&caller["p99_ms"]),
                    String::new(),
                ],
                true,
            ));
        }
    }
    let rows: Vec<([String; 8], Option<&str>)> = lines
        .into_iter()
        .map(|(cells, caller)| {
            let style = match cells[7].as_str() {
                _ if caller => Some(DIM),
                "open" => Some(RED),
                "half-open" => Some(YELLOW),
                _ => None,
            };
            (cells, style)
        })
        .collect();
    for line in table::render(&HEADINGS, &rows, |column| (3..=6).contains(&column)) {
        console::out(&line);
    }
}

/// `errors (n%)` of a row's requests.
fn errors(row: &Value) -> String {
    let errors = row["errors"].as_u64().unwrap_or(0);
    match row["requests"].as_u64().filter(|&r| r > 0) {
        Some(requests) => format!("{errors} ({:.0}%)", errors as f64 * 100.0 / requests as f64),
        None => errors.to_string(),
    }
}

fn millis(value: &Value) -> String {
    value
        .as_f64()
        .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.1} ms"))
}
