//! `wbx flows [--json]`: the running engine's flows (`GET /api/flows`). Per
//! flow a line with its name, status and the reason it failed, then a table
//! of its stages (module, kind, status, elements in and out, elements out a
//! second, guest time per element p50/p99, errors, dead letters, restarts)
//! and one of its edges (`from[:port] → to`, queue depth of capacity,
//! `held` while backpressure holds the producer, pressure ok/low/high,
//! drops, policy). `--json` prints the API's array as the engine wrote it.

use std::process::ExitCode;

use anyhow::{Context, Result};
use serde::Serialize;
use wbx_engine::pipelines::info::{
    EdgeInfo, FlowInfo, FlowStatus, Pressure, StageInfo, StageStatus,
};

use crate::cli::FlowsArgs;
use crate::client;
use crate::console::{self, RED, Stream, YELLOW, paint};
use crate::flows;
use crate::table;

pub fn run(args: FlowsArgs) -> Result<ExitCode> {
    let project = wbx_engine::project::open(&super::cwd()?)?;
    let Some(client) = flows::engine(&project) else {
        return Ok(ExitCode::FAILURE);
    };
    let items = client.list("/api/flows", "flows", "its flows")?;
    if args.json {
        console::out(&client::json_array(&items));
        return Ok(ExitCode::SUCCESS);
    }
    if items.is_empty() {
        console::out("the project has no flows (wbx.toml declares them as [flows.NAME])");
        return Ok(ExitCode::SUCCESS);
    }
    for (i, item) in items.iter().enumerate() {
        let flow: FlowInfo = serde_json::from_str(item.raw.get()).with_context(|| {
            format!(
                "the engine at {} describes a flow in a shape this wbx does not read: {}",
                client.api(),
                item.raw.get()
            )
        })?;
        if i > 0 {
            console::out("");
        }
        print_flow(&flow);
    }
    Ok(ExitCode::SUCCESS)
}

/// The flow's line, then its stages and its edges, indented under it.
fn print_flow(flow: &FlowInfo) {
    let mut head = format!("{}  {}", flow.name, name(&flow.status));
    if let Some(reason) = &flow.reason {
        head += &format!(": {reason}");
    }
    console::out(&match flow.status {
        FlowStatus::Failed => paint(Stream::Stdout, &head, RED),
        FlowStatus::Paused | FlowStatus::Draining => paint(Stream::Stdout, &head, YELLOW),
        _ => head,
    });
    let stages: Vec<_> = flow.stages.iter().map(stage_row).collect();
    let edges: Vec<_> = flow.edges.iter().map(edge_row).collect();
    let lines = table::render(&STAGE_HEADINGS, &stages, |c| (4..=10).contains(&c))
        .into_iter()
        .chain(table::render(&EDGE_HEADINGS, &edges, |c| c == 1 || c == 4));
    for line in lines {
        console::out(&format!("  {line}"));
    }
}

const STAGE_HEADINGS: [&str; 11] = [
    "STAGE",
    "MODULE",
    "KIND",
    "STATUS",
    "IN",
    "OUT",
    "PER SECOND",
    "P50/P99",
    "ERRORS",
    "DEAD LETTERS",
    "RESTARTS",
];

/// A stage's row: red when it failed, yellow while it is held back or
/// being made again.
fn stage_row(stage: &StageInfo) -> ([String; 11], Option<&'static str>) {
    let latency = if stage.p50_us == 0 && stage.p99_us == 0 {
        "-".to_owned()
    } else {
        format!("{}/{}", micros(stage.p50_us), micros(stage.p99_us))
    };
    let cells = [
        stage.name.clone(),
        stage.module.clone(),
        stage.kind.clone(),
        name(&stage.status),
        stage.taken.to_string(),
        stage.out.to_string(),
        format!("{:.1}", stage.per_second),
        latency,
        stage.errors.to_string(),
        stage.dead_letters.to_string(),
        stage.restarts.to_string(),
    ];
    let style = match stage.status {
        StageStatus::Failed => Some(RED),
        StageStatus::Restarting | StageStatus::Throttled | StageStatus::Paused => Some(YELLOW),
        _ => None,
    };
    (cells, style)
}

const EDGE_HEADINGS: [&str; 6] = ["EDGE", "QUEUE", "HELD", "PRESSURE", "DROPPED", "POLICY"];

/// An edge's row: yellow while its producer is held or was held for much
/// of the last seconds.
fn edge_row(edge: &EdgeInfo) -> ([String; 6], Option<&'static str>) {
    let from = match &edge.port {
        Some(port) => format!("{}:{port}", edge.from),
        None => edge.from.clone(),
    };
    let cells = [
        format!("{from} → {}", edge.to),
        format!("{}/{}", edge.depth, edge.capacity),
        if edge.held { "held" } else { "" }.to_owned(),
        name(&edge.backpressure),
        edge.dropped.to_string(),
        name(&edge.policy),
    ];
    let pressed = edge.held || edge.backpressure != Pressure::Ok;
    (cells, pressed.then_some(YELLOW))
}

/// The name the control API gives a status, pressure or policy.
fn name(value: &impl Serialize) -> String {
    table::cell(&serde_json::to_value(value).unwrap_or_default())
}

/// A time in microseconds as people read it: `40 µs`, `1.2 ms`, `3.0 s`.
fn micros(us: u64) -> String {
    match us {
        0..1_000 => format!("{us} µs"),
        1_000..1_000_000 => format!("{:.1} ms", us as f64 / 1e3),
        _ => format!("{:.1} s", us as f64 / 1e6),
    }
}
