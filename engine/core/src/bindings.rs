//! The core's WIT bindings: one `bindgen!`, of the `core-imports` world
//! (`wbx:guest/log`, `wbx:guest/commands`, `wbx:guest/read-model`). Every model's worlds map
//! these interfaces onto this module with `with`, so one host
//! implementation of each serves every kind.

#![allow(missing_docs, clippy::all)]

wasmtime::component::bindgen!({
    world: "core-imports",
    path: "../../wit",
    imports: {
        "wbx:guest/commands.execute": async,
    },
});

/// Exports a world cannot make optional (a state hand-over, an inspector),
/// looked up by name on a component and typed on each instance.
pub mod optional {
    use wasmtime::Store;
    use wasmtime::component::{
        Component, ComponentExportIndex, ComponentNamedList, Instance, Lift, Lower, TypedFunc,
    };

    use crate::HostState;

    /// Where `interface`'s `function` is among `component`'s exports.
    pub fn export(
        component: &Component,
        interface: &str,
        function: &str,
    ) -> Option<ComponentExportIndex> {
        let interface = component.get_export_index(None, interface)?;
        component.get_export_index(Some(&interface), function)
    }

    /// The function at `index` on `instance`, typed; a function of another
    /// shape is treated as absent.
    pub fn typed<P, R>(
        store: &mut Store<HostState>,
        instance: &Instance,
        index: Option<&ComponentExportIndex>,
    ) -> Option<TypedFunc<P, R>>
    where
        P: ComponentNamedList + Lower + Send + Sync,
        R: ComponentNamedList + Lift + Send + Sync,
    {
        instance.get_typed_func(&mut *store, index?).ok()
    }
}
