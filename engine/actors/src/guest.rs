//! [`GuestBody`]: a process whose body is an instance of an actor module.
//! It keeps one instance for the process's life, calls its `handle` once
//! per message through the core's one call path, and at each message
//! boundary moves to the module's new version when there is one: the old
//! instance's `save-state` goes to the new one's `restore-state`, or, when
//! that cannot be done, the new one starts through `init` (and the swap
//! says so).

use std::sync::Arc;

use wbx_core::{BoxFuture, Extensions, Guest, GuestError, InstanceSetup, ModuleVersion};

use crate::bindings::{ActorInstance, ActorPre, Kind as WitKind, Message};
use crate::host::ProcessContext;
use crate::message::{ActorError, Kind, Letter, reason};
use crate::observe::ActorObservation;
use crate::process::Body;
use crate::system::System;
use crate::table::{Entry, Status};

pub(crate) struct GuestBody {
    system: Arc<System>,
    guest: Guest<ActorInstance>,
    version: ModuleVersion,
    /// A version that failed to start here: not tried again.
    declined: Option<ModuleVersion>,
    /// Why the instance cannot be called any more (a call outside
    /// `handle` failed): the process ends with it at its next message.
    spent: Option<String>,
    /// `init`'s arguments, for a start again at a swap.
    args: String,
}

impl GuestBody {
    /// A new instance of `entry`'s module, initialised with `args`.
    pub(crate) async fn start(
        system: Arc<System>,
        entry: Arc<Entry>,
        args: &str,
    ) -> Result<Self, ActorError> {
        let guest = instantiate(&system, &entry).await.map_err(|e| {
            ActorError::Spawn(format!(
                "cannot start a process of '{}': {e:#}",
                entry.module
            ))
        })?;
        let mut body = GuestBody {
            version: guest.module().version.clone(),
            declined: None,
            spent: None,
            system,
            guest,
            args: args.to_owned(),
        };
        body.init().await.map_err(|why| {
            ActorError::Spawn(format!(
                "'{}' did not start: init failed: {why}",
                entry.module
            ))
        })?;
        body.show(&entry);
        Ok(body)
    }

    async fn init(&mut self) -> Result<(), String> {
        let args = self.args.clone();
        let result = self
            .guest
            .call(|b, store| b.actor.wbx_guest_actor().call_init(store, &args))
            .await;
        flatten(result)
    }

    /// Puts the version and the memory of the instance in the table.
    fn show(&self, entry: &Entry) {
        let mut shared = entry.lock();
        shared.version = Some(self.version.to_string());
        shared.memory = Some(self.guest.memory());
    }

    /// Moves to the module's new version, keeping the state when both
    /// sides can; otherwise starts the new version through `init`.
    async fn swap(&mut self, entry: &Arc<Entry>) -> Result<(), String> {
        entry.set_status(Status::Swapping);
        let mut next = match instantiate(&self.system, entry).await {
            Ok(next) => next,
            Err(e) => {
                // The new version cannot even start: stay on this one.
                self.declined = self.system.engine.version_of(&entry.module);
                stays_on(&self.system, entry, &self.version, &format!("{e:#}"));
                return Ok(());
            }
        };
        let to = next.module().version.clone();
        let saved = match self.guest.bindings().save.is_some() {
            true => self
                .guest
                .call(|b, store| async move {
                    let save = b.save.as_ref().expect("looked up above");
                    let (saved,) = save.call_async(&mut *store, ()).await?;
                    Ok(saved)
                })
                .await
                .map_err(|e| format!("save-state failed: {e}"))
                .and_then(|saved| saved.map_err(|e| format!("save-state failed: {e}"))),
            false => Err("the old version has no save-state".to_owned()),
        };
        let restored = match saved {
            Ok(state) if next.bindings().restore.is_some() => {
                let restored = next
                    .call(|b, store| async move {
                        let restore = b.restore.as_ref().expect("looked up above");
                        let (restored,) = restore.call_async(&mut *store, (state,)).await?;
                        Ok(restored)
                    })
                    .await;
                match restored {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(format!("restore-state failed: {e}")),
                    Err(e) => {
                        // The instance is spent: `init` runs on a fresh one.
                        next = instantiate(&self.system, entry)
                            .await
                            .map_err(|e| format!("the new version did not start: {e:#}"))?;
                        Err(format!("restore-state failed: {e}"))
                    }
                }
            }
            Ok(_) => Err("the new version has no restore-state".to_owned()),
            Err(why) => Err(why),
        };
        let from = std::mem::replace(&mut self.version, to.clone());
        std::mem::swap(&mut self.guest, &mut next);
        let note = match restored {
            Ok(()) => None,
            Err(why) => {
                self.init()
                    .await
                    .map_err(|e| format!("init of the new version failed: {e}"))?;
                entry.lock().restarts += 1;
                Some(why)
            }
        };
        self.show(entry);
        ActorObservation::Swapped {
            pid: entry.pid.to_string(),
            module: entry.module.clone(),
            from: Some(from.to_string()),
            to: to.to_string(),
            carried: note.is_none(),
            note,
        }
        .publish(&self.system.engine);
        Ok(())
    }
}

/// Says that a process stays on its version because the new one failed
/// to start.
fn stays_on(system: &System, entry: &Entry, version: &ModuleVersion, why: &str) {
    ActorObservation::Swapped {
        pid: entry.pid.to_string(),
        module: entry.module.clone(),
        from: Some(version.to_string()),
        to: version.to_string(),
        carried: false,
        note: Some(format!("the new version did not start: {why}")),
    }
    .publish(&system.engine);
}

impl Body for GuestBody {
    fn handle<'a>(
        &'a mut self,
        _entry: &'a Arc<Entry>,
        letter: &'a Letter,
    ) -> BoxFuture<'a, Result<Option<String>, String>> {
        Box::pin(async move {
            if let Some(why) = &self.spent {
                return Err(why.clone());
            }
            let message = Message {
                kind: match &letter.kind {
                    Kind::Cast => WitKind::Cast,
                    Kind::Call => WitKind::Call,
                    Kind::Exit { reason } => WitKind::Exit(reason.clone()),
                    Kind::Down { monitor, reason } => WitKind::Down((*monitor, reason.clone())),
                },
                from: letter.from.map(|p| p.to_string()),
                body: letter.body.clone(),
            };
            let result = self
                .guest
                .call(|b, store| b.actor.wbx_guest_actor().call_handle(store, &message))
                .await;
            flatten(result)
        })
    }

    fn boundary<'a>(&'a mut self, entry: &'a Arc<Entry>) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            match self.system.engine.version_of(&entry.module) {
                Some(active)
                    if active != self.version && Some(&active) != self.declined.as_ref() =>
                {
                    self.swap(entry).await
                }
                _ => Ok(()),
            }
        })
    }

    fn inspect(&mut self) -> BoxFuture<'_, Option<String>> {
        Box::pin(async move {
            self.guest.bindings().inspect.as_ref()?;
            let state = self
                .guest
                .call(|b, store| async move {
                    let inspect = b.inspect.as_ref().expect("looked up above");
                    let (state,) = inspect.call_async(&mut *store, ()).await?;
                    Ok(state)
                })
                .await;
            match state {
                Ok(state) => Some(state),
                // The instance is spent: the process ends at its next message.
                Err(e) => {
                    self.spent = Some(format!("inspect failed: {}", exit_reason(&e)));
                    None
                }
            }
        })
    }
}

/// A guest call's result as the process sees it: the guest's own error,
/// or what the engine made of a trap, a panic, a timeout or a memory bomb.
fn flatten<T>(result: Result<Result<T, String>, GuestError>) -> Result<T, String> {
    match result {
        Ok(inner) => inner,
        Err(e) => Err(exit_reason(&e)),
    }
}

/// The exit reason of a failed call: `timeout`, or the failure in words.
fn exit_reason(error: &GuestError) -> String {
    if error.is_timeout() {
        reason::TIMEOUT.to_owned()
    } else {
        error.failure.to_string()
    }
}

/// An instance of `entry`'s module's active version, with the process's
/// context and what the project grants it.
async fn instantiate(
    system: &Arc<System>,
    entry: &Arc<Entry>,
) -> anyhow::Result<Guest<ActorInstance>> {
    let settings = system.settings().module(&entry.module);
    let mut extensions = Extensions::default().with(ProcessContext {
        system: system.clone(),
        entry: entry.clone(),
    });
    system.capabilities.grant(&mut extensions, None);
    system
        .engine
        .instantiate::<ActorPre>(
            &entry.module,
            InstanceSetup {
                outside_hosts: settings.outside,
                extensions,
                call_timeout: settings.timeout,
                ..InstanceSetup::default()
            },
        )
        .await
}
