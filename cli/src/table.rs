//! Plain-text tables for the commands that list things (`wbx routes`, `wbx
//! ps`): each column as wide as its widest cell, numbers to the right, two
//! spaces between columns, nothing trailing.

/// Each column's width in characters: its widest cell, heading included.
pub fn widths<'a, const N: usize>(
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
pub fn line<const N: usize>(
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
