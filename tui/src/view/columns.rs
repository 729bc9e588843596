//! Tables narrower than their columns: each column as wide as its widest
//! cell (within bounds), and the columns that matter least left out whole
//! rather than every column cut.

use ratatui::layout::Constraint;

/// A column's width: its widest cell on screen, within `min..=max`.
pub fn width<'a>(cells: impl Iterator<Item = &'a str>, min: usize, max: usize) -> u16 {
    cells
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(min, max) as u16
}

/// Which columns of `widths` fit in `room`, taken in `priority` order (a
/// space between two); the last is as wide as what is left.
pub fn fitting(widths: &[u16], priority: &[usize], room: u16) -> Vec<bool> {
    let mut keep = vec![false; widths.len()];
    let mut used = 0u16;
    for &column in priority {
        let needed = widths[column] + u16::from(used > 0);
        if used + needed <= room {
            used += needed;
            keep[column] = true;
        }
    }
    keep
}

/// The cells of the columns kept.
pub fn kept<T>(keep: &[bool], cells: Vec<T>) -> Vec<T> {
    cells
        .into_iter()
        .zip(keep)
        .filter_map(|(cell, keep)| keep.then_some(cell))
        .collect()
}

/// The kept columns' widths; the last column, when kept, takes the rest
/// of the line.
pub fn constraints(widths: &[u16], keep: &[bool]) -> Vec<Constraint> {
    let last = widths.len().saturating_sub(1);
    (0..widths.len())
        .filter(|&column| keep[column])
        .map(|column| {
            if column == last {
                Constraint::Min(widths[column])
            } else {
                Constraint::Length(widths[column])
            }
        })
        .collect()
}

/// The room the kept columns take, a space between two.
pub fn used(widths: &[u16], keep: &[bool]) -> u16 {
    let kept: Vec<u16> = widths
        .iter()
        .zip(keep)
        .filter_map(|(width, keep)| keep.then_some(*width))
        .collect();
    kept.iter().sum::<u16>() + (kept.len() as u16).saturating_sub(1)
}
