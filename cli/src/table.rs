//! Plain-text tables for the commands that list things (`wbx routes`, `wbx
//! ps`): each column as wide as its widest cell, numbers to the right, two
//! spaces between columns, nothing trailing.

use serde_json::Value;

use crate::console::{DIM, Stream, paint};

/// Each column's width in characters: its widest cell, heading included.
fn widths<'a, const N: usize>(
    headings: &[&str; N],
    rows: impl IntoIterator<Item = &'a [String; N]>,
) -> [usize; N] {
    let mut widths = headings.map(|h| h.chars().count());
    for cells in rows {
        for (width, cell) in widths.iter_mut().zip(cells) {
            *width = (*width).max(cell.chars().count());
        }
    }
    widths
}

/// One line of cells padded to `widths`; the columns `right` says yes to
/// are aligned to the right.
fn line<const N: usize>(
    cells: &[String; N],
    widths: &[usize; N],
    right: impl Fn(usize) -> bool,
) -> String {
    let padded: Vec<String> = cells
        .iter()
        .zip(widths)
        .enumerate()
        .map(|(column, (cell, &width))| {
            if right(column) {
                format!("{cell:>width$}")
            } else {
                format!("{cell:<width$}")
            }
        })
        .collect();
    padded.join("  ").trim_end().to_owned()
}

/// The lines of a table: the headings dimmed, then each row, painted in
/// its style when it has one (a row that needs attention).
pub fn render<const N: usize>(
    headings: &[&str; N],
    rows: &[([String; N], Option<&str>)],
    right: impl Fn(usize) -> bool,
) -> Vec<String> {
    let widths = widths(headings, rows.iter().map(|(cells, _)| cells));
    let heading = line(&headings.map(str::to_owned), &widths, &right);
    let mut lines = vec![paint(Stream::Stdout, &heading, DIM)];
    for (cells, style) in rows {
        let row = line(cells, &widths, &right);
        lines.push(match style {
            Some(style) => paint(Stream::Stdout, &row, style),
            None => row,
        });
    }
    lines
}

/// A value of the control API as a cell: `-` for null, text without its
/// quotes, anything else as JSON.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
