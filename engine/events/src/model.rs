//! [`EventsModel`]: the events model as the assembly registers it.

use std::sync::Arc;

use anyhow::Result;
use wbx_core::bench::BenchGroup;
use wbx_core::doctor::Check;
use wbx_core::project::{Manifest, ManifestError, ModuleDecl, StateLayout};
use wbx_core::{KindSpec, Model, ModelContext, Runtime};

use crate::runtime::EventsRuntime;
use crate::store::{EventStore, StoreLocation};

pub struct EventsModel;

impl Model for EventsModel {
    fn name(&self) -> &'static str {
        "events"
    }

    fn kinds(&self) -> &'static [KindSpec] {
        &crate::kinds::KINDS
    }

    fn sections(&self) -> &'static [&'static str] {
        crate::settings::SECTIONS
    }

    fn check(
        &self,
        manifest: &Manifest,
        modules: &[ModuleDecl],
    ) -> Result<Vec<String>, ManifestError> {
        crate::settings::check(manifest, modules)
    }

    /// Opens the project's event store (where `[store]` or `WBX_STORE_URL`
    /// says), and provides the commands, the read models and the log itself
    /// to every other model.
    fn open(&self, context: &ModelContext) -> Result<Arc<dyn Runtime>> {
        let settings = crate::settings::effect_settings(&context.manifest)?;
        let location = StoreLocation::of_project(&context.manifest, &context.state)?;
        let store = EventStore::connect(&location)?;
        let runtime = EventsRuntime::with_store(
            context.engine.clone(),
            context.state.clone(),
            settings,
            store,
        );
        context.capabilities.provide_commands(runtime.clone());
        context.capabilities.provide_read_models(runtime.clone());
        context.capabilities.provide_events(runtime.clone());
        Ok(runtime)
    }

    fn bench(&self) -> Vec<BenchGroup> {
        crate::bench::groups()
    }

    /// The event store: reachable, its tables sound; its text index open.
    fn doctor(&self, manifest: &Manifest, state: &StateLayout) -> Vec<Check> {
        crate::store::doctor::checks(manifest, state)
    }
}
