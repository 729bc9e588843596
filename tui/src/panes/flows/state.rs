//! The Flows pane's state: the runtime's flows as last read, the `/`
//! filter over their names, which flow (and in it which stage) is
//! selected, the stage opened, and the latest failures, restarts, dead
//! letters and swaps the runtime told of. Drawing is in `view_*.rs`.

use std::collections::VecDeque;

use wbx_engine::pipelines::FlowObservation;
use wbx_engine::pipelines::info::{FlowInfo, FlowStatus, StageDetail, StageInfo};

use crate::panes::Cursor;

/// Happenings kept; the view shows the latest [`NEWS_SHOWN`].
pub const NEWS_KEPT: usize = 50;
/// Lines under the flow for the latest happenings.
pub const NEWS_SHOWN: usize = 2;

/// What `/` asked for: every word must be found in the flow's name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowFilter {
    /// As typed, to show and to edit again.
    pub text: String,
    /// Lowercase.
    words: Vec<String>,
}

impl FlowFilter {
    pub fn parse(text: &str) -> FlowFilter {
        FlowFilter {
            text: text.trim().to_owned(),
            words: text.split_whitespace().map(str::to_lowercase).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    pub fn admits(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        self.words.iter().all(|w| name.contains(w.as_str()))
    }
}

/// Where the moving keys move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Focus {
    /// In the list of flows.
    #[default]
    Flows,
    /// Among the stages of the selected flow (`Enter` opens one).
    Stages,
}

/// The stage opened with `Enter`.
#[derive(Debug, Clone)]
pub struct Opened {
    pub flow: String,
    pub stage: String,
    /// What the runtime said of it last; none until it answers.
    pub detail: Option<StageDetail>,
    /// Why the last look found nothing.
    pub error: Option<String>,
    pub scroll: u16,
}

/// How a happening reads: news, a warning, a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Warn,
    Error,
}

/// Something the runtime told of, for the lines under the flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct News {
    /// Milliseconds since the Unix epoch, when the pane was told.
    pub at_ms: u64,
    pub tone: Tone,
    pub text: String,
}

#[derive(Debug, Default)]
pub struct FlowsPane {
    /// As the runtime last said, by name.
    pub flows: Vec<FlowInfo>,
    pub filter: FlowFilter,
    /// Indexes into `flows` of those the filter lets through.
    pub shown: Vec<usize>,
    /// Over `shown`.
    pub cursor: Cursor,
    pub focus: Focus,
    /// The stage selected in the selected flow, by its place.
    pub stage: usize,
    pub opened: Option<Opened>,
    /// The latest first.
    pub news: VecDeque<News>,
    /// Rows the main area holds.
    page: usize,
}

impl FlowsPane {
    /// A pane over `flows`, as the runtime says them now.
    pub fn new(flows: Vec<FlowInfo>) -> FlowsPane {
        let mut pane = FlowsPane {
            cursor: Cursor {
                follow: false,
                ..Cursor::default()
            },
            ..FlowsPane::default()
        };
        pane.snapshot(flows);
        pane
    }

    /// The runtime's flows now; false when nothing shown changed. The
    /// selection stays on its flow.
    pub fn snapshot(&mut self, flows: Vec<FlowInfo>) -> bool {
        if flows == self.flows {
            return false;
        }
        let selected = self.selected().map(|f| f.name.clone());
        self.flows = flows;
        self.refilter(selected.as_deref());
        true
    }

    pub fn set_filter(&mut self, filter: FlowFilter) {
        let selected = self.selected().map(|f| f.name.clone());
        self.filter = filter;
        self.focus = Focus::Flows;
        self.opened = None;
        self.refilter(selected.as_deref());
    }

    fn refilter(&mut self, selected: Option<&str>) {
        self.shown = (0..self.flows.len())
            .filter(|&i| self.filter.admits(&self.flows[i].name))
            .collect();
        if let Some(at) =
            selected.and_then(|name| self.shown.iter().position(|&i| self.flows[i].name == name))
        {
            self.cursor.selected = at;
        }
        self.fit();
    }

    fn fit(&mut self) {
        let rows = self.list_rows();
        self.cursor.fit(self.shown.len(), rows);
        let stages = self.selected().map_or(0, |f| f.stages.len());
        self.stage = self.stage.min(stages.saturating_sub(1));
        if stages == 0 {
            self.focus = Focus::Flows;
        }
    }

    /// The main area holds `page` rows (less a border and a header).
    pub fn resize(&mut self, page: usize) {
        self.page = page;
        self.fit();
    }

    /// Rows of the list of flows: each flow, up to a third of the area.
    pub fn list_rows(&self) -> usize {
        self.shown.len().clamp(1, (self.page / 3).max(3))
    }

    /// The flows in the list's window, with their place in `shown`.
    pub fn visible(&self) -> impl Iterator<Item = (usize, &FlowInfo)> {
        self.shown
            .iter()
            .enumerate()
            .skip(self.cursor.offset)
            .take(self.list_rows())
            .map(|(n, &i)| (n, &self.flows[i]))
    }

    /// The flow the keys act on.
    pub fn selected(&self) -> Option<&FlowInfo> {
        self.shown
            .get(self.cursor.selected)
            .map(|&i| &self.flows[i])
    }

    /// The stage selected, while the keys move among the stages.
    pub fn selected_stage(&self) -> Option<&StageInfo> {
        match self.focus {
            Focus::Stages => self.selected()?.stages.get(self.stage),
            Focus::Flows => None,
        }
    }

    pub fn step(&mut self, delta: isize) {
        match self.focus {
            Focus::Flows => {
                let before = self.cursor.selected;
                self.cursor.step(delta, self.shown.len(), self.list_rows());
                if self.cursor.selected != before {
                    self.stage = 0;
                }
            }
            Focus::Stages => {
                let stages = self.selected().map_or(0, |f| f.stages.len());
                self.stage = self
                    .stage
                    .saturating_add_signed(delta)
                    .min(stages.saturating_sub(1));
            }
        }
    }

    /// The first (`last` false) or the last row where the keys move.
    pub fn end(&mut self, last: bool) {
        match (self.focus, last) {
            (Focus::Flows, false) => self.cursor.top(self.shown.len(), self.list_rows()),
            (Focus::Flows, true) => self.cursor.step(
                self.shown.len() as isize,
                self.shown.len(),
                self.list_rows(),
            ),
            (Focus::Stages, false) => self.stage = 0,
            (Focus::Stages, true) => {
                self.stage = self
                    .selected()
                    .map_or(0, |f| f.stages.len().saturating_sub(1))
            }
        }
    }

    /// `Enter`: into the selected flow's stages, or the selected stage
    /// opened; then the flow and stage to ask the runtime about.
    pub fn enter(&mut self) -> Option<(String, String)> {
        match self.focus {
            Focus::Flows => {
                if self.selected().is_some_and(|f| !f.stages.is_empty()) {
                    self.focus = Focus::Stages;
                }
                None
            }
            Focus::Stages => {
                let flow = self.selected()?.name.clone();
                let stage = self.selected_stage()?.name.clone();
                self.opened = Some(Opened {
                    flow: flow.clone(),
                    stage: stage.clone(),
                    detail: None,
                    error: None,
                    scroll: 0,
                });
                Some((flow, stage))
            }
        }
    }

    /// `Esc`: the stage closed, out of the stages, or the filter cleared.
    pub fn back(&mut self) {
        if self.opened.take().is_some() {
            return;
        }
        match self.focus {
            Focus::Stages => self.focus = Focus::Flows,
            Focus::Flows if !self.filter.is_empty() => self.set_filter(FlowFilter::default()),
            Focus::Flows => {}
        }
    }

    /// What the runtime said of the stage `flow`/`stage`; false when it is
    /// no longer open.
    pub fn inspected(&mut self, flow: &str, stage: &str, detail: Option<&StageDetail>) -> bool {
        let Some(opened) = self
            .opened
            .as_mut()
            .filter(|o| o.flow == flow && o.stage == stage)
        else {
            return false;
        };
        match detail {
            Some(detail) => {
                opened.detail = Some(detail.clone());
                opened.error = None;
            }
            None => {
                opened.error = Some(format!(
                    "the runtime has no stage '{stage}' in flow '{flow}' any more"
                ));
            }
        }
        true
    }

    /// An observation of the pipelines model, told at `at_ms`; true when
    /// it changed what is shown. A status and a held edge change the flow
    /// at once; failures, restarts, dead letters and swaps are news.
    pub fn observe(&mut self, event: &FlowObservation, at_ms: u64) -> bool {
        let (tone, text) = match event {
            FlowObservation::Status {
                flow,
                status,
                reason,
            } => {
                if let Some(info) = self.flows.iter_mut().find(|f| &f.name == flow) {
                    info.status = *status;
                    info.reason.clone_from(reason);
                }
                let (tone, what) = match status {
                    FlowStatus::Failed => (Tone::Error, "failed"),
                    FlowStatus::Finished => (Tone::Info, "finished"),
                    FlowStatus::Stopped => (Tone::Info, "stopped"),
                    // The list shows the rest; news is how a run ends.
                    _ => return true,
                };
                let text = match reason {
                    Some(reason) => format!("flow {flow} {what}: {reason}"),
                    None => format!("flow {flow} {what}"),
                };
                (tone, text)
            }
            FlowObservation::Backpressure {
                flow,
                from,
                port,
                to,
                held,
            } => {
                let edge = self
                    .flows
                    .iter_mut()
                    .filter(|f| &f.name == flow)
                    .flat_map(|f| f.edges.iter_mut())
                    .find(|e| &e.from == from && &e.to == to && &e.port == port);
                return match edge {
                    Some(edge) => {
                        edge.held = *held;
                        true
                    }
                    None => false,
                };
            }
            FlowObservation::StageRestarted {
                flow,
                stage,
                sequence,
                error,
            } => {
                let on = sequence.map_or(String::new(), |s| format!(" on #{s}"));
                (
                    Tone::Warn,
                    format!("{flow}/{stage} restarted after failing{on}: {error}"),
                )
            }
            FlowObservation::DeadLettered {
                flow,
                stage,
                sequence,
                error,
            } => (
                Tone::Error,
                format!("{flow}/{stage} set #{sequence} aside as a dead letter: {error}"),
            ),
            FlowObservation::StageSwapped {
                flow,
                stage,
                version,
                carried,
                note,
            } => {
                let how = match (carried, note) {
                    (_, Some(note)) => note.clone(),
                    (true, None) => "its state carried".to_owned(),
                    (false, None) => "started again through init".to_owned(),
                };
                let tone = if note.is_some() {
                    Tone::Warn
                } else {
                    Tone::Info
                };
                (tone, format!("{flow}/{stage} runs {version}: {how}"))
            }
        };
        if self.news.len() == NEWS_KEPT {
            self.news.pop_back();
        }
        self.news.push_front(News { at_ms, tone, text });
        true
    }
}
