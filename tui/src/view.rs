//! Drawing: a pure function of the [`App`] onto a ratatui frame. Nothing
//! here changes state or reads anything but the app.

mod events;
mod hints;
mod logs;
mod modules;
mod overlay;
mod replay;
mod status;
mod text;
mod theme;

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
    match app.pane {
        PaneId::Modules => modules::draw(frame, areas.main, app),
        PaneId::Events => events::draw(frame, areas.main, app),
        PaneId::Logs => logs::draw(frame, areas.main, app),
        PaneId::Replay => replay::draw(frame, areas.main, app),
    }
    hints::draw(frame, areas.hints, app);
    if let Some(overlay) = &app.overlay {
        overlay::draw(frame, area, overlay, app);
    }
}

/// A message in place of a pane's content (nothing to show, or an error).
fn message(frame: &mut Frame, area: Rect, block: Block, text: String, style: Style) {
    frame.render_widget(
        Paragraph::new(text)
            .style(style)
            .wrap(Wrap { trim: true })
            .block(block),
        area,
    );
}

/// A detail view: `lines` under `title`, scrolled down `scroll` lines.
fn detail(frame: &mut Frame, area: Rect, title: String, lines: Vec<Line>, scroll: u16) {
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
    let titles: Vec<Line> = PaneId::ALL
        .iter()
        .enumerate()
        .map(|(n, pane)| {
            let mut spans = vec![Span::raw(format!("{} {}", n + 1, pane.title()))];
            let badge = match pane {
                PaneId::Modules if failing > 0 => {
                    Some(Span::styled(format!(" {failing}✗"), theme::ERROR))
                }
                PaneId::Events => Some(Span::styled(
                    format!(" {}", text::thousands(app.events.head)),
                    theme::DIM,
                )),
                PaneId::Logs => Some(Span::styled(
                    format!(" {}", text::thousands(app.logs.lines.len() as u64)),
                    theme::DIM,
                )),
                PaneId::Replay => app
                    .replay
                    .step
                    .as_ref()
                    .and_then(|s| s.event.as_ref())
                    .map(|e| Span::styled(format!(" @{}", e.position), theme::DIM)),
                _ => None,
            };
            spans.extend(badge);
            Line::from(spans)
        })
        .collect();
    let selected = PaneId::ALL.iter().position(|p| *p == app.pane);
    frame.render_widget(
        Tabs::new(titles)
            .select(selected)
            .highlight_style(theme::SELECTED_TAB)
            .divider("│"),
        area,
    );
}
