//! The Replay pane: one projector stepped through the log an event at a
//! time, in a scratch read model, with what each event changed.

use wbx_engine::replay::Step;

#[derive(Debug, Clone, Default)]
pub struct ReplayPane {
    /// The projector being stepped, once one was chosen.
    pub projector: Option<String>,
    /// Where the replay is.
    pub step: Option<Step>,
    /// Why the last step failed (a trap names the event).
    pub error: Option<String>,
    /// A step was asked for and has not come back.
    pub busy: bool,
    pub scroll: u16,
}

impl ReplayPane {
    pub fn stepped(&mut self, result: Result<Step, String>) {
        self.busy = false;
        self.scroll = 0;
        match result {
            Ok(step) => {
                self.error = None;
                self.step = Some(step);
            }
            Err(error) => self.error = Some(error),
        }
    }
}
