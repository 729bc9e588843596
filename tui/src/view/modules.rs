//! The Modules pane: a table of modules, or one module's detail.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Row, Table};

use super::{text, theme};
use crate::app::App;
use crate::layout;
use crate::panes::{ModuleRow, ModuleState, ModulesPane};
use wbx_engine::Tier;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let pane = &app.modules;
    match (pane.detail, pane.selected()) {
        (Some(scroll), Some(row)) => detail(frame, area, pane, row, scroll),
        _ => table(frame, area, app),
    }
}

fn state_style(state: ModuleState) -> Style {
    match state {
        ModuleState::Running => theme::OK,
        ModuleState::Building => theme::WARN,
        ModuleState::Failed | ModuleState::Stopped => theme::ERROR,
        ModuleState::Waiting => theme::DIM,
    }
}

fn table(frame: &mut Frame, area: Rect, app: &App) {
    let pane = &app.modules;
    let block = Block::bordered().title(Line::from(vec![
        Span::styled(" Modules ", theme::HEADER),
        Span::styled(format!("{} ", pane.rows.len()), theme::DIM),
    ]));
    if pane.rows.is_empty() {
        let text = "No modules. A module is a crate of the workspace with \
                    [package.metadata.wbx] kind = \"command\" (or projector, effect).";
        return super::message(frame, area, block, text.to_owned(), Style::default());
    }
    let page = layout::page(app.size);
    let name_width = pane
        .rows
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(6)
        .max(6) as u16;
    let rows = pane
        .rows
        .iter()
        .enumerate()
        .skip(pane.cursor.offset)
        .take(page)
        .map(|(n, row)| {
            let state = row.state();
            let cells = vec![
                Span::raw(row.name.clone()),
                Span::raw(row.kind.to_string()),
                Span::raw(row.version.clone().unwrap_or_else(|| "—".to_owned())),
                tier(row.tier),
                Span::styled(state.as_str(), state_style(state)),
                Span::raw(row.reloads.to_string()),
                info(pane, row),
            ];
            let style = if n == pane.cursor.selected {
                theme::SELECTED
            } else {
                Style::default()
            };
            Row::new(cells).style(style)
        });
    let header = Row::new([
        "Module", "Kind", "Version", "Code", "Status", "Reloads", "Info",
    ])
    .style(theme::HEADER);
    let widths = [
        Constraint::Length(name_width),
        Constraint::Length(9),
        Constraint::Length(18),
        Constraint::Length(9),
        Constraint::Length(10),
        Constraint::Length(7),
        Constraint::Fill(1),
    ];
    frame.render_widget(Table::new(rows, widths).header(header).block(block), area);
}

/// The compiler of a module's code: Winch's (dimmed, with Cranelift's
/// coming) or Cranelift's.
fn tier(tier: Option<Tier>) -> Span<'static> {
    match tier {
        Some(Tier::Winch) => Span::styled("winch", theme::WARN),
        Some(tier) => Span::styled(tier.name(), theme::DIM),
        None => Span::raw("—"),
    }
}

/// The one thing worth knowing about a module at a glance.
fn info(pane: &ModulesPane, row: &ModuleRow) -> Span<'static> {
    if let Some(error) = row.build_error.as_deref().or(row.load_error.as_deref()) {
        let first = text::strip_ansi(error);
        let first = first.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        return Span::styled(first.trim().to_owned(), theme::ERROR);
    }
    if let Some(error) = &row.stopped {
        return Span::styled(format!("stopped: {error}"), theme::ERROR);
    }
    if let (Some(position), Some(lag)) = (row.position, pane.lag(row)) {
        return Span::styled(
            format!(
                "at {} · lag {}",
                text::thousands(position),
                text::thousands(lag)
            ),
            if lag == 0 { theme::DIM } else { theme::WARN },
        );
    }
    if let Some(retry) = &row.retrying {
        return Span::styled(retry.clone(), theme::WARN);
    }
    if let Some(error) = &row.call_error {
        return Span::styled(format!("last call failed: {error}"), theme::WARN);
    }
    Span::raw("")
}

fn detail(frame: &mut Frame, area: Rect, pane: &ModulesPane, row: &ModuleRow, scroll: u16) {
    let state = row.state();
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{name:<13}"), theme::DIM),
            Span::raw(value),
        ])
    };
    let mut lines = vec![
        field("kind", row.kind.to_string()),
        Line::from(vec![
            Span::styled(format!("{:<13}", "status"), theme::DIM),
            Span::styled(state.as_str(), state_style(state)),
        ]),
        field(
            "version",
            row.version
                .clone()
                .unwrap_or_else(|| "none loaded".to_owned()),
        ),
        field("code", row.tier.map_or("none", Tier::name).to_owned()),
        field("reloads", row.reloads.to_string()),
    ];
    if let Some(position) = row.position {
        lines.push(field("position", text::thousands(position)));
        lines.push(field("log head", text::thousands(pane.head)));
        lines.push(field(
            "lag",
            text::count(pane.lag(row).unwrap_or(0), "event"),
        ));
    }
    let mut section = |title: &str, body: &str, style: Style| {
        lines.push(Line::raw(""));
        lines.push(Line::styled(title.to_owned(), style.patch(theme::BOLD)));
        lines.extend(
            text::strip_ansi(body)
                .lines()
                .map(|l| Line::raw(l.to_owned())),
        );
    };
    if let Some(error) = &row.build_error {
        section(
            "The last build failed (the running version, if any, keeps serving):",
            error,
            theme::ERROR,
        );
    }
    if let Some(error) = &row.load_error {
        section("Loading the last version failed:", error, theme::ERROR);
    }
    if let Some(error) = &row.stopped {
        section(
            "The projector stopped (it resumes on a new version):",
            error,
            theme::ERROR,
        );
    }
    if let Some(retry) = &row.retrying {
        section("Last retry:", retry, theme::WARN);
    }
    if let Some(error) = &row.call_error {
        section(
            &format!("Last failed call ({} failed so far):", row.calls_failed),
            error,
            theme::WARN,
        );
    }
    if row.first_error().is_none() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("No errors.", theme::OK));
    }
    super::detail(frame, area, format!(" {} ", row.name), lines, scroll);
}
