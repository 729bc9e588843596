//! One stage opened: its figures, its latency histogram, the last
//! elements in and out (payloads pretty-printed when JSON), its latest
//! errors and its dead letters.

use std::time::{Duration, SystemTime};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Block;
use wbx_engine::pipelines::info::{Bucket, DeadLetter, ElementView, StageError, StageInfo};

use super::state::Opened;
use super::view_flows::stage_status_style;
use crate::view::sections::{field, heading, json, none};
use crate::view::{self, text, theme};

/// The longest bar of the latency histogram, in cells.
const BAR: u64 = 40;
/// Characters of a binary payload (base64) shown.
const BASE64_SHOWN: usize = 120;

pub fn draw(frame: &mut Frame, area: Rect, opened: &Opened) {
    let Some(detail) = &opened.detail else {
        let block = Block::bordered().title(Span::styled(
            format!(" Stage {} · flow {} ", opened.stage, opened.flow),
            theme::HEADER,
        ));
        let (text, style) = match &opened.error {
            Some(error) => (
                format!("Cannot open {}: {error}", opened.stage),
                theme::ERROR,
            ),
            None => (format!("Reading {}…", opened.stage), theme::DIM),
        };
        return view::message(frame, area, block, text, style);
    };
    let title = format!(" Stage {} · flow {} ", detail.stage.name, detail.flow);
    let mut lines = Vec::new();
    if let Some(error) = &opened.error {
        lines.push(Line::styled(
            format!("{error} · what follows is as it was last seen"),
            theme::ERROR,
        ));
        lines.push(Line::raw(""));
    }
    figures(&mut lines, &detail.stage);
    latency(&mut lines, &detail.latency);
    elements(&mut lines, "Last in", &detail.last_in);
    elements(&mut lines, "Last out", &detail.last_out);
    let errors = &detail.errors;
    let heading = format!("Errors: the latest {}, newest first", errors.len());
    section(&mut lines, heading, "none", errors.iter().rev(), error);
    let letters = &detail.dead_letters;
    let heading = format!("Dead letters: {} (R sends them again)", letters.len());
    section(&mut lines, heading, "none", letters, dead_letter);
    view::detail(frame, area, title, lines, opened.scroll);
}

fn at(ms: u64) -> String {
    text::clock(SystemTime::UNIX_EPOCH + Duration::from_millis(ms))
}

fn figures(lines: &mut Vec<Line<'static>>, stage: &StageInfo) {
    let dim = |text: String| Span::styled(text, theme::DIM);
    let count = |n: u64, what: &str, style: Style| {
        let style = if n > 0 { style } else { theme::DIM };
        Span::styled(text::count(n, what), style)
    };
    lines.push(field(
        "status",
        vec![Span::styled(
            stage.status.as_str(),
            stage_status_style(stage.status),
        )],
    ));
    let module = match &stage.version {
        Some(version) => format!("{} {version}, a {}", stage.module, stage.kind),
        None => format!("{}, a source of the host's", stage.module),
    };
    lines.push(field("module", vec![Span::raw(module)]));
    // A figure, then a dim note on it.
    let noted =
        |name: &str, figure: String, note: String| field(name, vec![Span::raw(figure), dim(note)]);
    let (taken, out) = (text::thousands(stage.taken), text::thousands(stage.out));
    lines.push(noted(
        "elements",
        format!("{taken} in · {out} out"),
        format!(" · {:.1}/s out", stage.per_second),
    ));
    let (p50, p99) = (text::micros(stage.p50_us), text::micros(stage.p99_us));
    lines.push(noted(
        "latency",
        format!("p50 {p50} · p99 {p99}"),
        " guest time per element".to_owned(),
    ));
    lines.push(field(
        "failures",
        vec![
            count(stage.errors, "error", theme::ERROR),
            dim(" · ".to_owned()),
            count(stage.dead_letters, "dead letter", theme::ERROR),
            dim(" · ".to_owned()),
            count(stage.restarts, "restart", theme::WARN),
        ],
    ));
}

/// The histogram from its first bucket with a count: a bar each, scaled
/// to the fullest.
fn latency(lines: &mut Vec<Line<'static>>, buckets: &[Bucket]) {
    let total: u64 = buckets.iter().map(|b| b.count).sum();
    heading(
        lines,
        format!("Latency per element: {} timed", text::thousands(total)),
    );
    let first = buckets.iter().position(|b| b.count > 0);
    let Some(first) = first else {
        return none(lines, "no batch timed yet");
    };
    let fullest = buckets.iter().map(|b| b.count).max().unwrap_or(1).max(1);
    for bucket in &buckets[first..] {
        let cells = (bucket.count * BAR).div_ceil(fullest) as usize;
        lines.push(Line::from(vec![
            Span::styled(
                format!("  ≤ {:<10}", text::micros(bucket.le_us)),
                theme::DIM,
            ),
            Span::styled("█".repeat(cells), theme::ACCENT),
            Span::raw(format!(" {}", text::thousands(bucket.count))),
        ]));
    }
}

/// An element's line (sequence, time, key, port, content type), then its
/// payload: JSON pretty-printed, text as it is, bytes in base64.
fn element(lines: &mut Vec<Line<'static>>, element: &ElementView) {
    let mut spans = vec![
        Span::styled(format!("  #{:<6} ", element.sequence), theme::BOLD),
        Span::styled(format!("{} ", at(element.timestamp_ms)), theme::DIM),
    ];
    if let Some(key) = &element.key {
        spans.push(Span::styled(format!("key {key} "), theme::ACCENT));
    }
    if let Some(port) = &element.port {
        spans.push(Span::styled(format!("port {port} "), theme::ACCENT));
    }
    spans.push(Span::styled(element.content_type.clone(), theme::DIM));
    lines.push(Line::from(spans));
    match (&element.payload, &element.payload_base64) {
        (Some(serde_json::Value::String(text)), _) if !element.content_type.contains("json") => {
            lines.extend(text.lines().map(|l| Line::raw(format!("    {l}"))));
        }
        (Some(value), _) => json(lines, value, 4, Style::default()),
        (None, Some(encoded)) => lines.push(Line::styled(
            format!("    base64 {}", text::fit(encoded, BASE64_SHOWN)),
            theme::DIM,
        )),
        (None, None) => none(lines, "  (empty)"),
    }
}

/// A section: its heading, then a line or more for each item, or `empty`
/// when there is none.
fn section<'a, T: 'a>(
    lines: &mut Vec<Line<'static>>,
    title: String,
    empty: &str,
    items: impl IntoIterator<Item = &'a T>,
    each: fn(&mut Vec<Line<'static>>, &T),
) {
    heading(lines, title);
    let mut items = items.into_iter().peekable();
    if items.peek().is_none() {
        none(lines, empty);
    }
    for item in items {
        each(lines, item);
    }
}

fn elements(lines: &mut Vec<Line<'static>>, what: &str, shown: &[ElementView]) {
    let title = format!("{what}: the latest {}, newest first", shown.len());
    section(lines, title, "none yet", shown.iter().rev(), element);
}

fn error(lines: &mut Vec<Line<'static>>, error: &StageError) {
    let sequence = error.sequence.map_or("—".to_owned(), |s| format!("#{s}"));
    lines.push(Line::from(vec![
        Span::styled(format!("  {} ", at(error.at_ms)), theme::DIM),
        Span::styled(format!("{sequence:<8}"), theme::BOLD),
        Span::styled(error.error.clone(), theme::ERROR),
    ]));
}

/// Why it was set aside, then the element.
fn dead_letter(lines: &mut Vec<Line<'static>>, letter: &DeadLetter) {
    lines.push(Line::from(vec![
        Span::styled(format!("  {} ", at(letter.at_ms)), theme::DIM),
        Span::styled(
            format!(
                "after {}: {}",
                text::count(u64::from(letter.attempts), "attempt"),
                letter.error
            ),
            theme::ERROR,
        ),
    ]));
    element(lines, &letter.element);
}
