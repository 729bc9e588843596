//! [`MeshModel`]: the mesh model as the assembly registers it.

use std::sync::Arc;

use anyhow::Result;
use wbx_core::bench::BenchGroup;
use wbx_core::project::{Manifest, ManifestError, ModuleDecl};
use wbx_core::{KindSpec, Model, ModelContext, Runtime};

use crate::router::MeshRouter;
use crate::runtime::MeshRuntime;
use crate::settings::service_names;

pub struct MeshModel;

impl Model for MeshModel {
    fn name(&self) -> &'static str {
        "mesh"
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

    /// Opens the mesh over the project's services and makes it the engine's
    /// in-process router, so every module's requests to a service reach it.
    fn open(&self, context: &ModelContext) -> Result<Arc<dyn Runtime>> {
        let settings =
            crate::settings::settings(&context.manifest, &service_names(&context.modules))?;
        let runtime = MeshRuntime::new(
            context.engine.clone(),
            context.capabilities.clone(),
            &context.modules,
            settings,
        );
        context
            .engine
            .route_http_with(Arc::new(MeshRouter(runtime.clone())));
        Ok(runtime)
    }

    fn bench(&self) -> Vec<BenchGroup> {
        crate::bench::groups()
    }
}
