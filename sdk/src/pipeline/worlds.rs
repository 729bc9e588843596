//! The bindings of the stage worlds, each generated once: what the
//! [`export_source!`](crate::export_source) family expands to.
//!
//! wit-bindgen turns every exported interface into a crate-wide macro, so
//! an interface may be generated once in this crate: generating the three
//! `*-with-state` worlds as well would define `stage-state`'s macro three
//! times and each kind's twice. So each kind's world is generated without
//! state, and `stage-state` alone in a world of its own; a stage exported
//! `with state` uses both, and wit-component merges the two worlds into
//! what `{kind}-module-with-state` names.
//!
//! The three kind worlds share `stage-types` (generated with the source's),
//! so [`Element`](crate::pipeline::Element) and
//! [`Output`](crate::pipeline::Output) are one type for every kind.

/// A kind's world, its imports the core's; `$stage_types` is where
/// `stage-types` comes from (`generate` for the first world).
macro_rules! stage_world {
    ($module:ident, $world:tt, $bindings:tt, $stage_types:path) => {
        pub mod $module {
            wit_bindgen::generate!({
                world: $world,
                path: "../wit",
                with: {
                    "wbx:guest/log@0.1.0": crate::imports::wbx::guest::log,
                    "wbx:guest/commands@0.1.0": crate::imports::wbx::guest::commands,
                    "wbx:guest/read-model@0.1.0": crate::imports::wbx::guest::read_model,
                    "wbx:guest/stage-types@0.1.0": $stage_types,
                },
                additional_derives: [PartialEq, Eq],
                pub_export_macro: true,
                export_macro_name: "__export_world",
                default_bindings_module: $bindings,
            });
        }
    };
}

stage_world!(
    source_module,
    "source-module",
    "wbx_guest::pipeline::worlds::source_module",
    generate
);
stage_world!(
    processor_module,
    "processor-module",
    "wbx_guest::pipeline::worlds::processor_module",
    crate::pipeline::worlds::source_module::wbx::guest::stage_types
);
stage_world!(
    sink_module,
    "sink-module",
    "wbx_guest::pipeline::worlds::sink_module",
    crate::pipeline::worlds::source_module::wbx::guest::stage_types
);

/// `stage-state` on its own. wit/ names no world that exports just it,
/// so this one is written here; it only composes the contract's interface.
pub mod stage_state {
    wit_bindgen::generate!({
        inline: "
            package wbx:sdk;

            world stage-state {
                export wbx:guest/stage-state@0.1.0;
            }
        ",
        path: "../wit",
        world: "wbx:sdk/stage-state",
        pub_export_macro: true,
        export_macro_name: "__export_world",
        default_bindings_module: "wbx_guest::pipeline::worlds::stage_state",
    });
}
