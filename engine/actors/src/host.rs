//! The host side of `wbx:guest/process`: what a guest process asks of the
//! engine, through its [`ProcessContext`] (its entry and the system).
//! Waiting for a reply or a spawn pauses the caller's deadline, so only
//! its own computing counts against it.

use std::sync::Arc;
use std::time::Duration;

use wbx_core::HostState;

use crate::bindings::process::{self, CallError, SendError, SpawnOptions, Spawned};
use crate::message::ActorError;
use crate::system::{SpawnRequest, System};
use crate::table::{Entry, Status};

/// What a guest process's instance knows of itself.
pub(crate) struct ProcessContext {
    pub(crate) system: Arc<System>,
    pub(crate) entry: Arc<Entry>,
}

/// The caller's context; every actor instance has one.
fn context(state: &HostState) -> (Arc<System>, Arc<Entry>) {
    let cx = state
        .extensions
        .get::<ProcessContext>()
        .expect("every actor instance is made with its process context");
    (cx.system.clone(), cx.entry.clone())
}

impl process::Host for HostState {
    fn self_pid(&mut self) -> String {
        context(self).1.pid.to_string()
    }

    async fn spawn(
        &mut self,
        module: String,
        args: String,
        options: SpawnOptions,
    ) -> Result<Spawned, String> {
        let (system, entry) = context(self);
        let request = SpawnRequest {
            module,
            args,
            parent: Some(entry.clone()),
            link: options.link,
            monitor: options.monitor,
            register: options.register,
            ..SpawnRequest::default()
        };
        let spawned = waiting(self, &entry, system.spawn(request)).await;
        spawned
            .map(|s| Spawned {
                pid: s.pid.to_string(),
                monitor: s.monitor,
            })
            .map_err(|e| e.to_string())
    }

    fn send(&mut self, target: String, message: String) -> Result<(), SendError> {
        let (system, entry) = context(self);
        system
            .send(Some(&entry), &target, message)
            .map_err(|e| match e {
                ActorError::MailboxFull { .. } => SendError::MailboxFull(e.to_string()),
                other => SendError::NoSuchProcess(other.to_string()),
            })
    }

    fn send_after(&mut self, target: String, message: String, after_ms: u64) -> u64 {
        let (system, entry) = context(self);
        system.send_after(
            Some(entry.pid),
            target,
            message,
            Duration::from_millis(after_ms),
        )
    }

    fn cancel_timer(&mut self, timer: u64) -> bool {
        context(self).0.cancel_timer(timer)
    }

    async fn call(
        &mut self,
        target: String,
        message: String,
        timeout_ms: u64,
    ) -> Result<String, CallError> {
        let (system, entry) = context(self);
        let timeout = Duration::from_millis(timeout_ms);
        let answer = waiting(
            self,
            &entry,
            system.call(Some(&entry), &target, message, timeout),
        )
        .await;
        answer.map_err(|e| match e {
            ActorError::MailboxFull { .. } => CallError::MailboxFull(e.to_string()),
            ActorError::Timeout { .. } => CallError::Timeout,
            ActorError::Exited { reason, .. } => CallError::Exited(reason),
            other => CallError::NoSuchProcess(other.to_string()),
        })
    }

    fn link(&mut self, target: String) -> Result<(), String> {
        let (system, entry) = context(self);
        let pid = system
            .table
            .resolve(&target)
            .ok_or_else(|| ActorError::NoSuchProcess(target.clone()).to_string())?
            .pid;
        system.table.link(&entry, pid).map_err(|e| e.to_string())
    }

    fn unlink(&mut self, target: String) {
        let (system, entry) = context(self);
        if let Some(other) = system.table.resolve(&target) {
            system.table.unlink(&entry, other.pid);
        }
    }

    fn monitor(&mut self, target: String) -> u64 {
        let (system, entry) = context(self);
        system.table.monitor(&entry, &target)
    }

    fn demonitor(&mut self, monitor: u64) {
        let (system, entry) = context(self);
        system.table.demonitor(&entry, monitor);
    }

    fn trap_exit(&mut self, on: bool) {
        context(self).1.lock().trap_exit = on;
    }

    fn exit(&mut self, target: String, reason: String) -> Result<(), String> {
        let (system, entry) = context(self);
        system
            .exit(Some(entry.pid), &target, &reason)
            .map_err(|e| e.to_string())
    }

    fn register(&mut self, name: String) -> Result<(), String> {
        let (system, entry) = context(self);
        system
            .table
            .register(&name, entry.pid)
            .map_err(|e| e.to_string())
    }

    fn unregister(&mut self, name: String) {
        context(self).0.table.unregister(&name);
    }

    fn whereis(&mut self, name: String) -> Option<String> {
        context(self).0.table.whereis(&name).map(|p| p.to_string())
    }
}

/// Runs `wait` with the caller's deadline paused and its status `waiting`.
async fn waiting<T>(state: &mut HostState, entry: &Entry, wait: impl Future<Output = T>) -> T {
    entry.set_status(Status::Waiting);
    state.pause_deadline();
    let result = wait.await;
    state.resume_deadline();
    entry.set_status(Status::Running);
    result
}
