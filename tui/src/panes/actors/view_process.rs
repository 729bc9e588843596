//! One process opened: its figures, its state (what its `inspect` says),
//! the first messages of its mailbox, its links and monitors, its latest
//! messages in and out, and its module's latest log lines.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Block;
use wbx_engine::actors::info::{ProcessDetail, ProcessInfo};
use wbx_engine::actors::message::Kind;

use super::processes::ProcessTable;
use super::state::{Opened, who};
use super::view_table::{exit_style, mailbox_style, memory, rate, status_name, status_style};
use crate::view::sections::{field, heading, json, none};
use crate::view::{self, text, theme};

/// Characters of a traced message's body shown on its line.
const BODY_SHOWN: usize = 160;

pub fn draw(frame: &mut Frame, area: Rect, opened: &Opened, table: &ProcessTable) {
    let Some(detail) = &opened.detail else {
        let block = Block::bordered().title(Span::styled(
            format!(" Process {} ", opened.pid),
            theme::HEADER,
        ));
        let (text, style) = match &opened.error {
            Some(error) => (format!("Cannot open {}: {error}", opened.pid), theme::ERROR),
            None => (format!("Reading {}…", opened.pid), theme::DIM),
        };
        return view::message(frame, area, block, text, style);
    };
    let info = &detail.info;
    let title = format!(
        " Process {} · {} ",
        who(&info.pid, info.name.as_deref()),
        info.module
    );
    let mut lines = Vec::new();
    if let Some(why) = &opened.exited {
        lines.push(Line::styled(
            format!("exited: {why} · what follows is as it was last seen"),
            exit_style(why),
        ));
        lines.push(Line::raw(""));
    } else if let Some(error) = &opened.error {
        lines.push(Line::styled(
            format!("the last look failed: {error}"),
            theme::ERROR,
        ));
        lines.push(Line::raw(""));
    }
    figures(&mut lines, info, table.rate(&info.pid));
    state(&mut lines, detail);
    mailbox(&mut lines, detail);
    links(&mut lines, detail);
    trace(&mut lines, detail);
    logs(&mut lines, detail);
    view::detail(frame, area, title, lines, opened.scroll);
}

fn figures(lines: &mut Vec<Line<'static>>, info: &ProcessInfo, per_second: Option<f64>) {
    let dim = |text: String| Span::styled(text, theme::DIM);
    let mut status = vec![Span::styled(
        status_name(info.status),
        status_style(info.status),
    )];
    if info.trap_exit {
        status.push(dim(" · traps exits".to_owned()));
    }
    lines.push(field("status", status));
    lines.push(field(
        "version",
        vec![Span::raw(info.version.clone().unwrap_or_else(|| {
            "— (a supervisor runs no module)".to_owned()
        }))],
    ));
    lines.push(field(
        "mailbox",
        vec![
            Span::styled(format!("{} waiting", info.mailbox), mailbox_style(info)),
            dim(format!(
                " · high-water {} · capacity {} · refused {}",
                info.mailbox_high,
                text::thousands(info.mailbox_capacity as u64),
                text::thousands(info.refused)
            )),
        ],
    ));
    lines.push(field(
        "handled",
        vec![
            Span::raw(text::thousands(info.handled)),
            dim(format!(" · {}/s", rate(per_second))),
        ],
    ));
    lines.push(field("memory", vec![Span::raw(memory(info.memory))]));
    let mut restarts = vec![Span::raw(info.restarts.to_string())];
    if let Some(why) = &info.last_exit {
        restarts.push(dim(" · last exit: ".to_owned()));
        restarts.push(Span::styled(why.clone(), exit_style(why)));
    }
    lines.push(field("restarts", restarts));
    let supervisor = match (&info.supervisor, &info.child_id) {
        (Some(pid), Some(id)) => format!("{pid}, as child '{id}'"),
        (Some(pid), None) => pid.clone(),
        _ => "none".to_owned(),
    };
    lines.push(field("supervisor", vec![Span::raw(supervisor)]));
    if let Some(strategy) = info.strategy {
        lines.push(field("strategy", vec![Span::raw(strategy)]));
    }
}

fn state(lines: &mut Vec<Line<'static>>, detail: &ProcessDetail) {
    heading(lines, "State".to_owned());
    match &detail.state {
        Some(state) => json(lines, state, 2, Style::default()),
        None => none(
            lines,
            "not shown: the module exports no inspect, or the process was busy",
        ),
    }
}

fn kind(kind: &Kind) -> String {
    match kind {
        Kind::Cast => "cast".to_owned(),
        Kind::Call => "call".to_owned(),
        Kind::Exit { reason } => format!("exit ({reason})"),
        Kind::Down { monitor, reason } => format!("down #{monitor} ({reason})"),
    }
}

fn mailbox(lines: &mut Vec<Line<'static>>, detail: &ProcessDetail) {
    let waiting = detail.info.mailbox;
    let title = if detail.waiting.len() < waiting {
        format!("Mailbox: the first {} of {waiting}", detail.waiting.len())
    } else {
        format!("Mailbox: {}", text::count(waiting as u64, "message"))
    };
    heading(lines, title);
    if detail.waiting.is_empty() {
        none(lines, "empty");
    }
    for message in &detail.waiting {
        let from = message
            .from
            .as_ref()
            .map_or(" from outside".to_owned(), |p| format!(" from {p}"));
        lines.push(Line::from(vec![
            Span::styled(format!("  {}", kind(&message.kind)), theme::BOLD),
            Span::styled(from, theme::DIM),
        ]));
        json(lines, &message.body, 4, Style::default());
    }
}

fn links(lines: &mut Vec<Line<'static>>, detail: &ProcessDetail) {
    heading(lines, "Links and monitors".to_owned());
    let list = |pids: &[String]| {
        if pids.is_empty() {
            Span::styled("none", theme::DIM)
        } else {
            Span::styled(pids.join(", "), theme::ACCENT)
        }
    };
    lines.push(field("  links", vec![list(&detail.links)]));
    let monitors: Vec<String> = detail
        .monitors
        .iter()
        .map(|(monitor, pid)| format!("#{monitor} → {pid}"))
        .collect();
    lines.push(field("  monitors", vec![list(&monitors)]));
    lines.push(field("  watched by", vec![list(&detail.monitored_by)]));
}

fn trace(lines: &mut Vec<Line<'static>>, detail: &ProcessDetail) {
    heading(
        lines,
        format!(
            "Messages in and out: the latest {}, oldest first",
            detail.trace.len()
        ),
    );
    if detail.trace.is_empty() {
        none(lines, "none yet");
    }
    for line in &detail.trace {
        let at = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(line.at_ms);
        let (arrow, style, peer) = if line.direction == "in" {
            ("←", theme::OK, "from")
        } else {
            ("→", theme::ACCENT, "to")
        };
        let peer = line
            .peer
            .as_ref()
            .map_or(format!(" {peer} outside"), |p| format!(" {peer} {p}"));
        lines.push(Line::from(vec![
            Span::styled(format!("  {} ", text::clock(at)), theme::DIM),
            Span::styled(format!("{arrow} {:<4}", line.direction), style),
            Span::styled(kind(&line.kind), theme::BOLD),
            Span::styled(format!("{peer}  "), theme::DIM),
            Span::raw(text::fit(&line.body.replace('\n', " "), BODY_SHOWN)),
        ]));
    }
}

fn logs(lines: &mut Vec<Line<'static>>, detail: &ProcessDetail) {
    heading(
        lines,
        format!(
            "Logs of {}: the latest {}",
            detail.info.module,
            detail.logs.len()
        ),
    );
    if detail.logs.is_empty() {
        none(lines, "none");
    }
    for log in &detail.logs {
        lines.push(Line::from(vec![
            Span::styled(format!("  {} ", text::clock(log.at)), theme::DIM),
            Span::styled(
                format!("{:<5} ", log.level.as_str()),
                theme::level(log.level),
            ),
            Span::raw(log.text.clone()),
        ]));
    }
}
