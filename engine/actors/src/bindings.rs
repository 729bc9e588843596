//! The actor world as Rust: one `bindgen!`, of `actor-module`, and the
//! optional exports (`actor-state`, `actor-inspect`) looked up by name on
//! each instance, since a world cannot make an export optional.

#![allow(missing_docs, clippy::all)]

use wasmtime::Store;
use wasmtime::component::{ComponentExportIndex, InstancePre, TypedFunc};
use wbx_core::bindings::optional::{self, typed};
use wbx_core::{HostState, ModuleKind, WorldPre};

pub mod actor_module {
    wasmtime::component::bindgen!({
        world: "actor-module",
        path: "../../wit",
        imports: {
            "wbx:guest/process.spawn": async,
            "wbx:guest/process.call": async,
        },
        exports: { default: async },
        with: {
            "wbx:guest/log": wbx_core::bindings::wbx::guest::log,
            "wbx:guest/commands": wbx_core::bindings::wbx::guest::commands,
            "wbx:guest/read-model": wbx_core::bindings::wbx::guest::read_model,
        },
    });
}

pub use actor_module::exports::wbx::guest::actor::{Kind, Message};
pub use actor_module::wbx::guest::process;

const STATE: &str = "wbx:guest/actor-state@0.1.0";
const INSPECT: &str = "wbx:guest/actor-inspect@0.1.0";

type SaveState = TypedFunc<(), (Result<Vec<u8>, String>,)>;
type RestoreState = TypedFunc<(Vec<u8>,), (Result<(), String>,)>;
type Inspect = TypedFunc<(), (String,)>;

/// An actor's typed pre-instance, with where its optional exports are.
pub struct ActorPre {
    pre: actor_module::ActorModulePre<HostState>,
    save: Option<ComponentExportIndex>,
    restore: Option<ComponentExportIndex>,
    inspect: Option<ComponentExportIndex>,
}

/// An actor instance: the required exports, and the optional ones it has.
pub struct ActorInstance {
    pub actor: actor_module::ActorModule,
    pub save: Option<SaveState>,
    pub restore: Option<RestoreState>,
    pub inspect: Option<Inspect>,
}

impl WorldPre for ActorPre {
    const KIND: ModuleKind = crate::kinds::ACTOR;
    type Bindings = ActorInstance;

    fn new(pre: InstancePre<HostState>) -> wasmtime::Result<Self> {
        let component = pre.component();
        let export =
            |interface: &str, function: &str| optional::export(component, interface, function);
        Ok(ActorPre {
            save: export(STATE, "save-state"),
            restore: export(STATE, "restore-state"),
            inspect: export(INSPECT, "inspect"),
            pre: actor_module::ActorModulePre::new(pre)?,
        })
    }

    fn instantiate(
        &self,
        store: &mut Store<HostState>,
    ) -> impl Future<Output = wasmtime::Result<ActorInstance>> + Send {
        async move {
            let instance = self
                .pre
                .instance_pre()
                .instantiate_async(&mut *store)
                .await?;
            let actor = actor_module::ActorModule::new(&mut *store, &instance)?;
            Ok(ActorInstance {
                actor,
                // A function of another shape is treated as absent.
                save: typed(store, &instance, self.save.as_ref()),
                restore: typed(store, &instance, self.restore.as_ref()),
                inspect: typed(store, &instance, self.inspect.as_ref()),
            })
        }
    }
}
