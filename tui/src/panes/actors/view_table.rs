//! The Actors pane: the process table (or the trees, `view_tree.rs`) with
//! the latest exits, restarts, escalations and swaps under it; and the
//! styles the pane's views share.

use std::time::{Duration, SystemTime};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};
use wbx_engine::actors::info::ProcessInfo;
use wbx_engine::actors::message::reason;
use wbx_engine::actors::table::Status;

use super::processes::{ProcessTable, SortKey};
use super::state::{ActorsPane, HappeningKind, RECENT_SHOWN};
use super::view_tree;
use crate::view::columns::{constraints, fitting, kept, width};
use crate::view::{self, text, theme};

pub fn draw(frame: &mut Frame, area: Rect, pane: &ActorsPane) {
    let [main, recent] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(RECENT_SHOWN as u16)]).areas(area);
    match &pane.tree {
        Some(tree) => view_tree::draw(frame, main, tree, &pane.table),
        None => table(frame, main, &pane.table),
    }
    happenings(frame, recent, pane);
}

pub fn status_name(status: Status) -> &'static str {
    match status {
        Status::Starting => "starting",
        Status::Idle => "idle",
        Status::Running => "running",
        Status::Waiting => "waiting",
        Status::Swapping => "swapping",
    }
}

pub fn status_style(status: Status) -> Style {
    match status {
        Status::Idle => theme::DIM,
        Status::Running => theme::OK,
        Status::Waiting => theme::WARN,
        Status::Starting | Status::Swapping => theme::ACCENT,
    }
}

/// An exit reason: red unless the process ended as it meant to.
pub fn exit_style(why: &str) -> Style {
    if reason::is_normal(why) {
        theme::DIM
    } else {
        theme::ERROR
    }
}

/// A mailbox: red when full, yellow past three quarters, else plain.
pub fn mailbox_style(process: &ProcessInfo) -> Style {
    theme::fill(process.mailbox, process.mailbox_capacity)
}

/// Messages handled per second; `—` before two snapshots.
pub fn rate(rate: Option<f64>) -> String {
    rate.map_or("—".to_owned(), |r| format!("{r:.1}"))
}

/// The title: how many processes, the sort, the filter, the dead letters.
fn title(table: &ProcessTable) -> Line<'static> {
    let arrow = if table.sort.descending { "↓" } else { "↑" };
    let mut spans = vec![
        Span::styled(" Processes ", theme::HEADER),
        Span::styled(
            format!(
                "{} · sort: {} {arrow} ",
                processes(table.rows.len()),
                table.sort.key.label()
            ),
            theme::DIM,
        ),
    ];
    spans.extend(view::filter_note(&table.filter.text, table.shown.len()));
    spans.push(dead_letters(table.dead_letters));
    Line::from(spans)
}

/// Bytes of linear memory; `—` for a supervisor, which has none.
pub fn memory(bytes: u64) -> String {
    if bytes == 0 {
        "—".to_owned()
    } else {
        text::bytes(bytes)
    }
}

/// `1 process`, `1,234 processes`.
pub fn processes(n: usize) -> String {
    let plural = if n == 1 { "" } else { "es" };
    format!("{} process{plural}", text::thousands(n as u64))
}

/// Sends that found no process, red when there were any.
pub fn dead_letters(total: u64) -> Span<'static> {
    let style = if total > 0 { theme::ERROR } else { theme::DIM };
    Span::styled(format!("· dead letters {} ", text::thousands(total)), style)
}

fn table(frame: &mut Frame, area: Rect, table: &ProcessTable) {
    let block = Block::bordered().title(title(table));
    if table.shown.is_empty() {
        let text = if table.filter.is_empty() {
            "No processes. A [supervisors.NAME] table in wbx.toml starts a supervision tree \
             at boot; a guest starts more with spawn."
        } else {
            "No process passes the filter. Esc clears it."
        };
        return view::message(frame, area, block, text.to_owned(), theme::DIM);
    }
    let visible: Vec<(usize, &ProcessInfo)> = table.visible().collect();
    let names: Vec<String> = visible
        .iter()
        .map(|(_, p)| p.name.clone().unwrap_or_default())
        .collect();
    let version_width = width(
        visible
            .iter()
            .map(|(_, p)| p.version.as_deref().unwrap_or("")),
        7,
        14,
    );
    // Pid, name, module, version, status, mailbox, handled, per second,
    // memory, restarts, last exit (as wide as what is left).
    let widths = [
        width(visible.iter().map(|(_, p)| p.pid.as_str()), 5, 12),
        width(names.iter().map(String::as_str), 5, 16),
        width(visible.iter().map(|(_, p)| p.module.as_str()), 6, 18),
        version_width,
        8,
        8,
        8,
        7,
        8,
        9,
        9,
    ];
    let keep = fitting(&widths, &TABLE_PRIORITY, area.width.saturating_sub(2));
    let sort = table.sort;
    let arrow = if sort.descending { "▼" } else { "▲" };
    let heading = |label: &'static str, key: SortKey| -> String {
        if key == sort.key {
            format!("{label}{arrow}")
        } else {
            label.to_owned()
        }
    };
    let right = |text: String| Cell::from(Line::from(text).right_aligned());
    let header = Row::new(kept(
        &keep,
        vec![
            Cell::from(heading("Pid", SortKey::Pid)),
            Cell::from(heading("Name", SortKey::Name)),
            Cell::from("Module"),
            Cell::from("Version"),
            Cell::from("Status"),
            right(heading("Mailbox", SortKey::Mailbox)),
            right("Handled".to_owned()),
            right(heading("/s", SortKey::Rate)),
            right(heading("Memory", SortKey::Memory)),
            right(heading("Restarts", SortKey::Restarts)),
            Cell::from("Last exit"),
        ],
    ))
    .style(theme::HEADER);
    let rows = visible.iter().map(|&(n, p)| {
        let style = if n == table.cursor.selected {
            theme::SELECTED
        } else {
            Style::default()
        };
        let name = match &p.name {
            Some(name) => Span::styled(name.clone(), theme::BOLD),
            None => Span::styled("—", theme::DIM),
        };
        let last_exit = match &p.last_exit {
            Some(why) => Span::styled(why.clone(), exit_style(why)),
            None => Span::raw(""),
        };
        let cells = vec![
            Cell::from(Span::styled(p.pid.clone(), theme::ACCENT)),
            Cell::from(name),
            Cell::from(p.module.clone()),
            Cell::from(Span::styled(
                p.version
                    .as_deref()
                    .map_or(String::new(), |v| text::fit(v, usize::from(version_width))),
                theme::DIM,
            )),
            Cell::from(Span::styled(status_name(p.status), status_style(p.status))),
            Cell::from(Line::from(mailbox(p)).right_aligned()),
            right(text::thousands(p.handled)),
            right(rate(table.rate(&p.pid))),
            right(memory(p.memory)),
            Cell::from(Line::from(restarts(p.restarts)).right_aligned()),
            Cell::from(last_exit),
        ];
        Row::new(kept(&keep, cells)).style(style)
    });
    frame.render_widget(
        Table::new(rows, constraints(&widths, &keep))
            .header(header)
            .block(block),
        area,
    );
}

/// The table's columns (by their place) in the order they give way when
/// the screen is narrow: the last first.
const TABLE_PRIORITY: [usize; 11] = [0, 1, 5, 7, 4, 2, 9, 8, 10, 6, 3];

/// `depth/high-water`, coloured as the mailbox fills.
pub fn mailbox(process: &ProcessInfo) -> Span<'static> {
    Span::styled(
        format!("{}/{}", process.mailbox, process.mailbox_high),
        mailbox_style(process),
    )
}

pub fn restarts(restarts: u32) -> Span<'static> {
    let style = if restarts > 0 {
        theme::WARN
    } else {
        Style::default()
    };
    Span::styled(restarts.to_string(), style)
}

/// The latest happenings, newest first, one a line.
fn happenings(frame: &mut Frame, area: Rect, pane: &ActorsPane) {
    if pane.recent.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled(
                " No exits, restarts or swaps yet.",
                theme::DIM,
            )),
            area,
        );
        return;
    }
    let lines: Vec<Line> = pane
        .recent
        .iter()
        .take(usize::from(area.height))
        .map(|h| {
            let style = match h.kind {
                HappeningKind::Exit { failed: true } | HappeningKind::Escalation => theme::ERROR,
                HappeningKind::Exit { failed: false } => theme::DIM,
                HappeningKind::Restart => theme::WARN,
                HappeningKind::Swap { clean: true } => theme::ACCENT,
                HappeningKind::Swap { clean: false } => theme::WARN,
            };
            let at = SystemTime::UNIX_EPOCH + Duration::from_millis(h.at_ms);
            Line::from(vec![
                Span::styled(format!(" {} ", text::clock(at)), theme::DIM),
                Span::styled(h.text.clone(), style),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}
