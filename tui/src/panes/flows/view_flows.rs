//! The Flows pane: the list of flows above the selected flow's graph (its
//! chain, its queues, its stages with their sparklines), the latest news
//! under them; and the names and colours the pane's views share.

use std::time::{Duration, SystemTime};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Sparkline, Table};
use wbx_engine::pipelines::info::{FlowInfo, FlowStatus, Pressure, StageStatus};

use super::graph::{self, EdgeLine};
use super::state::{FlowsPane, Focus, NEWS_SHOWN, Tone};
use crate::view::columns::{constraints, fitting, kept, used, width};
use crate::view::{self, text, theme};

/// What the pane says when the project declares no flow.
const NO_FLOWS: &str = "No flows. Declare one in wbx.toml: its nodes in [flows.NAME.nodes], each \
     a module of kind source, processor or sink (enrich = \"enrich\") or a host source \
     (clicks = { source = \"push\" }), and its edges as [[flows.NAME.edges]] tables \
     (from = \"clicks\", to = \"enrich\"). See docs/pipelines.md.";
/// Cells of a queue's gauge, between its ends.
const GAUGE: usize = 8;
/// Seconds of history a sparkline shows at most (the runtime keeps 60).
const SPARK_MAX: u16 = 60;
/// Below this width there is no room for a sparkline.
const SPARK_MIN: u16 = 10;

pub fn draw(frame: &mut Frame, area: Rect, pane: &FlowsPane) {
    if pane.flows.is_empty() {
        let block = Block::bordered().title(Span::styled(" Flows ", theme::HEADER));
        return view::message(frame, area, block, NO_FLOWS.to_owned(), theme::DIM);
    }
    let [list_area, flow_area, news_area] = Layout::vertical([
        Constraint::Length(pane.list_rows() as u16 + 3),
        Constraint::Min(0),
        Constraint::Length(NEWS_SHOWN as u16),
    ])
    .areas(area);
    list(frame, list_area, pane);
    if let Some(flow) = pane.selected() {
        let stage = (pane.focus == Focus::Stages).then_some(pane.stage);
        draw_flow(frame, flow_area, flow, stage);
    }
    news(frame, news_area, pane);
}

pub fn flow_status_style(status: FlowStatus) -> Style {
    match status {
        FlowStatus::Running => theme::OK,
        FlowStatus::Starting | FlowStatus::Draining => theme::ACCENT,
        FlowStatus::Paused => theme::WARN,
        FlowStatus::Failed => theme::ERROR,
        FlowStatus::Finished | FlowStatus::Stopped => theme::DIM,
    }
}

pub fn stage_status_style(status: StageStatus) -> Style {
    match status {
        StageStatus::Running => theme::OK,
        StageStatus::Starting | StageStatus::Swapping => theme::ACCENT,
        StageStatus::Paused | StageStatus::Throttled | StageStatus::Restarting => theme::WARN,
        StageStatus::Failed => theme::ERROR,
        StageStatus::Finished => theme::DIM,
    }
}

/// Flink's words for the share of time a producer was held.
fn pressure_name(pressure: Pressure) -> &'static str {
    match pressure {
        Pressure::Ok => "OK",
        Pressure::Low => "LOW",
        Pressure::High => "HIGH",
    }
}

fn pressure_style(pressure: Pressure) -> Style {
    match pressure {
        Pressure::Ok => theme::OK,
        Pressure::Low => theme::WARN,
        Pressure::High => theme::ERROR.patch(theme::BOLD),
    }
}

/// `▕██████░░▏`: `depth` of `capacity`, any element at all a cell.
pub fn gauge(depth: usize, capacity: usize) -> String {
    let filled = match capacity {
        0 => 0,
        _ => (depth.min(capacity) * GAUGE).div_ceil(capacity),
    };
    format!("▕{}{}▏", "█".repeat(filled), "░".repeat(GAUGE - filled))
}

/// A cell with its text against the right edge.
fn right<'a>(line: impl Into<Line<'a>>) -> Cell<'a> {
    Cell::from(line.into().right_aligned())
}

/// The flows: name, status, stages, edges held now, dead letters, reason.
fn list(frame: &mut Frame, area: Rect, pane: &FlowsPane) {
    let mut title = vec![
        Span::styled(" Flows ", theme::HEADER),
        Span::styled(
            format!("{} ", text::count(pane.flows.len() as u64, "flow")),
            theme::DIM,
        ),
    ];
    title.extend(view::filter_note(&pane.filter.text, pane.shown.len()));
    let block = Block::bordered().title(Line::from(title));
    if pane.shown.is_empty() {
        let text = "No flow passes the filter. Esc clears it.".to_owned();
        return view::message(frame, area, block, text, theme::DIM);
    }
    let name_width = width(pane.visible().map(|(_, f)| f.name.as_str()), 4, 24);
    let rows = pane.visible().map(|(n, flow)| {
        let held = flow.edges.iter().filter(|e| e.held).count();
        let dead: u64 = flow.stages.iter().map(|s| s.dead_letters).sum();
        let reason_style = match flow.status {
            FlowStatus::Failed => theme::ERROR,
            _ => theme::DIM,
        };
        let style = if n == pane.cursor.selected {
            theme::SELECTED
        } else {
            Style::default()
        };
        Row::new(vec![
            Cell::from(Span::styled(flow.name.clone(), theme::BOLD)),
            Cell::from(Span::styled(
                flow.status.as_str(),
                flow_status_style(flow.status),
            )),
            right(flow.stages.len().to_string()),
            right(match held {
                0 => Span::styled("—", theme::DIM),
                n => Span::styled(format!("■ {n}"), theme::WARN),
            }),
            right(Span::styled(text::thousands(dead), bad_style(dead))),
            Cell::from(Span::styled(
                flow.reason.clone().unwrap_or_default(),
                reason_style,
            )),
        ])
        .style(style)
    });
    let header = Row::new([
        Cell::from("Flow"),
        Cell::from("Status"),
        right("Stages"),
        right("Held"),
        right("Dead letters"),
        Cell::from("Reason"),
    ])
    .style(theme::HEADER);
    let widths = [
        Constraint::Length(name_width),
        Constraint::Length(9),
        Constraint::Length(6),
        Constraint::Length(5),
        Constraint::Length(12),
        Constraint::Min(10),
    ];
    frame.render_widget(Table::new(rows, widths).header(header).block(block), area);
}

/// One flow: its chain when linear, why it failed, its queues and its
/// stages; `stage` is the one selected, while the keys move among them.
fn draw_flow(frame: &mut Frame, area: Rect, flow: &FlowInfo, stage: Option<usize>) {
    let block = Block::bordered().title(Line::from(vec![
        Span::styled(format!(" Flow {} ", flow.name), theme::HEADER),
        Span::styled(
            format!("{} ", flow.status.as_str()),
            flow_status_style(flow.status),
        ),
    ]));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut top: Vec<Line> = Vec::new();
    if let Some(chain) = graph::chain(flow) {
        top.push(chain_line(flow, &chain));
    }
    if let Some(reason) = &flow.reason {
        let style = match flow.status {
            FlowStatus::Failed => theme::ERROR,
            _ => theme::WARN,
        };
        top.push(Line::styled(
            format!("{}: {reason}", flow.status.as_str()),
            style,
        ));
    }
    let edges = graph::edge_lines(flow);
    let [top_area, edges_area, _, stages_area] = Layout::vertical([
        Constraint::Length(top.len() as u16),
        Constraint::Length(edges.len() as u16 + 1),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(top), top_area);
    queues(frame, edges_area, &edges);
    stages(frame, stages_area, flow, stage);
}

/// `clicks ─▶ enrich ─▶ top`, each stage in the colour of its status.
fn chain_line(flow: &FlowInfo, chain: &[&str]) -> Line<'static> {
    let mut spans = Vec::new();
    for (n, name) in chain.iter().enumerate() {
        if n > 0 {
            spans.push(Span::styled(graph::ARROW, theme::DIM));
        }
        let style = flow
            .stages
            .iter()
            .find(|s| s.name == *name)
            .map_or(theme::BOLD, |s| {
                stage_status_style(s.status).patch(theme::BOLD)
            });
        spans.push(Span::styled((*name).to_owned(), style));
    }
    Line::from(spans)
}

/// Columns as wide as their widest text or their heading, each at most
/// its `max`.
fn widths<const N: usize>(headings: [&str; N], rows: &[[String; N]], max: [u16; N]) -> [u16; N] {
    std::array::from_fn(|c| {
        let cells = rows.iter().map(|row| row[c].as_str());
        width(cells.chain([headings[c]]), 1, usize::from(max[c]))
    })
}

/// A heading row, the columns `figures` against their right edge (as
/// their figures are).
fn heading_row<const N: usize>(
    headings: [&'static str; N],
    figures: &[usize],
    keep: &[bool],
) -> Row<'static> {
    let cells = headings
        .iter()
        .enumerate()
        .map(|(c, h)| {
            let line = Line::from(*h);
            Cell::from(if figures.contains(&c) {
                line.right_aligned()
            } else {
                line
            })
        })
        .collect();
    Row::new(kept(keep, cells)).style(theme::HEADER)
}

/// A count: red when there is any, else dim.
fn bad_style(n: u64) -> Style {
    if n > 0 { theme::ERROR } else { theme::DIM }
}

const EDGE_HEADINGS: [&str; 10] = [
    "Edge", "Queue", "High", "Pressure", "", "Dropped", "Policy", "Passed", "Blocked", "Holds",
];
/// The edges' columns (by their place) in the order they give way when
/// the screen is narrow: the last first.
const EDGE_PRIORITY: [usize; 10] = [0, 1, 3, 4, 5, 6, 2, 8, 7, 9];

/// Each edge: its queue against its capacity, its high-water mark, the
/// pressure on its producer and whether it is held now, its drops and
/// policy, the elements through it, the time its producer was held and
/// how often backpressure started and ended.
fn queues(frame: &mut Frame, area: Rect, lines: &[EdgeLine]) {
    let digits = lines
        .iter()
        .map(|l| l.edge.capacity.to_string().len())
        .max()
        .unwrap_or(1);
    let texts: Vec<[String; 10]> = lines
        .iter()
        .map(|line| {
            let edge = line.edge;
            [
                line.label(),
                format!(
                    "{} {:>digits$}/{}",
                    gauge(edge.depth, edge.capacity),
                    edge.depth,
                    edge.capacity
                ),
                edge.high_water.to_string(),
                pressure_name(edge.backpressure).to_owned(),
                if edge.held { "■ held" } else { "" }.to_owned(),
                text::thousands(edge.dropped),
                edge.policy.as_str().to_owned(),
                text::thousands(edge.passed),
                match edge.blocked_ms {
                    0 => "—".to_owned(),
                    ms => text::duration(Duration::from_millis(ms)),
                },
                format!("{}/{}", edge.triggered, edge.relieved),
            ]
        })
        .collect();
    let widths = widths(EDGE_HEADINGS, &texts, [40, 40, 9, 8, 6, 9, 11, 13, 9, 13]);
    let keep = fitting(&widths, &EDGE_PRIORITY, area.width);
    let rows = lines.iter().zip(texts).map(|(line, texts)| {
        let edge = line.edge;
        let [
            label,
            _,
            high,
            pressure,
            held,
            dropped,
            policy,
            passed,
            blocked,
            holds,
        ] = texts;
        let queue = Line::from(vec![
            Span::styled(
                gauge(edge.depth, edge.capacity),
                theme::ACCENT.patch(theme::fill(edge.depth, edge.capacity)),
            ),
            Span::raw(format!(" {:>digits$}/{}", edge.depth, edge.capacity)),
        ]);
        Row::new(kept(
            &keep,
            vec![
                Cell::from(label),
                Cell::from(queue),
                right(high),
                Cell::from(Span::styled(pressure, pressure_style(edge.backpressure))),
                Cell::from(Span::styled(held, theme::WARN.patch(theme::BOLD))),
                right(Span::styled(dropped, bad_style(edge.dropped))),
                Cell::from(Span::styled(policy, theme::DIM)),
                right(passed),
                right(blocked),
                right(holds),
            ],
        ))
    });
    let area = Rect {
        width: used(&widths, &keep),
        ..area
    };
    frame.render_widget(
        Table::new(rows, constraints(&widths, &keep)).header(heading_row(
            EDGE_HEADINGS,
            &[2, 5, 7, 8, 9],
            &keep,
        )),
        area,
    );
}

const STAGE_HEADINGS: [&str; 13] = [
    "Stage", "Module", "Version", "Kind", "Status", "In", "Out", "/s", "p50", "p99", "Errors",
    "Dead", "Restarts",
];
/// The stages' columns in the order they give way: the last first.
const STAGE_PRIORITY: [usize; 13] = [0, 4, 5, 6, 7, 10, 11, 8, 9, 12, 1, 3, 2];

/// Each stage: module, version and kind, status, elements in and out, per
/// second, p50 and p99, errors, dead letters, restarts; beside them, the
/// elements out in each of the last seconds.
fn stages(frame: &mut Frame, area: Rect, flow: &FlowInfo, selected: Option<usize>) {
    let texts: Vec<[String; 13]> = flow
        .stages
        .iter()
        .map(|stage| {
            [
                stage.name.clone(),
                stage.module.clone(),
                stage.version.clone().unwrap_or_default(),
                stage.kind.clone(),
                stage.status.as_str().to_owned(),
                text::thousands(stage.taken),
                text::thousands(stage.out),
                format!("{:.1}", stage.per_second),
                text::micros(stage.p50_us),
                text::micros(stage.p99_us),
                text::thousands(stage.errors),
                text::thousands(stage.dead_letters),
                stage.restarts.to_string(),
            ]
        })
        .collect();
    let widths = widths(
        STAGE_HEADINGS,
        &texts,
        [20, 16, 18, 9, 10, 13, 13, 9, 9, 9, 9, 9, 8],
    );
    // The table takes what it needs, less room for a sparkline; the
    // sparkline the rest.
    let spark = (area.width / 5).clamp(SPARK_MIN, SPARK_MAX);
    let keep = fitting(
        &widths,
        &STAGE_PRIORITY,
        area.width.saturating_sub(spark + 1),
    );
    let [table_area, _, spark_area] = Layout::horizontal([
        Constraint::Length(used(&widths, &keep)),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);
    // The selected stage stays in view.
    let room = usize::from(area.height.saturating_sub(1)).max(1);
    let skip = selected.map_or(0, |s| (s + 1).saturating_sub(room));
    let rows = flow
        .stages
        .iter()
        .zip(texts)
        .enumerate()
        .skip(skip)
        .map(|(n, (stage, texts))| {
            let [
                name,
                module,
                version,
                kind,
                status,
                taken,
                out,
                rate,
                p50,
                p99,
                errors,
                dead,
                restarts,
            ] = texts;
            let restarts_style = if stage.restarts > 0 {
                theme::WARN
            } else {
                theme::DIM
            };
            let style = if selected == Some(n) {
                theme::SELECTED
            } else {
                Style::default()
            };
            Row::new(kept(
                &keep,
                vec![
                    Cell::from(Span::styled(name, theme::BOLD)),
                    Cell::from(module),
                    Cell::from(Span::styled(version, theme::DIM)),
                    Cell::from(kind),
                    Cell::from(Span::styled(status, stage_status_style(stage.status))),
                    right(taken),
                    right(out),
                    right(rate),
                    right(p50),
                    right(p99),
                    right(Span::styled(errors, bad_style(stage.errors))),
                    right(Span::styled(dead, bad_style(stage.dead_letters))),
                    right(Span::styled(restarts, restarts_style)),
                ],
            ))
            .style(style)
        });
    frame.render_widget(
        Table::new(rows, constraints(&widths, &keep)).header(heading_row(
            STAGE_HEADINGS,
            &[5, 6, 7, 8, 9, 10, 11, 12],
            &keep,
        )),
        table_area,
    );
    sparklines(frame, spark_area, flow, skip);
}

/// Elements out per second, one line a stage beside its row, the latest
/// second at the right; one scale for the whole flow, so stages compare.
fn sparklines(frame: &mut Frame, area: Rect, flow: &FlowInfo, skip: usize) {
    let room = area.width.min(SPARK_MAX);
    if room < SPARK_MIN {
        return;
    }
    frame.render_widget(
        Paragraph::new(Span::styled(format!("out/s, last {room} s"), theme::HEADER)),
        Rect { height: 1, ..area },
    );
    let max = flow
        .stages
        .iter()
        .flat_map(|s| s.history.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let rows = (area.y + 1..area.bottom()).zip(flow.stages.iter().skip(skip));
    for (y, stage) in rows {
        let seconds = &stage.history[stage.history.len().saturating_sub(room.into())..];
        // Fewer seconds than room: they end at the right edge.
        let shown = seconds.len() as u16;
        let line = Rect::new(area.x + room - shown, y, shown, 1);
        let sparkline = Sparkline::default()
            .data(seconds)
            .max(max)
            .style(stage_status_style(stage.status));
        frame.render_widget(sparkline, line);
    }
}

/// The latest failures, restarts, dead letters and swaps, newest first.
fn news(frame: &mut Frame, area: Rect, pane: &FlowsPane) {
    let lines: Vec<Line> = if pane.news.is_empty() {
        vec![Line::styled(
            " No failures, restarts, dead letters or swaps yet.",
            theme::DIM,
        )]
    } else {
        pane.news
            .iter()
            .take(usize::from(area.height))
            .map(|news| {
                let at = SystemTime::UNIX_EPOCH + Duration::from_millis(news.at_ms);
                let style = match news.tone {
                    Tone::Info => theme::ACCENT,
                    Tone::Warn => theme::WARN,
                    Tone::Error => theme::ERROR,
                };
                Line::from(vec![
                    Span::styled(format!(" {} ", text::clock(at)), theme::DIM),
                    Span::styled(news.text.clone(), style),
                ])
            })
            .collect()
    };
    frame.render_widget(Paragraph::new(lines), area);
}
