//! The toy model's pane (its engine side is `engine/tests/toy`), made the
//! way a model's pane folder is, and registered the way `tui/src/models.rs`
//! registers the real ones: its `UiSpec` beside theirs, its part beside
//! theirs in the app.

use std::any::Any;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};
use wbx_engine::Observation;
use wbx_toy::ToyObservation;
use wbx_tui::action::Request;
use wbx_tui::app::{App, PaneId};
use wbx_tui::keys::Command;
use wbx_tui::model::{
    ActionSpec, ModelRequest, ModelResult, ModelUi, Nav, PaneSpec, Scope, UiSpec,
};

pub const TOY: PaneId = PaneId("toy");

pub const SPEC: UiSpec = UiSpec {
    model: "toy",
    panes: &[PaneSpec {
        id: TOY,
        title: "Toy",
        order: 50,
        action: "toy",
    }],
    // `m` here, while the Logs pane's `m` cycles its module.
    actions: &[ActionSpec {
        name: "ping",
        describe: "toy: ping the toy module",
        keys: &["m"],
        scope: Scope::Pane(TOY),
    }],
    commands: &[("ping TEXT", "ping the toy module with TEXT")],
    filters: &[],
};

/// What the toy pane asks of its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ping(pub String);

/// A ping's answer, as its session sends it back.
pub struct Answer(pub String);

/// The toy pane: the answers so far.
#[derive(Debug, Default)]
pub struct ToyUi {
    pub answers: Vec<String>,
}

fn ping(text: &str) -> Vec<Request> {
    vec![Request::Model(ModelRequest::new(
        "toy",
        Ping(text.to_owned()),
    ))]
}

impl ModelUi for ToyUi {
    fn spec(&self) -> &'static UiSpec {
        &SPEC
    }

    fn observe(&mut self, observation: &Observation, _app: &mut App) -> bool {
        match observation.model::<ToyObservation>() {
            Some(ToyObservation::Pinged { module, answer }) => {
                self.answers.push(format!("{module} said {answer}"));
                true
            }
            None => false,
        }
    }

    fn act(&mut self, action: &'static str, _app: &mut App) -> Vec<Request> {
        match action {
            "ping" => ping("from a key"),
            _ => Vec::new(),
        }
    }

    fn nav(&mut self, _pane: PaneId, nav: Nav, _app: &mut App) -> Vec<Request> {
        if nav == Nav::Back {
            self.answers.clear();
        }
        Vec::new()
    }

    fn command(&mut self, word: &str, rest: &str, _app: &mut App) -> Option<Vec<Request>> {
        (word == "ping").then(|| ping(rest))
    }

    fn result(&mut self, result: &ModelResult, _app: &mut App) -> bool {
        match result.get::<Answer>() {
            Some(Answer(answer)) => {
                self.answers.push(answer.clone());
                true
            }
            None => false,
        }
    }

    fn draw(&self, _pane: PaneId, frame: &mut Frame, area: Rect, _app: &App) {
        let lines: Vec<Line> = self.answers.iter().map(|a| Line::raw(a.clone())).collect();
        frame.render_widget(
            Paragraph::new(lines).block(Block::bordered().title(" Toy ")),
            area,
        );
    }

    fn badge(&self, _pane: PaneId) -> Option<String> {
        Some(self.answers.len().to_string())
    }

    fn hints(&self, _pane: PaneId) -> Vec<(Command, &'static str)> {
        vec![(Command::Model("ping"), "ping"), (Command::Back, "clear")]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
