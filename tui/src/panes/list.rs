//! A selection in a list that follows its end until the person scrolls.

/// The selected line and the first line shown, in a list of `len` lines
/// seen `height` at a time. Following keeps the last line selected as lines
/// arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub selected: usize,
    pub offset: usize,
    pub follow: bool,
}

impl Default for Cursor {
    fn default() -> Self {
        Cursor {
            selected: 0,
            offset: 0,
            follow: true,
        }
    }
}

impl Cursor {
    /// Moves by `delta` lines; moving up pauses following, reaching the
    /// last line does not resume it (only [`Cursor::bottom`] does).
    pub fn step(&mut self, delta: isize, len: usize, height: usize) {
        if len == 0 {
            return;
        }
        if delta < 0 {
            self.follow = false;
        }
        self.selected = self.selected.saturating_add_signed(delta).min(len - 1);
        self.fit(len, height);
    }

    pub fn top(&mut self, len: usize, height: usize) {
        self.selected = 0;
        self.follow = false;
        self.fit(len, height);
    }

    pub fn bottom(&mut self, len: usize, height: usize) {
        self.follow = true;
        self.fit(len, height);
    }

    /// Lines were removed from the front: keep the same line selected.
    pub fn shift(&mut self, removed: usize) {
        self.selected = self.selected.saturating_sub(removed);
        self.offset = self.offset.saturating_sub(removed);
    }

    /// Keeps the selection inside the list (at its end when following) and
    /// on screen, moving the view as little as possible.
    pub fn fit(&mut self, len: usize, height: usize) {
        if self.follow || self.selected >= len {
            self.selected = len.saturating_sub(1);
        }
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        self.offset = self.offset.min(len.saturating_sub(height));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_until_scrolled_up() {
        let mut c = Cursor::default();
        c.fit(10, 5);
        assert_eq!((c.selected, c.offset), (9, 5));
        c.step(-3, 10, 5);
        assert!(!c.follow);
        assert_eq!(
            (c.selected, c.offset),
            (6, 5),
            "the view stays while the selection moves"
        );
        c.fit(20, 5);
        assert_eq!(c.selected, 6, "new lines do not move a paused selection");
        c.step(-4, 20, 5);
        assert_eq!(
            (c.selected, c.offset),
            (2, 2),
            "the view follows the selection up"
        );
        c.step(100, 20, 5);
        assert_eq!((c.selected, c.offset, c.follow), (19, 15, false));
        c.bottom(20, 5);
        c.fit(25, 5);
        assert_eq!((c.selected, c.offset, c.follow), (24, 20, true));
    }

    #[test]
    fn shift_keeps_the_same_line() {
        let mut c = Cursor {
            selected: 10,
            offset: 8,
            follow: false,
        };
        c.shift(3);
        assert_eq!((c.selected, c.offset), (7, 5));
        c.shift(100);
        assert_eq!((c.selected, c.offset), (0, 0));
    }
}
