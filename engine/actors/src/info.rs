//! What the views see of the processes: [`ProcessInfo`] (a row of `wbx
//! ps` and of the Actors pane), [`TreeNode`] (the supervision trees) and
//! [`ProcessDetail`] (one process opened). The JSON shapes are contracts
//! (SPEC.md): fields are added, never renamed.

use serde::Serialize;
use wbx_core::logs::LogLine;

use crate::message::Kind;
use crate::table::{Entry, Status, TraceLine};

/// Log lines of a process's module shown with the process.
const LOG_LINES: usize = 50;
/// Messages of a mailbox shown with the process.
const MAILBOX_SHOWN: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessInfo {
    pub pid: String,
    /// Its registered name; null when it has none.
    pub name: Option<String>,
    pub module: String,
    /// The version its instance runs; null for a supervisor.
    pub version: Option<String>,
    pub status: Status,
    /// Messages waiting.
    pub mailbox: usize,
    pub handled: u64,
    /// Restarts of its child slot, or through `init` at a swap.
    pub restarts: u32,
    pub mailbox_high: usize,
    pub mailbox_capacity: usize,
    /// Sends refused because its mailbox was full.
    pub refused: u64,
    /// Bytes of linear memory its instance holds.
    pub memory: u64,
    pub last_exit: Option<String>,
    /// Its supervisor's pid and its id there, when supervised.
    pub supervisor: Option<String>,
    pub child_id: Option<String>,
    /// Its place among its supervisor's children, for drawing the tree in
    /// their start order.
    #[serde(skip)]
    pub child_position: Option<usize>,
    /// A supervisor's strategy; null for a worker.
    pub strategy: Option<&'static str>,
    pub trap_exit: bool,
}

impl ProcessInfo {
    pub(crate) fn of(entry: &Entry) -> Self {
        let shared = entry.lock();
        ProcessInfo {
            pid: entry.pid.to_string(),
            name: shared.name.clone(),
            module: entry.module.clone(),
            version: shared.version.clone(),
            status: shared.status,
            mailbox: shared.mailbox.len(),
            handled: shared.handled,
            restarts: shared.restarts,
            mailbox_high: shared.high_water,
            mailbox_capacity: shared.capacity,
            refused: shared.refused,
            memory: shared.memory.as_ref().map_or(0, |m| m.bytes() as u64),
            last_exit: shared.last_exit.clone(),
            supervisor: shared.supervised.as_ref().map(|s| s.supervisor.to_string()),
            child_id: shared.supervised.as_ref().map(|s| s.id.clone()),
            child_position: shared.supervised.as_ref().map(|s| s.position),
            strategy: shared.strategy,
            trap_exit: shared.trap_exit,
        }
    }
}

/// A process in its supervision tree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TreeNode {
    pub pid: String,
    pub name: Option<String>,
    pub module: String,
    /// Its id in its supervisor's spec.
    pub id: Option<String>,
    /// A supervisor's strategy; null for a worker.
    pub strategy: Option<&'static str>,
    pub status: Status,
    pub restarts: u32,
    pub last_exit: Option<String>,
    pub children: Vec<TreeNode>,
}

impl TreeNode {
    /// The trees over `rows`: every process no supervisor holds is a root
    /// (a supervisor's children in their start order).
    pub fn trees(rows: &[ProcessInfo]) -> Vec<TreeNode> {
        fn node(row: &ProcessInfo, rows: &[ProcessInfo]) -> TreeNode {
            let mut children: Vec<&ProcessInfo> = rows
                .iter()
                .filter(|r| r.supervisor.as_deref() == Some(row.pid.as_str()))
                .collect();
            children.sort_by_key(|r| r.child_position);
            TreeNode {
                pid: row.pid.clone(),
                name: row.name.clone(),
                module: row.module.clone(),
                id: row.child_id.clone(),
                strategy: row.strategy,
                status: row.status,
                restarts: row.restarts,
                last_exit: row.last_exit.clone(),
                children: children.into_iter().map(|r| node(r, rows)).collect(),
            }
        }
        rows.iter()
            .filter(|r| {
                r.supervisor
                    .as_ref()
                    .is_none_or(|s| !rows.iter().any(|p| &p.pid == s))
            })
            .map(|r| node(r, rows))
            .collect()
    }
}

/// A message waiting in a mailbox, as shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Waiting {
    #[serde(flatten)]
    pub kind: Kind,
    pub from: Option<String>,
    /// The body parsed when it is JSON, else as text.
    pub body: serde_json::Value,
}

/// One process opened: everything the Actors pane shows of it.
#[derive(Debug, Clone, Serialize)]
pub struct ProcessDetail {
    #[serde(flatten)]
    pub info: ProcessInfo,
    pub links: Vec<String>,
    /// Monitors it holds: `{monitor, pid}`.
    pub monitors: Vec<(u64, String)>,
    /// Processes monitoring it.
    pub monitored_by: Vec<String>,
    /// The first messages of its mailbox.
    pub waiting: Vec<Waiting>,
    /// Its latest messages in and out, oldest first.
    pub trace: Vec<TraceLine>,
    /// What its `inspect` export says; null when it has none or is busy.
    pub state: Option<serde_json::Value>,
    /// Its module's latest log lines.
    pub logs: Vec<LogLine>,
}

impl ProcessDetail {
    pub(crate) fn of(entry: &Entry, state: Option<String>, logs: Vec<LogLine>) -> Self {
        let info = ProcessInfo::of(entry);
        let shared = entry.lock();
        let json = |text: &str| {
            serde_json::from_str(text)
                .unwrap_or_else(|_| serde_json::Value::String(text.to_owned()))
        };
        ProcessDetail {
            info,
            links: shared.links.iter().map(|p| p.to_string()).collect(),
            monitors: shared
                .monitors
                .iter()
                .map(|(m, p)| (*m, p.to_string()))
                .collect(),
            monitored_by: shared.watchers.values().map(|p| p.to_string()).collect(),
            waiting: shared
                .mailbox
                .iter()
                .take(MAILBOX_SHOWN)
                .map(|l| Waiting {
                    kind: l.kind.clone(),
                    from: l.from.map(|p| p.to_string()),
                    body: json(&l.body),
                })
                .collect(),
            trace: shared.trace.iter().cloned().collect(),
            state: state.as_deref().map(json),
            logs: logs.into_iter().rev().take(LOG_LINES).rev().collect(),
        }
    }
}
