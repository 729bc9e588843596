//! `add-task {task_id, title}`: a task id is added once.

use wbx_guest::{CommandError, Decide, Exists, NewEvent, emit};
use {{project_name}}_shared::{TaskAdded, check_id};

struct AddTask;

impl Decide for AddTask {
    type Input = TaskAdded;
    type Folds = Exists<TaskAdded>;

    /// Validates the input and names the events the decision needs.
    fn folds(task: &TaskAdded) -> Result<Self::Folds, CommandError> {
        check_id(&task.task_id)?;
        if task.title.trim().is_empty() {
            return Err(CommandError::InvalidInput("a task needs a title".into()));
        }
        Ok(Exists::tagged("task_id", &task.task_id))
    }

    fn decide(task: TaskAdded, added: Self::Folds) -> Result<Vec<NewEvent>, CommandError> {
        if added.0 {
            return Err(CommandError::Rejected(format!(
                "task '{}' is on the board already",
                task.task_id
            )));
        }
        Ok(emit![task])
    }
}

wbx_guest::command!(AddTask);
