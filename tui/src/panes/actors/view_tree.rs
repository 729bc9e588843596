//! The Actors pane's supervision trees: each process under its
//! supervisor, indented with `├─`, the nodes the search found marked.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Row, Table};
use wbx_engine::actors::info::ProcessInfo;

use super::processes::ProcessTable;
use super::tree::TreeView;
use super::view_table::{
    dead_letters, exit_style, mailbox, processes, restarts, status_name, status_style,
};
use crate::view::columns::{constraints, fitting, kept, width};
use crate::view::{self, theme};

/// How a node is named in its tree: its registered name, else its id in
/// its supervisor's spec, else its module.
fn label(process: &ProcessInfo) -> &str {
    process
        .name
        .as_deref()
        .or(process.child_id.as_deref())
        .unwrap_or(&process.module)
}

/// A worker's module; a supervisor's strategy.
fn module(process: &ProcessInfo) -> String {
    match process.strategy {
        Some(strategy) => format!("supervisor, {strategy}"),
        None => process.module.clone(),
    }
}

fn title(tree: &TreeView, table: &ProcessTable) -> Line<'static> {
    let mut spans = vec![
        Span::styled(" Supervision trees ", theme::HEADER),
        Span::styled(format!("{} ", processes(table.rows.len())), theme::DIM),
    ];
    if !tree.search.is_empty() {
        let found = match tree.found.len() {
            0 => "none found".to_owned(),
            n => format!("{n} found"),
        };
        spans.push(Span::styled(
            format!("· find: {} ({found}) ", tree.search.text),
            theme::RELATED,
        ));
    }
    spans.push(dead_letters(table.dead_letters));
    Line::from(spans)
}

pub fn draw(frame: &mut Frame, area: Rect, tree: &TreeView, table: &ProcessTable) {
    let block = Block::bordered().title(title(tree, table));
    if tree.lines.is_empty() {
        let text = "No processes, so no trees. A [supervisors.NAME] table in wbx.toml starts \
                    one at boot.";
        return view::message(frame, area, block, text.to_owned(), theme::DIM);
    }
    let rows_of = &table.rows;
    let visible: Vec<_> = tree.visible().collect();
    let tree_width = visible
        .iter()
        .map(|(_, l)| l.prefix.chars().count() + label(&rows_of[l.row]).chars().count())
        .max()
        .unwrap_or(0)
        .clamp(10, 40) as u16;
    let module_width = visible
        .iter()
        .map(|(_, l)| module(&rows_of[l.row]).chars().count())
        .max()
        .unwrap_or(0)
        .clamp(6, 26) as u16;
    let pid_width = width(
        visible.iter().map(|(_, l)| rows_of[l.row].pid.as_str()),
        5,
        12,
    );
    // Tree, pid, module, status, mailbox, restarts, last exit.
    let widths = [tree_width, pid_width, module_width, 8, 8, 8, 9];
    let keep = fitting(
        &widths,
        &[0, 1, 3, 4, 5, 2, 6],
        area.width.saturating_sub(2),
    );
    let header = Row::new(kept(
        &keep,
        vec![
            Cell::from("Tree"),
            Cell::from("Pid"),
            Cell::from("Module"),
            Cell::from("Status"),
            Cell::from(Line::from("Mailbox").right_aligned()),
            Cell::from(Line::from("Restarts").right_aligned()),
            Cell::from("Last exit"),
        ],
    ))
    .style(theme::HEADER);
    let rows = visible.iter().map(|&(n, line)| {
        let p = &rows_of[line.row];
        let found = tree.found.binary_search(&n).is_ok();
        let name_style = if found {
            theme::RELATED.add_modifier(Modifier::BOLD)
        } else if p.strategy.is_some() {
            theme::BOLD
        } else {
            Style::default()
        };
        let module = Span::styled(
            module(p),
            if p.strategy.is_some() {
                theme::ACCENT
            } else {
                Style::default()
            },
        );
        let last_exit = match &p.last_exit {
            Some(why) => Span::styled(why.clone(), exit_style(why)),
            None => Span::raw(""),
        };
        let style = if n == tree.cursor.selected {
            theme::SELECTED
        } else {
            Style::default()
        };
        let cells = vec![
            Cell::from(Line::from(vec![
                Span::styled(line.prefix.clone(), theme::DIM),
                Span::styled(label(p).to_owned(), name_style),
            ])),
            Cell::from(Span::styled(p.pid.clone(), theme::ACCENT)),
            Cell::from(module),
            Cell::from(Span::styled(status_name(p.status), status_style(p.status))),
            Cell::from(Line::from(mailbox(p)).right_aligned()),
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
