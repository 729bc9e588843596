//! The supervision-tree view's state: the processes as their trees (a
//! supervisor's children under it in the order they started, each line
//! with its `├─` prefix), the selection, and the search that finds a node
//! by pid or name and marks every node it matches.
//!
//! The trees are built from the table's rows with the runtime's own rule
//! (`TreeNode::trees`: a process whose supervisor is not alive is a root),
//! in one pass rather than one scan of the rows per node.

use std::collections::HashMap;

use wbx_engine::actors::Pid;
use wbx_engine::actors::info::ProcessInfo;

use crate::panes::Cursor;

use super::processes::pid_number;

/// A line of the trees: the process (an index into the rows it was built
/// from) and the indentation drawn before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeLine {
    pub prefix: String,
    pub row: usize,
}

/// What the tree's `/` looks for: a pid matches that process; other text
/// is found in the pid, the registered name, the child id or the module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeSearch {
    /// As typed.
    pub text: String,
    pid: Option<u64>,
    /// Lowercase.
    lower: String,
}

impl TreeSearch {
    pub fn parse(text: &str) -> TreeSearch {
        let text = text.trim();
        TreeSearch {
            text: text.to_owned(),
            pid: text.parse::<Pid>().ok().map(|p| p.0),
            lower: text.to_lowercase(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn matches(&self, row: &ProcessInfo) -> bool {
        if self.is_empty() {
            return false;
        }
        if let Some(pid) = self.pid {
            return pid_number(&row.pid) == Some(pid);
        }
        let has = |text: &str| text.to_lowercase().contains(&self.lower);
        has(&row.pid)
            || has(&row.module)
            || row.name.as_deref().is_some_and(has)
            || row.child_id.as_deref().is_some_and(has)
    }
}

#[derive(Debug, Clone)]
pub struct TreeView {
    pub lines: Vec<TreeLine>,
    pub cursor: Cursor,
    selected_pid: Option<String>,
    pub search: TreeSearch,
    /// The lines the search matches.
    pub found: Vec<usize>,
    pub page: usize,
}

impl TreeView {
    /// The trees of `rows`, the first line selected.
    pub fn new(rows: &[ProcessInfo], page: usize) -> TreeView {
        let mut view = TreeView {
            lines: Vec::new(),
            cursor: Cursor {
                follow: false,
                ..Cursor::default()
            },
            selected_pid: None,
            search: TreeSearch::default(),
            found: Vec::new(),
            page: page.max(1),
        };
        view.rebuild(rows);
        view
    }

    /// The rows changed: the trees again, the selection on its process
    /// (or at the same place when that one is gone), the search's marks
    /// on the nodes that match now.
    pub fn rebuild(&mut self, rows: &[ProcessInfo]) {
        self.lines = build(rows);
        if let Some(pid) = &self.selected_pid
            && let Some(n) = self.lines.iter().position(|l| &rows[l.row].pid == pid)
        {
            self.cursor.selected = n;
        }
        self.mark(rows);
        self.fit(rows);
    }

    fn mark(&mut self, rows: &[ProcessInfo]) {
        self.found = (0..self.lines.len())
            .filter(|&n| self.search.matches(&rows[self.lines[n].row]))
            .collect();
    }

    fn fit(&mut self, rows: &[ProcessInfo]) {
        self.cursor.fit(self.lines.len(), self.page);
        self.selected_pid = self.selected(rows).map(|r| r.pid.clone());
    }

    /// Looks for `search`: the selection moves to the first node it
    /// matches, or, searched again, to the next one (round to the top).
    /// False when no node matches.
    pub fn find(&mut self, search: TreeSearch, rows: &[ProcessInfo]) -> bool {
        let again = search == self.search;
        self.search = search;
        self.mark(rows);
        let next = if again {
            self.found
                .iter()
                .find(|&&n| n > self.cursor.selected)
                .or(self.found.first())
        } else {
            self.found.first()
        };
        let Some(&next) = next else {
            return false;
        };
        self.cursor.selected = next;
        self.fit(rows);
        true
    }

    pub fn clear_search(&mut self) {
        self.search = TreeSearch::default();
        self.found.clear();
    }

    pub fn resize(&mut self, page: usize, rows: &[ProcessInfo]) {
        self.page = page.max(1);
        self.fit(rows);
    }

    pub fn step(&mut self, delta: isize, rows: &[ProcessInfo]) {
        self.cursor.step(delta, self.lines.len(), self.page);
        self.fit(rows);
    }

    pub fn top(&mut self, rows: &[ProcessInfo]) {
        self.cursor.top(self.lines.len(), self.page);
        self.fit(rows);
    }

    pub fn bottom(&mut self, rows: &[ProcessInfo]) {
        self.cursor.selected = self.lines.len().saturating_sub(1);
        self.fit(rows);
    }

    pub fn selected<'a>(&self, rows: &'a [ProcessInfo]) -> Option<&'a ProcessInfo> {
        let line = self.lines.get(self.cursor.selected)?;
        rows.get(line.row)
    }

    /// The lines on screen, with their number.
    pub fn visible(&self) -> impl Iterator<Item = (usize, &TreeLine)> {
        self.lines
            .iter()
            .enumerate()
            .skip(self.cursor.offset)
            .take(self.page)
    }
}

/// The trees of `rows`, root by root, each node followed by its children
/// in their supervisor's start order.
pub fn build(rows: &[ProcessInfo]) -> Vec<TreeLine> {
    let index: HashMap<&str, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.pid.as_str(), i))
        .collect();
    let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        match row.supervisor.as_deref().and_then(|s| index.get(s)) {
            Some(&parent) if parent != i => children.entry(parent).or_default().push(i),
            _ => roots.push(i),
        }
    }
    for siblings in children.values_mut() {
        siblings.sort_by_key(|&i| rows[i].child_position);
    }
    let mut tree = Walk {
        children: &children,
        lines: Vec::with_capacity(rows.len()),
        seen: vec![false; rows.len()],
    };
    for root in roots {
        tree.walk(root, String::new(), "");
    }
    // Supervisors that name each other (never from the runtime) would
    // hang from no root: they are shown as roots rather than lost.
    for i in 0..rows.len() {
        if !tree.seen[i] {
            tree.walk(i, String::new(), "");
        }
    }
    tree.lines
}

struct Walk<'a> {
    children: &'a HashMap<usize, Vec<usize>>,
    lines: Vec<TreeLine>,
    seen: Vec<bool>,
}

impl Walk<'_> {
    /// `node` on a line starting with `prefix`, its children under it
    /// indented by `rest`.
    fn walk(&mut self, node: usize, prefix: String, rest: &str) {
        if std::mem::replace(&mut self.seen[node], true) {
            return;
        }
        self.lines.push(TreeLine { prefix, row: node });
        let Some(children) = self.children.get(&node) else {
            return;
        };
        for (n, &child) in children.iter().enumerate() {
            let last = n + 1 == children.len();
            let (branch, under) = if last {
                ("└─ ", "   ")
            } else {
                ("├─ ", "│  ")
            };
            self.walk(child, format!("{rest}{branch}"), &format!("{rest}{under}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::processes::tests::row;
    use super::*;

    fn child(pid: u64, name: Option<&str>, supervisor: u64, id: &str) -> ProcessInfo {
        ProcessInfo {
            supervisor: Some(format!("<0.{supervisor}>")),
            child_id: Some(id.to_owned()),
            child_position: None,
            ..row(pid, name, "counter")
        }
    }

    /// root <0.1> over counter <0.2> and pool <0.3>, which holds two
    /// workers; and <0.9>, spawned from outside.
    fn rows() -> Vec<ProcessInfo> {
        vec![
            ProcessInfo {
                strategy: Some("one-for-one"),
                ..row(1, Some("root"), "wbx:supervisor")
            },
            child(2, Some("counter"), 1, "counter"),
            ProcessInfo {
                strategy: Some("rest-for-one"),
                module: "wbx:supervisor".to_owned(),
                ..child(3, None, 1, "pool")
            },
            child(4, None, 3, "worker-1"),
            child(5, None, 3, "worker-2"),
            row(9, Some("adhoc"), "bank"),
        ]
    }

    fn drawn(rows: &[ProcessInfo], lines: &[TreeLine]) -> Vec<String> {
        lines
            .iter()
            .map(|l| format!("{}{}", l.prefix, rows[l.row].pid))
            .collect()
    }

    #[test]
    fn children_hang_under_their_supervisor_in_start_order() {
        let rows = rows();
        assert_eq!(
            drawn(&rows, &build(&rows)),
            [
                "<0.1>",
                "├─ <0.2>",
                "└─ <0.3>",
                "   ├─ <0.4>",
                "   └─ <0.5>",
                "<0.9>",
            ]
        );
        // A supervisor gone (between snapshots): its children are roots.
        let orphans: Vec<ProcessInfo> = rows.into_iter().filter(|r| r.pid != "<0.3>").collect();
        assert_eq!(
            drawn(&orphans, &build(&orphans)),
            ["<0.1>", "└─ <0.2>", "<0.4>", "<0.5>", "<0.9>"]
        );
    }

    #[test]
    fn search_finds_by_pid_or_name_and_again_moves_to_the_next() {
        let rows = rows();
        let mut tree = TreeView::new(&rows, 10);
        assert!(tree.find(TreeSearch::parse("<0.4>"), &rows));
        assert_eq!(tree.found, [3]);
        assert_eq!(tree.selected(&rows).unwrap().pid, "<0.4>");
        assert!(
            tree.find(TreeSearch::parse("0.5"), &rows),
            "a pid without <>"
        );
        assert_eq!(tree.selected(&rows).unwrap().pid, "<0.5>");
        assert!(tree.find(TreeSearch::parse("COUNTER"), &rows));
        assert_eq!(tree.selected(&rows).unwrap().pid, "<0.2>");
        // Both workers of the pool (by their child ids), one after the other.
        assert!(tree.find(TreeSearch::parse("worker"), &rows));
        assert_eq!(tree.found, [3, 4]);
        assert_eq!(tree.selected(&rows).unwrap().pid, "<0.4>");
        assert!(tree.find(TreeSearch::parse("worker"), &rows));
        assert_eq!(tree.selected(&rows).unwrap().pid, "<0.5>");
        assert!(tree.find(TreeSearch::parse("worker"), &rows));
        assert_eq!(
            tree.selected(&rows).unwrap().pid,
            "<0.4>",
            "round to the top"
        );
        assert!(!tree.find(TreeSearch::parse("nobody"), &rows));
        assert_eq!(
            tree.selected(&rows).unwrap().pid,
            "<0.4>",
            "nothing found: the selection stays"
        );
    }

    #[test]
    fn the_selection_and_the_marks_follow_a_rebuild() {
        let rows = rows();
        let mut tree = TreeView::new(&rows, 10);
        tree.find(TreeSearch::parse("adhoc"), &rows);
        let fewer: Vec<ProcessInfo> = rows.into_iter().filter(|r| r.pid != "<0.4>").collect();
        tree.rebuild(&fewer);
        assert_eq!(tree.selected(&fewer).unwrap().pid, "<0.9>");
        assert_eq!(tree.found, [4]);
    }
}
