//! Instances of the events kinds, with their typed calls. Each call is one
//! line over the core's [`Guest::call`], which arms the deadline, times the
//! call and explains its failure, so none can skip any of it.

use wbx_core::{Engine, Guest, GuestError, InstanceSetup};

use crate::bindings::command::CommandModule;
use crate::bindings::command::exports::wbx::guest::command::Error as Refusal;
use crate::bindings::effect::EffectModule;
use crate::bindings::projector::ProjectorModule;
use crate::bindings::{Event, NewEvent, QueryItem, command, effect, projector};
use crate::host_sql::ModuleDatabase;

type Call<T> = Result<T, GuestError>;

/// An instance of a command.
pub struct CommandInstance(pub Guest<CommandModule>);

impl CommandInstance {
    pub async fn new(engine: &Engine, name: &str, setup: InstanceSetup) -> anyhow::Result<Self> {
        let guest = engine
            .instantiate::<command::CommandModulePre<_>>(name, setup)
            .await?;
        Ok(CommandInstance(guest))
    }

    /// `command.prepare`: the query a command needs for `input`.
    pub async fn prepare(&mut self, input: &str) -> Call<Result<Vec<QueryItem>, Refusal>> {
        (self.0)
            .call(|b, s| b.wbx_guest_command().call_prepare(s, input))
            .await
    }

    /// `command.fold`: one batch of the events read for the query.
    pub async fn fold(&mut self, events: &[Event]) -> Call<()> {
        (self.0)
            .call(|b, s| b.wbx_guest_command().call_fold(s, events))
            .await
    }

    /// `command.decide`: the events to append, or the guest's refusal.
    pub async fn decide(&mut self) -> Call<Result<Vec<NewEvent>, Refusal>> {
        (self.0)
            .call(|b, s| b.wbx_guest_command().call_decide(s))
            .await
    }
}

/// An instance of a projector, over its read model.
pub struct ProjectorInstance(pub Guest<ProjectorModule>);

impl ProjectorInstance {
    pub async fn new(engine: &Engine, name: &str, setup: InstanceSetup) -> anyhow::Result<Self> {
        let guest = engine
            .instantiate::<projector::ProjectorModulePre<_>>(name, setup)
            .await?;
        Ok(ProjectorInstance(guest))
    }

    /// The read model the instance was given.
    pub fn database(&mut self) -> Option<&mut rusqlite::Connection> {
        let database = self.0.state().extensions.get_mut::<ModuleDatabase>()?;
        Some(&mut database.conn)
    }

    /// `projector.subscription`: the events it wants.
    pub async fn subscription(&mut self) -> Call<Vec<QueryItem>> {
        (self.0)
            .call(|b, s| b.wbx_guest_projector().call_subscription(s))
            .await
    }

    /// `projector.init`: set up the read model.
    pub async fn init(&mut self) -> Call<Result<(), String>> {
        (self.0)
            .call(|b, s| b.wbx_guest_projector().call_init(s))
            .await
    }

    /// `projector.handle`: one batch, in position order.
    pub async fn handle(&mut self, events: &[Event]) -> Call<Result<(), String>> {
        (self.0)
            .call(|b, s| b.wbx_guest_projector().call_handle(s, events))
            .await
    }
}

/// An instance of an effect.
pub struct EffectInstance(pub Guest<EffectModule>);

impl EffectInstance {
    pub async fn new(engine: &Engine, name: &str, setup: InstanceSetup) -> anyhow::Result<Self> {
        let guest = engine
            .instantiate::<effect::EffectModulePre<_>>(name, setup)
            .await?;
        Ok(EffectInstance(guest))
    }

    /// The command grant of the instance, to set the ids the next executed
    /// command inherits.
    pub fn grant(&mut self) -> Option<&mut wbx_core::capability::CommandGrant> {
        self.0.state().extensions.get_mut()
    }

    /// `effect.subscription`: the events it wants.
    pub async fn subscription(&mut self) -> Call<Vec<QueryItem>> {
        (self.0)
            .call(|b, s| b.wbx_guest_effect().call_subscription(s))
            .await
    }

    /// `effect.partition-key`: the lane of an event; none is the global one.
    pub async fn partition_key(&mut self, event: &Event) -> Call<Option<String>> {
        (self.0)
            .call(|b, s| b.wbx_guest_effect().call_partition_key(s, event))
            .await
    }

    /// `effect.handle`: one event.
    pub async fn handle(&mut self, event: &Event) -> Call<Result<(), String>> {
        (self.0)
            .call(|b, s| b.wbx_guest_effect().call_handle(s, event))
            .await
    }
}
