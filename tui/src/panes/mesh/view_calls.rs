//! The Mesh pane: the route table above the live call log, or one call in
//! full.

use std::time::{Duration, SystemTime};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Sparkline, Table};
use wbx_engine::mesh::CallRecord;

use super::calls::{CallerLine, MeshPane, RATE_SECONDS, RouteLine};
use crate::view::{self, text, theme};

pub fn draw(frame: &mut Frame, area: Rect, pane: &MeshPane) {
    match (pane.detail, pane.selected_call()) {
        (Some(scroll), Some(call)) => detail(frame, area, call, scroll),
        _ => {
            let [table, log] = Layout::vertical([
                Constraint::Length(pane.table_height() as u16),
                Constraint::Min(0),
            ])
            .areas(area);
            routes(frame, table, pane);
            calls(frame, log, pane);
        }
    }
}

/// The colour of a status: its class, or an error when the call failed.
fn status_style(call: &CallRecord) -> Style {
    match call.status {
        _ if call.failed() => theme::ERROR,
        400.. => theme::WARN,
        300.. => theme::ACCENT,
        _ => theme::OK,
    }
}

fn milliseconds(ms: Option<f64>) -> String {
    ms.map_or("—".to_owned(), |ms| format!("{ms:.1} ms"))
}

fn latency(call: &CallRecord) -> String {
    text::duration(Duration::from_micros(call.latency_us))
}

fn time(call: &CallRecord) -> String {
    text::clock(SystemTime::UNIX_EPOCH + Duration::from_millis(call.at_ms))
}

/// Per service: rate, totals, latency percentiles, breaker, and beside
/// them the requests of each second, as far back as the width allows.
fn routes(frame: &mut Frame, area: Rect, pane: &MeshPane) {
    let block = Block::bordered().title(Line::from(vec![
        Span::styled(" Routes ", theme::HEADER),
        Span::styled(format!("req/s over the last {RATE_SECONDS} s "), theme::DIM),
    ]));
    let lines = pane.route_lines();
    if lines.is_empty() {
        let text = "No services. Declare one: kind = \"service\" and a namespace in a module's \
                    [package.metadata.wbx], or a component in wbx.toml.";
        return view::message(frame, area, block, text.to_owned(), theme::DIM);
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let service_width = lines
        .iter()
        .map(|l| l.service.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(7, 20) as u16;
    let address_width = lines
        .iter()
        .flat_map(|l| {
            let callers = l.callers.iter().map(|c| c.caller.chars().count() + 2);
            std::iter::once(l.route.address.chars().count()).chain(callers)
        })
        .max()
        .unwrap_or(0)
        .clamp(7, 28) as u16;
    let widths = [
        Constraint::Length(service_width),
        Constraint::Length(address_width),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(9),
    ];
    let needed: u16 = service_width + address_width + 6 + 8 + 6 + 9 * 3 + 8;
    let spark = inner.width.saturating_sub(needed + 1).min(60);
    let [left, right] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(spark)]).areas(inner);
    // A service's row, then one per caller; a service's sparkline beside its row.
    let mut rows: Vec<Row<'_>> = Vec::new();
    let mut service_rows = Vec::new();
    for line in &lines {
        service_rows.push(rows.len());
        rows.push(route_row(line));
        rows.extend(line.callers.iter().map(|caller| caller_row(caller)));
    }
    let header = Row::new([
        "Service", "Address", "Req/s", "Requests", "Errors", "p50", "p99", "Breaker",
    ])
    .style(theme::HEADER);
    frame.render_widget(Table::new(rows, widths).header(header), left);
    if spark < 10 {
        return;
    }
    frame.render_widget(
        Paragraph::new(Span::styled(format!("last {spark} s"), theme::HEADER)),
        Rect { height: 1, ..right },
    );
    let max = lines
        .iter()
        .flat_map(|l| l.history.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    for (line, n) in lines.iter().zip(service_rows) {
        let y = right.y + 1 + n as u16;
        if y >= right.bottom() {
            break;
        }
        let seconds = &line.history[line.history.len().saturating_sub(spark.into())..];
        frame.render_widget(
            Sparkline::default()
                .data(seconds)
                .max(max)
                .style(theme::ACCENT),
            Rect {
                y,
                height: 1,
                ..right
            },
        );
    }
}

fn route_row<'a>(line: &RouteLine<'a>) -> Row<'a> {
    let breaker_style = match line.route.breaker.as_str() {
        "open" => theme::ERROR,
        "half-open" => theme::WARN,
        _ => theme::DIM,
    };
    Row::new(vec![
        Span::styled(line.service.to_owned(), theme::BOLD),
        Span::styled(line.route.address.clone(), theme::ACCENT),
        Span::raw(format!("{:>5.1}", line.per_second)),
        Span::raw(format!("{:>8}", text::thousands(line.requests))),
        Span::styled(
            format!("{:>6}", text::thousands(line.errors)),
            if line.errors > 0 {
                theme::ERROR
            } else {
                Style::default()
            },
        ),
        Span::raw(milliseconds(line.p50_ms)),
        Span::raw(milliseconds(line.p99_ms)),
        Span::styled(
            if line.route.breaker.is_empty() {
                "closed".to_owned()
            } else {
                line.route.breaker.clone()
            },
            breaker_style,
        ),
    ])
}

/// A caller of the service above: its requests, errors and latencies.
fn caller_row(caller: &CallerLine) -> Row<'static> {
    Row::new(vec![
        Span::raw(""),
        Span::styled(format!("← {}", caller.caller), theme::DIM),
        Span::raw(""),
        Span::styled(
            format!("{:>8}", text::thousands(caller.requests)),
            theme::DIM,
        ),
        Span::styled(
            format!("{:>6}", text::thousands(caller.errors)),
            if caller.errors > 0 {
                theme::ERROR
            } else {
                theme::DIM
            },
        ),
        Span::styled(milliseconds(caller.p50_ms), theme::DIM),
        Span::styled(milliseconds(caller.p99_ms), theme::DIM),
    ])
}

fn title(pane: &MeshPane) -> Line<'static> {
    let mut spans = vec![
        Span::styled(" Calls ", theme::HEADER),
        Span::styled(format!("{} ", text::count(pane.seen, "call")), theme::DIM),
        if pane.cursor.follow {
            Span::styled("· following ", theme::OK)
        } else {
            Span::styled("· paused (G follows) ", theme::WARN)
        },
    ];
    if !pane.filter.text.is_empty() {
        spans.push(Span::styled(
            format!("· filter: {} ", pane.filter.text),
            theme::ACCENT,
        ));
    }
    Line::from(spans)
}

fn calls(frame: &mut Frame, area: Rect, pane: &MeshPane) {
    let block = Block::bordered().title(title(pane));
    if pane.shown.is_empty() {
        let text = if pane.filter.text.is_empty() {
            "No calls through the mesh yet. Send one: press : and type  \
             call GET http://{namespace}.{module}/path"
        } else {
            "No call passes the filter. Esc clears it."
        };
        return view::message(frame, area, block, text.to_owned(), theme::DIM);
    }
    let rows = pane.visible().map(|(n, call)| {
        let style = if n == pane.cursor.selected {
            theme::SELECTED
        } else {
            Style::default()
        };
        Row::new(vec![
            Span::styled(time(call), theme::DIM),
            Span::raw(format!("{} → {}", call.caller, call.callee)),
            Span::styled(call.method.clone(), theme::BOLD),
            Span::raw(call.path.clone()),
            Span::styled(call.status.to_string(), status_style(call)),
            Span::raw(format!("{:>9}", latency(call))),
            Span::styled(
                format!(
                    "{} / {}",
                    text::bytes(call.bytes_in),
                    text::bytes(call.bytes_out)
                ),
                theme::DIM,
            ),
        ])
        .style(style)
    });
    let pair_width = pane
        .visible()
        .map(|(_, c)| c.caller.chars().count() + c.callee.chars().count() + 3)
        .max()
        .unwrap_or(0)
        .clamp(15, 32) as u16;
    let widths = [
        Constraint::Length(12),
        Constraint::Length(pair_width),
        Constraint::Length(7),
        Constraint::Min(10),
        Constraint::Length(6),
        Constraint::Length(9),
        Constraint::Length(19),
    ];
    let header = Row::new([
        "Time (UTC)",
        "Caller → callee",
        "Method",
        "Path",
        "Status",
        "Latency",
        "In / out",
    ])
    .style(theme::HEADER);
    frame.render_widget(Table::new(rows, widths).header(header).block(block), area);
}

fn detail(frame: &mut Frame, area: Rect, call: &CallRecord, scroll: u16) {
    let field = |name: &str, value: Span<'static>| {
        Line::from(vec![Span::styled(format!("{name:<12}"), theme::DIM), value])
    };
    let absent = || Span::styled("—", theme::DIM);
    let mut lines = vec![
        field(
            "status",
            Span::styled(
                format!(
                    "{}{}",
                    call.status,
                    if call.aborted { " (body aborted)" } else { "" }
                ),
                status_style(call),
            ),
        ),
        field(
            "call",
            Span::raw(format!(
                "{} → {} ({})",
                call.caller, call.callee, call.authority
            )),
        ),
        field("time", Span::raw(time(call))),
        field("latency", Span::raw(latency(call))),
        field(
            "bytes",
            Span::raw(format!(
                "{} in, {} out",
                text::bytes(call.bytes_in),
                text::bytes(call.bytes_out)
            )),
        ),
        field(
            "version",
            call.version.clone().map_or_else(absent, Span::raw),
        ),
        field(
            "trace",
            Some(call.trace_id.clone())
                .filter(|t| !t.is_empty())
                .map_or_else(absent, Span::raw),
        ),
        field(
            "error",
            call.error
                .clone()
                .map_or_else(absent, |e| Span::styled(e, theme::ERROR)),
        ),
    ];
    let section = |lines: &mut Vec<Line<'static>>,
                   title: &str,
                   headers: &[(String, String)],
                   body: &Option<String>| {
        lines.push(Line::raw(""));
        lines.push(Line::styled(format!("{title} headers"), theme::HEADER));
        if headers.is_empty() {
            lines.push(Line::styled("none", theme::DIM));
        }
        for (name, value) in headers {
            lines.push(Line::from(vec![
                Span::styled(format!("{name}: "), theme::ACCENT),
                Span::raw(value.clone()),
            ]));
        }
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!("{title} body (its start)"),
            theme::HEADER,
        ));
        match body {
            Some(body) if body.is_empty() => lines.push(Line::styled("empty", theme::DIM)),
            Some(body) => lines.extend(body.lines().map(|l| Line::raw(l.to_owned()))),
            None => lines.push(Line::styled(
                "not kept: only the latest calls keep the start of their bodies",
                theme::DIM,
            )),
        }
    };
    section(
        &mut lines,
        "request",
        &call.request_headers,
        &call.request_body,
    );
    section(
        &mut lines,
        "response",
        &call.response_headers,
        &call.response_body,
    );
    let title = format!(" Call {} · {} {} ", call.id, call.method, call.path);
    view::detail(frame, area, title, lines, scroll);
}
