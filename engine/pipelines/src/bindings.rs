//! The stage worlds as Rust: one `bindgen!` per world (`source-module`,
//! `processor-module`, `sink-module`), their element types shared, and the
//! optional `stage-state` export looked up by name on each instance, since a
//! world cannot make an export optional.
//!
//! The export that takes a batch (`process`, `consume`) is also looked up by
//! name and called with [`ElementRef`]s: the generated [`Element`] owns its
//! payload, so calling through it would copy each payload twice (into an
//! `Element`, then into the guest's memory) where once will do.

#![allow(missing_docs, clippy::all)]

use std::marker::PhantomData;

use wasmtime::Store;
use wasmtime::component::{
    ComponentExportIndex, ComponentType, Func, Instance, InstancePre, Lift, Lower, TypedFunc,
};
use wbx_core::bindings::optional::{self, typed};
use wbx_core::{HostState, ModuleKind, WorldPre};

pub mod source_module {
    wasmtime::component::bindgen!({
        world: "source-module",
        path: "../../wit",
        exports: { default: async },
        with: {
            "wbx:guest/log": wbx_core::bindings::wbx::guest::log,
            "wbx:guest/commands": wbx_core::bindings::wbx::guest::commands,
            "wbx:guest/read-model": wbx_core::bindings::wbx::guest::read_model,
        },
    });
}

pub mod processor_module {
    wasmtime::component::bindgen!({
        world: "processor-module",
        path: "../../wit",
        exports: { default: async },
        with: {
            "wbx:guest/log": wbx_core::bindings::wbx::guest::log,
            "wbx:guest/commands": wbx_core::bindings::wbx::guest::commands,
            "wbx:guest/read-model": wbx_core::bindings::wbx::guest::read_model,
            "wbx:guest/stage-types": super::source_module::wbx::guest::stage_types,
        },
    });
}

pub mod sink_module {
    wasmtime::component::bindgen!({
        world: "sink-module",
        path: "../../wit",
        exports: { default: async },
        with: {
            "wbx:guest/log": wbx_core::bindings::wbx::guest::log,
            "wbx:guest/commands": wbx_core::bindings::wbx::guest::commands,
            "wbx:guest/read-model": wbx_core::bindings::wbx::guest::read_model,
            "wbx:guest/stage-types": super::source_module::wbx::guest::stage_types,
        },
    });
}

pub use sink_module::exports::wbx::guest::sink::Verdict;
pub use source_module::exports::wbx::guest::source::Pulled;
pub use source_module::wbx::guest::stage_types::{Element, Output};

const STATE: &str = "wbx:guest/stage-state@0.1.0";

pub type SaveState = TypedFunc<(), (Result<Vec<u8>, String>,)>;
pub type RestoreState = TypedFunc<(Vec<u8>,), (Result<(), String>,)>;

/// `stage-types.element`, lowered from the host's element as it is.
#[derive(ComponentType, Lower)]
#[component(record)]
pub struct ElementRef<'a> {
    payload: &'a [u8],
    #[component(name = "content-type")]
    content_type: &'a str,
    key: Option<&'a str>,
    sequence: u64,
    #[component(name = "timestamp-ms")]
    timestamp_ms: u64,
}

impl<'a> From<&'a crate::element::Element> for ElementRef<'a> {
    fn from(element: &'a crate::element::Element) -> ElementRef<'a> {
        ElementRef {
            payload: &element.payload,
            content_type: &element.content_type,
            key: element.key.as_deref(),
            sequence: element.sequence,
            timestamp_ms: element.timestamp_ms,
        }
    }
}

/// What differs between the three stage worlds: the kind, and how its
/// generated bindings are made.
pub trait StageWorld: Send + Sync + 'static {
    const KIND: ModuleKind;
    /// The export that takes a batch of elements, as (interface, function):
    /// none for a source.
    const BATCH: Option<(&'static str, &'static str)>;
    type Pre: Send + Sync + 'static;
    type Exports: Send + Sync + 'static;

    fn pre(pre: InstancePre<HostState>) -> wasmtime::Result<Self::Pre>;
    fn instance_pre(pre: &Self::Pre) -> &InstancePre<HostState>;
    fn exports(
        store: &mut Store<HostState>,
        instance: &Instance,
    ) -> wasmtime::Result<Self::Exports>;
}

/// A stage world: its kind and the types `bindgen!` made for it, whose
/// methods have the same names in every world.
macro_rules! stage_world {
    ($world:ident, $kind:ident, $batch:expr, $module:ident :: $pre:ident, $exports:ident) => {
        pub struct $world;

        impl StageWorld for $world {
            const KIND: ModuleKind = crate::kinds::$kind;
            const BATCH: Option<(&'static str, &'static str)> = $batch;
            type Pre = $module::$pre<HostState>;
            type Exports = $module::$exports;

            fn pre(pre: InstancePre<HostState>) -> wasmtime::Result<Self::Pre> {
                Self::Pre::new(pre)
            }
            fn instance_pre(pre: &Self::Pre) -> &InstancePre<HostState> {
                pre.instance_pre()
            }
            fn exports(
                store: &mut Store<HostState>,
                instance: &Instance,
            ) -> wasmtime::Result<Self::Exports> {
                Self::Exports::new(store, instance)
            }
        }
    };
}

stage_world!(
    SourceWorld,
    SOURCE,
    None,
    source_module::SourceModulePre,
    SourceModule
);
stage_world!(
    ProcessorWorld,
    PROCESSOR,
    Some(("wbx:guest/processor@0.1.0", "process")),
    processor_module::ProcessorModulePre,
    ProcessorModule
);
stage_world!(
    SinkWorld,
    SINK,
    Some(("wbx:guest/sink@0.1.0", "consume")),
    sink_module::SinkModulePre,
    SinkModule
);

/// A stage's typed pre-instance, with where its optional state export is.
pub struct StagePre<W: StageWorld> {
    pre: W::Pre,
    save: Option<ComponentExportIndex>,
    restore: Option<ComponentExportIndex>,
    batch: Option<ComponentExportIndex>,
    world: PhantomData<W>,
}

/// A stage instance: its kind's exports, and the state hand-over when it has one.
pub struct StageInstance<W: StageWorld> {
    pub exports: W::Exports,
    pub save: Option<SaveState>,
    pub restore: Option<RestoreState>,
    /// The export that takes a batch; see [`StageInstance::call_batch`].
    batch: Option<Func>,
}

impl<W: StageWorld> StageInstance<W> {
    /// Calls the export that takes a batch (`process`, `consume`), which
    /// answers `R`, each element lowered from the host's.
    pub async fn call_batch<R>(
        &self,
        store: &mut Store<HostState>,
        batch: &[crate::element::Element],
    ) -> wasmtime::Result<R>
    where
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        let Some(func) = self.batch else {
            wasmtime::bail!("a {} takes no batch", W::KIND.as_str());
        };
        let elements: Vec<ElementRef<'_>> = batch.iter().map(ElementRef::from).collect();
        // Typed at each call: its parameters borrow this batch, so a typed
        // function cannot be kept with the instance (a check of one type
        // per batch, not per element).
        let typed = func.typed::<(&[ElementRef<'_>],), (R,)>(&*store)?;
        Ok(typed.call_async(&mut *store, (&elements,)).await?.0)
    }
}

impl<W: StageWorld> WorldPre for StagePre<W> {
    const KIND: ModuleKind = W::KIND;
    type Bindings = StageInstance<W>;

    fn new(pre: InstancePre<HostState>) -> wasmtime::Result<Self> {
        let component = pre.component();
        Ok(StagePre {
            save: optional::export(component, STATE, "save-state"),
            restore: optional::export(component, STATE, "restore-state"),
            batch: W::BATCH
                .and_then(|(interface, function)| optional::export(component, interface, function)),
            pre: W::pre(pre)?,
            world: PhantomData,
        })
    }

    fn instantiate(
        &self,
        store: &mut Store<HostState>,
    ) -> impl Future<Output = wasmtime::Result<StageInstance<W>>> + Send {
        async move {
            let instance = W::instance_pre(&self.pre)
                .instantiate_async(&mut *store)
                .await?;
            Ok(StageInstance {
                exports: W::exports(store, &instance)?,
                save: typed(store, &instance, self.save.as_ref()),
                restore: typed(store, &instance, self.restore.as_ref()),
                batch: self
                    .batch
                    .as_ref()
                    .and_then(|index| instance.get_func(&mut *store, index)),
            })
        }
    }
}
