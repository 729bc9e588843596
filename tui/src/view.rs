//! Drawing: a pure function of the [`App`] onto a ratatui frame. Nothing
//! here changes state or reads anything but the app.

pub mod columns;
mod hints;
mod logs;
mod modules;
mod overlay;
pub mod sections;
mod status;
pub mod text;
pub mod theme;

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Tabs, Wrap};

use crate::app::{App, PaneId};
use crate::layout;
use crate::panes::ModuleState;

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if layout::too_small(area) {
        let text = format!(
            "wbx dev needs at least {}×{}; this terminal is {}×{}",
            layout::MIN_WIDTH,
            layout::MIN_HEIGHT,
            area.width,
            area.height
        );
        frame.render_widget(
            Paragraph::new(text)
                .alignment(Alignment::Center)
                .wrap(Wrap { trim: true }),
            area,
        );
        return;
    }
    let areas = layout::areas(area);
    status::draw(frame, areas.status, app);
    draw_tabs(frame, areas.tabs, app);
    if app.pane == PaneId::MODULES {
        modules::draw(frame, areas.main, app);
    } else if app.pane == PaneId::LOGS {
        logs::draw(frame, areas.main, app);
    } else if let Some(index) = app.owner(app.pane) {
        app.models[index].draw(app.pane, frame, areas.main, app);
    }
    hints::draw(frame, areas.hints, app);
    if let Some(overlay) = &app.overlay {
        overlay::draw(frame, area, overlay, app);
    }
}

/// A message in place of a pane's content (nothing to show, or an error).
pub fn message(frame: &mut Frame, area: Rect, block: Block, text: String, style: Style) {
    frame.render_widget(
        Paragraph::new(text)
            .style(style)
            .wrap(Wrap { trim: true })
            .block(block),
        area,
    );
}

/// `· filter: TEXT (N shown) ` for a list's title; nothing without a filter.
pub fn filter_note(text: &str, shown: usize) -> Option<Span<'static>> {
    let text = text.trim();
    (!text.is_empty())
        .then(|| Span::styled(format!("· filter: {text} ({shown} shown) "), theme::ACCENT))
}

/// A detail view: `lines` under `title`, scrolled down `scroll` lines.
pub fn detail(frame: &mut Frame, area: Rect, title: String, lines: Vec<Line>, scroll: u16) {
    let block = Block::bordered().title(Line::from(vec![
        Span::styled(title, theme::HEADER),
        Span::styled("esc back ", theme::DIM),
    ]));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        area,
    );
}

/// The pane selector, each title with its key and a count worth a glance.
fn draw_tabs(frame: &mut Frame, area: Rect, app: &App) {
    let failing = app
        .modules
        .rows
        .iter()
        .filter(|r| matches!(r.state(), ModuleState::Failed | ModuleState::Stopped))
        .count();
    let titles: Vec<Line> = app
        .panes
        .iter()
        .enumerate()
        .map(|(n, pane)| {
            let mut spans = vec![Span::raw(format!("{} {}", n + 1, pane.title))];
            let badge = if pane.id == PaneId::MODULES {
                (failing > 0).then(|| Span::styled(format!(" {failing}✗"), theme::ERROR))
            } else if pane.id == PaneId::LOGS {
                Some(Span::styled(
                    format!(" {}", text::thousands(app.logs.lines.len() as u64)),
                    theme::DIM,
                ))
            } else {
                app.owner(pane.id)
                    .and_then(|index| app.models[index].badge(pane.id))
                    .map(|badge| Span::styled(format!(" {badge}"), theme::DIM))
            };
            spans.extend(badge);
            Line::from(spans)
        })
        .collect();
    let selected = app.panes.iter().position(|p| p.id == app.pane);
    frame.render_widget(
        Tabs::new(titles)
            .select(selected)
            .highlight_style(theme::SELECTED_TAB)
            .divider("│"),
        area,
    );
}
