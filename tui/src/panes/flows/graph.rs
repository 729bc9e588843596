//! A flow's graph as the pane lays it out: a chain when it is linear
//! (`clicks ─▶ enrich ─▶ top`), and its edges grouped by producer, each
//! named the way `wbx tap` names it (`route:pages ─▶ top`).

use wbx_engine::pipelines::info::{EdgeInfo, FlowInfo, StageInfo};

/// The arrow between a producer and its consumer.
pub const ARROW: &str = " ─▶ ";

/// The stages of a linear flow, from its source to its sink: none when a
/// stage has more than one input or output, or an edge leaves by a port.
pub fn chain(flow: &FlowInfo) -> Option<Vec<&str>> {
    if flow.stages.is_empty()
        || flow.edges.len() + 1 != flow.stages.len()
        || flow.edges.iter().any(|e| e.port.is_some())
    {
        return None;
    }
    let first = flow
        .stages
        .iter()
        .find(|s| !flow.edges.iter().any(|e| e.to == s.name))?;
    let mut chain = vec![first.name.as_str()];
    // n - 1 edges, each leaving a different stage of the walk: when the
    // walk reaches every stage, it used every edge once.
    while chain.len() < flow.stages.len() {
        let last = chain[chain.len() - 1];
        let mut out = flow.edges.iter().filter(|e| e.from == last);
        let edge = out.next()?;
        if out.next().is_some() || chain.contains(&edge.to.as_str()) {
            return None;
        }
        chain.push(&edge.to);
    }
    Some(chain)
}

/// One line of the edges' list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EdgeLine<'a> {
    pub edge: &'a EdgeInfo,
    /// The first edge of its producer: the producer is named on it, and
    /// left blank on the producer's other edges.
    pub first: bool,
}

impl EdgeLine<'_> {
    /// `clicks ─▶ enrich`, `route:pages ─▶ top`; on a producer's later
    /// edges the producer is blank (`     :other ─▶ archive`).
    pub fn label(&self) -> String {
        let edge = self.edge;
        let from = if self.first {
            edge.from.clone()
        } else {
            " ".repeat(edge.from.chars().count())
        };
        match &edge.port {
            Some(port) => format!("{from}:{port}{ARROW}{}", edge.to),
            None => format!("{from}{ARROW}{}", edge.to),
        }
    }
}

/// The edges grouped by producer, producers in the order of the stages
/// (the file's), each producer's edges in the order they were declared:
/// a fan-out reads down the lines of its producer, a fan-in as the same
/// consumer on several lines.
pub fn edge_lines(flow: &FlowInfo) -> Vec<EdgeLine<'_>> {
    let place = |name: &str| {
        flow.stages
            .iter()
            .position(|s| s.name == name)
            .unwrap_or(usize::MAX)
    };
    let mut edges: Vec<&EdgeInfo> = flow.edges.iter().collect();
    edges.sort_by_key(|e| place(&e.from));
    let mut lines: Vec<EdgeLine> = Vec::with_capacity(edges.len());
    for edge in edges {
        let first = lines.last().is_none_or(|l| l.edge.from != edge.from);
        lines.push(EdgeLine { edge, first });
    }
    lines
}

/// The stages elements can be pushed into (`{ source = "push" }`).
pub fn push_nodes(flow: &FlowInfo) -> Vec<&StageInfo> {
    flow.stages
        .iter()
        .filter(|s| s.module == "push" && s.version.is_none())
        .collect()
}
