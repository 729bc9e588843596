//! [`GuestInstance`]: one instance of a module's version, and typed calls into
//! it that turn every failure into an error naming the module and the cause.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, anyhow};
use wasmtime::{Store, Trap};

use crate::bindings::command::exports::wbx::guest::command::Error as CommandError;
use crate::bindings::{Event, NewEvent, QueryItem, command, effect, projector};
use crate::host_commands::CommandContext;
use crate::host_state::{HostState, InstanceOptions};
use crate::limits::Limits;
use crate::logs::Logs;
use crate::observe::{Observation, Observer};
use crate::registry::{KindPre, LoadedModule};

enum Exports {
    Command(command::CommandModule),
    Projector(projector::ProjectorModule),
    Effect(effect::EffectModule),
}

/// An instance of one module version. It keeps that version alive, so a swap
/// while it runs does not affect it. After a failed call it is spent: make a
/// new one.
pub struct GuestInstance {
    module: Arc<LoadedModule>,
    /// The call timeout, also applied around each call: a guest blocked in a
    /// host call (waiting on a pollable) is not reached by epoch interruption.
    limit: Duration,
    store: Store<HostState>,
    exports: Exports,
    observer: Observer,
}

impl GuestInstance {
    pub(crate) async fn new(
        module: Arc<LoadedModule>,
        engine: &wasmtime::Engine,
        limits: Limits,
        logs: &Arc<Logs>,
        observer: &Observer,
        options: InstanceOptions,
    ) -> Result<Self> {
        let mut store =
            HostState::new_store(engine, module.name.clone(), limits, logs.clone(), options);
        let exports = match &module.pre {
            KindPre::Command(pre) => pre
                .instantiate_async(&mut store)
                .await
                .map(Exports::Command),
            KindPre::Projector(pre) => pre
                .instantiate_async(&mut store)
                .await
                .map(Exports::Projector),
            KindPre::Effect(pre) => pre.instantiate_async(&mut store).await.map(Exports::Effect),
        };
        let exports = exports.map_err(|e| explain(&module, &store, observer, e))?;
        Ok(GuestInstance {
            limit: limits.call_timeout,
            module,
            store,
            exports,
            observer: observer.clone(),
        })
    }

    /// The module version this instance runs.
    pub fn module(&self) -> &LoadedModule {
        &self.module
    }

    /// The instance's own database, when its kind has one.
    pub fn database(&mut self) -> Option<&mut rusqlite::Connection> {
        self.store.data_mut().database.as_mut()
    }

    /// The command context of an effect instance, to set the ids the next
    /// executed command inherits.
    pub fn command_context(&mut self) -> Option<&mut CommandContext> {
        self.store.data_mut().commands.as_mut()
    }

    fn finish<R>(&self, result: wasmtime::Result<R>) -> Result<R> {
        result.map_err(|e| explain(&self.module, &self.store, &self.observer, e))
    }

    fn wrong_kind(&self, wanted: &str) -> anyhow::Error {
        anyhow!(
            "module '{}' is a {}, not a {wanted}",
            self.module.name,
            self.module.kind
        )
    }

    /// `command.prepare`: the query a command needs for `input`.
    pub async fn command_prepare(
        &mut self,
        input: &str,
    ) -> Result<Result<Vec<QueryItem>, CommandError>> {
        let Exports::Command(bindings) = &self.exports else {
            return Err(self.wrong_kind("command"));
        };
        self.store.data_mut().arm_deadline();
        let result = timed(
            self.limit,
            bindings
                .wbx_guest_command()
                .call_prepare(&mut self.store, input),
        )
        .await;
        self.finish(result)
    }

    /// `command.fold`: one batch of the events read for the query.
    pub async fn command_fold(&mut self, events: &[Event]) -> Result<()> {
        let Exports::Command(bindings) = &self.exports else {
            return Err(self.wrong_kind("command"));
        };
        self.store.data_mut().arm_deadline();
        let result = timed(
            self.limit,
            bindings
                .wbx_guest_command()
                .call_fold(&mut self.store, events),
        )
        .await;
        self.finish(result)
    }

    /// `command.decide`: the events to append, or the guest's error.
    pub async fn command_decide(&mut self) -> Result<Result<Vec<NewEvent>, CommandError>> {
        let Exports::Command(bindings) = &self.exports else {
            return Err(self.wrong_kind("command"));
        };
        self.store.data_mut().arm_deadline();
        let result = timed(
            self.limit,
            bindings.wbx_guest_command().call_decide(&mut self.store),
        )
        .await;
        self.finish(result)
    }

    /// `projector.subscription` or `effect.subscription`.
    pub async fn subscription(&mut self) -> Result<Vec<QueryItem>> {
        self.store.data_mut().arm_deadline();
        let result = match &self.exports {
            Exports::Projector(b) => {
                b.wbx_guest_projector()
                    .call_subscription(&mut self.store)
                    .await
            }
            Exports::Effect(b) => {
                b.wbx_guest_effect()
                    .call_subscription(&mut self.store)
                    .await
            }
            Exports::Command(_) => return Err(self.wrong_kind("projector or effect")),
        };
        self.finish(result)
    }

    /// `projector.init`: set up the read model.
    pub async fn projector_init(&mut self) -> Result<Result<(), String>> {
        let Exports::Projector(bindings) = &self.exports else {
            return Err(self.wrong_kind("projector"));
        };
        self.store.data_mut().arm_deadline();
        let result = timed(
            self.limit,
            bindings.wbx_guest_projector().call_init(&mut self.store),
        )
        .await;
        self.finish(result)
    }

    /// `projector.handle`: one batch, in position order.
    pub async fn projector_handle(&mut self, events: &[Event]) -> Result<Result<(), String>> {
        let Exports::Projector(bindings) = &self.exports else {
            return Err(self.wrong_kind("projector"));
        };
        self.store.data_mut().arm_deadline();
        let result = timed(
            self.limit,
            bindings
                .wbx_guest_projector()
                .call_handle(&mut self.store, events),
        )
        .await;
        self.finish(result)
    }

    /// `effect.partition-key`.
    pub async fn effect_partition_key(&mut self, event: &Event) -> Result<Option<String>> {
        let Exports::Effect(bindings) = &self.exports else {
            return Err(self.wrong_kind("effect"));
        };
        self.store.data_mut().arm_deadline();
        let result = timed(
            self.limit,
            bindings
                .wbx_guest_effect()
                .call_partition_key(&mut self.store, event),
        )
        .await;
        self.finish(result)
    }

    /// `effect.handle`: one event.
    pub async fn effect_handle(&mut self, event: &Event) -> Result<Result<(), String>> {
        let Exports::Effect(bindings) = &self.exports else {
            return Err(self.wrong_kind("effect"));
        };
        self.store.data_mut().arm_deadline();
        let result = timed(
            self.limit,
            bindings
                .wbx_guest_effect()
                .call_handle(&mut self.store, event),
        )
        .await;
        self.finish(result)
    }
}

/// Runs a guest call, giving up a little after the call timeout. Dropping
/// the call's future leaves the instance spent, which is what a timeout means.
async fn timed<R>(
    limit: Duration,
    call: impl Future<Output = wasmtime::Result<R>>,
) -> wasmtime::Result<R> {
    // The epoch deadline normally fires first; this catches host waits.
    let grace = limit + crate::engine::EPOCH_TICK * 4;
    match tokio::time::timeout(grace, call).await {
        Ok(result) => result,
        Err(_) => Err(Trap::Interrupt.into()),
    }
}

/// Turns a failed guest call into an error that says which module failed and
/// why, in the terms a guest author can act on, and reports it.
fn explain(
    module: &LoadedModule,
    store: &Store<HostState>,
    observer: &Observer,
    error: wasmtime::Error,
) -> anyhow::Error {
    let state = store.data();
    let trap = error.downcast_ref::<Trap>().copied();
    let cause = if let Some(refusal) = state.limiter.refused {
        refusal.to_string()
    } else if trap == Some(Trap::Interrupt) {
        format!(
            "interrupted: the call ran longer than the call timeout of {:?}",
            state.call_timeout()
        )
    } else if let Some(trap) = trap {
        let tail = state
            .stderr_tail
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect::<Vec<_>>();
        match panic_message(&tail) {
            Some(message) => format!("the guest {message}"),
            None => format!("the guest trapped: {trap}"),
        }
    } else {
        format!("{:#}", anyhow::Error::from(error))
    };
    let text = format!(
        "module '{}' ({} {}): {cause}",
        module.name, module.kind, module.version
    );
    observer.publish(Observation::CallFailed {
        module: module.name.to_string(),
        error: text.clone(),
    });
    anyhow!(text)
}

/// `panicked at src/lib.rs:27:29: boom` from the stderr lines of a Rust
/// guest's panic, without the thread name and the backtrace note.
fn panic_message(stderr: &[String]) -> Option<String> {
    let start = stderr
        .iter()
        .rposition(|line| line.contains("panicked at"))?;
    let first = &stderr[start][stderr[start].find("panicked at")?..];
    let rest = stderr[start + 1..]
        .iter()
        .filter(|line| !line.starts_with("note: run with `RUST_BACKTRACE"));
    Some(
        std::iter::once(first)
            .chain(rest.map(String::as_str))
            .collect::<Vec<_>>()
            .join(" "),
    )
}
