//! [`PipelinesModel`]: the pipelines model as the assembly registers it.

use std::sync::Arc;

use anyhow::Result;
use wbx_core::bench::BenchGroup;
use wbx_core::project::{Manifest, ManifestError, ModuleDecl};
use wbx_core::{KindSpec, Model, ModelContext, Runtime};

use crate::runtime::PipelineRuntime;

pub struct PipelinesModel;

impl Model for PipelinesModel {
    fn name(&self) -> &'static str {
        "pipelines"
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

    fn open(&self, context: &ModelContext) -> Result<Arc<dyn Runtime>> {
        let settings = crate::settings::settings(&context.manifest, &context.modules)?;
        Ok(PipelineRuntime::new(
            context.engine.clone(),
            context.capabilities.clone(),
            context.state.clone(),
            &context.modules,
            settings,
        ))
    }

    fn bench(&self) -> Vec<BenchGroup> {
        crate::bench::groups()
    }
}
