//! The status bar: project, engine, build, and the last reload's account.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{text, theme};
use crate::app::App;
use crate::status::{BuildState, ReloadAccount};
use wbx_engine::Tier;

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let status = &app.status;
    let sep = || Span::styled(" │ ", theme::DIM);
    let mut first = vec![
        Span::styled(" wbx ", theme::BADGE),
        Span::styled(format!(" {}", status.project), theme::BOLD),
        sep(),
        Span::styled("● ", theme::OK),
        Span::raw(format!("engine {}", status.api)),
        sep(),
    ];
    first.extend(build(&status.build));
    if let Some(error) = &status.config_error {
        first.push(sep());
        first.push(Span::styled(
            format!("wbx.toml refused: {}", text::fit(error, 60)),
            theme::ERROR,
        ));
    }
    if status.skipped > 0 {
        first.push(sep());
        first.push(Span::styled(
            format!("{} skipped", text::count(status.skipped, "update")),
            theme::DIM,
        ));
    }
    let second = match &status.last_reload {
        Some(reload) => reload_line(reload),
        None => Line::from(Span::styled(
            " no reload yet: save a file of a module's crate and it is rebuilt and swapped in",
            theme::DIM,
        )),
    };
    frame.render_widget(Paragraph::new(vec![Line::from(first), second]), area);
}

fn build(state: &BuildState) -> Vec<Span<'static>> {
    match state {
        BuildState::Idle => vec![Span::styled("build: idle", theme::DIM)],
        BuildState::Building {
            modules,
            elapsed,
            frame,
            ..
        } => vec![Span::styled(
            format!(
                "{} building {} {:.1}s",
                SPINNER[frame % SPINNER.len()],
                modules.join(", "),
                elapsed.as_secs_f64()
            ),
            theme::WARN,
        )],
        BuildState::Built { modules, elapsed } => vec![Span::styled(
            format!(
                "✓ built {} in {:.1}s",
                text::count(*modules as u64, "module"),
                elapsed.as_secs_f64()
            ),
            theme::OK,
        )],
        BuildState::Failed { modules } => vec![Span::styled(
            format!(
                "✗ build failed: {} (old versions serve)",
                modules.join(", ")
            ),
            theme::ERROR,
        )],
    }
}

fn reload_line(r: &ReloadAccount) -> Line<'static> {
    let dot = || Span::styled(" · ", theme::DIM);
    Line::from(vec![
        Span::styled(" ↻ reloaded ", theme::OK),
        Span::styled(r.module.clone(), theme::BOLD),
        Span::raw(format!(
            " {} → {}",
            r.from.as_deref().unwrap_or("(new)"),
            r.to
        )),
        dot(),
        Span::styled(r.trigger.clone(), theme::ACCENT),
        dot(),
        Span::styled(
            format!("{} without cargo", text::duration(r.latency)),
            theme::BOLD,
        ),
        Span::styled(
            format!(
                " (cargo {} · {} {}{} · swap {})",
                text::duration(r.cargo),
                r.tier,
                text::duration(r.compile),
                if r.cached { ", cached" } else { "" },
                text::duration(r.swap)
            ),
            theme::DIM,
        ),
        match (&r.fallback, r.optimized) {
            (Some(why), _) => Span::styled(format!(" · winch could not: {why}"), theme::WARN),
            (None, Some(optimized)) => Span::styled(
                format!(" · then cranelift {}", text::duration(optimized)),
                theme::DIM,
            ),
            (None, None) if r.tier == Tier::Winch => {
                Span::styled(" · cranelift compiling…", theme::DIM)
            }
            (None, None) => Span::raw(""),
        },
    ])
}
