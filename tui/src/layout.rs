//! Where things go on screen, shared by the view (to draw) and the update
//! (to know how many rows a page holds).

use ratatui::layout::{Constraint, Layout, Rect};

/// Below this the app says so instead of drawing a garbled screen.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;

pub struct Areas {
    /// Two lines: project, engine and build; the last reload.
    pub status: Rect,
    /// The pane selector.
    pub tabs: Rect,
    pub main: Rect,
    /// Key hints, a prompt, or a notice.
    pub hints: Rect,
}

pub fn areas(area: Rect) -> Areas {
    let [status, tabs, main, hints] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    Areas {
        status,
        tabs,
        main,
        hints,
    }
}

/// Rows of a list in the main area: less its border and its header line.
pub fn page(size: (u16, u16)) -> usize {
    let main = areas(Rect::new(0, 0, size.0, size.1)).main;
    usize::from(main.height.saturating_sub(3)).max(1)
}

pub fn too_small(area: Rect) -> bool {
    area.width < MIN_WIDTH || area.height < MIN_HEIGHT
}

/// A box of at most `width` × `height` in the middle of `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    )
}
