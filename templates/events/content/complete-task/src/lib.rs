//! `complete-task {task_id}`: only a task on the board, and only once.

use wbx_guest::{CommandError, Decide, Exists, NewEvent, emit};
use {{project_name}}_shared::{TaskAdded, TaskCompleted, check_id};

struct CompleteTask;

impl Decide for CompleteTask {
    type Input = TaskCompleted;
    /// Whether the task was added, and whether it was completed.
    type Folds = (Exists<TaskAdded>, Exists<TaskCompleted>);

    fn folds(task: &TaskCompleted) -> Result<Self::Folds, CommandError> {
        check_id(&task.task_id)?;
        Ok((
            Exists::tagged("task_id", &task.task_id),
            Exists::tagged("task_id", &task.task_id),
        ))
    }

    fn decide(
        task: TaskCompleted,
        (added, completed): Self::Folds,
    ) -> Result<Vec<NewEvent>, CommandError> {
        if !added.0 {
            return Err(CommandError::Rejected(format!(
                "no task '{}' on the board",
                task.task_id
            )));
        }
        if completed.0 {
            return Err(CommandError::Rejected(format!(
                "task '{}' is done already",
                task.task_id
            )));
        }
        Ok(emit![task])
    }
}

wbx_guest::command!(CompleteTask);
