//! `wbx-guest`: the Rust library for wbx guest modules.
//!
//! A guest crate is a `cdylib` built for `wasm32-wasip2` that declares its kind in
//! `[package.metadata.wbx]` and exports one world of the `wbx:guest` WIT package
//! (`wit/` in the wbx repository, the only definition of the contract).
//!
//! Code map:
//! - [`log`]: logging to the host (`log::info("…")`, or the [`info!`] family of macros).
//! - [`sql`]: the module's own SQLite database (projectors and effects).
//! - [`commands`]: executing commands from an effect or a service.
//! - [`http`]: outgoing HTTP requests: to other services
//!   (`http://{namespace}.{module}/…`, routed in-process) and to the hosts
//!   the project allows.
//! - [`read_model`]: read-only queries of the projectors' read models (services).
//! - [`service`]: services, modules that answer HTTP requests: [`Request`](service::Request),
//!   [`Response`](service::Response) (whole or streamed), the [`Service`] trait and
//!   [`export_service!`], which exports the standard `wasi:http/incoming-handler`.
//! - [`actor`]: actors, long-lived processes with a mailbox: the [`Actor`] trait
//!   (typed args, messages and replies through serde), [`export_actor!`]
//!   (`export_actor!(Counter with state)` hands the actor's value over on a hot
//!   swap when it derives `Serialize` and `Deserialize`; `export_actor!(Counter)`
//!   restarts through `init`), and the process functions: [`actor::send`],
//!   [`actor::call`], [`actor::spawn`], links, monitors, timers, the registry.
//!   The world `actor-module-with-state` is generated in `actor_world`.
//! - [`pipeline`]: stages of a flow: the [`Source`](pipeline::Source),
//!   [`Processor`](pipeline::Processor) and [`Sink`](pipeline::Sink) traits
//!   over [`Element`](pipeline::Element)s and [`Output`](pipeline::Output)s, and
//!   [`export_source!`], [`export_processor!`], [`export_sink!`] (`with state`
//!   saves the stage value as JSON across restarts and hot swaps). The stage
//!   worlds are generated in `pipeline/worlds.rs`.
//! - [`typed`]: typed events (`#[derive(Event)]`, [`emit!`]), folds, and
//!   commands as [`Decide`] + [`command!`].
//! - [`command`], [`projector`], [`effect`]: one module of generated bindings per
//!   world, each with its export macro ([`export_command!`], [`export_projector!`],
//!   [`export_effect!`]). Only the world whose macro a crate uses ends up in its
//!   component.
//!   A service is no world of `wbx:guest`: it exports `wasi:http/incoming-handler`
//!   (through the `wasip2` crate) and imports what the `service-imports` world names.
//! - The shared records ([`Event`], [`NewEvent`], [`QueryItem`]) are re-exported here.
//!
//! ```ignore
//! use wbx_guest::{Command, CommandError, Event, NewEvent, QueryItem};
//!
//! struct Greeter;
//! impl Command for Greeter {
//!     fn prepare(input: String) -> Result<Vec<QueryItem>, CommandError> { Ok(vec![]) }
//!     fn fold(_events: Vec<Event>) {}
//!     fn decide() -> Result<Vec<NewEvent>, CommandError> { Ok(vec![]) }
//! }
//! wbx_guest::export_command!(Greeter);
//! ```

/// Bindings of the `imports` world: everything a module may import.
#[doc(hidden)]
pub mod imports {
    wit_bindgen::generate!({
        world: "imports",
        path: "../wit",
        generate_all,
    });
}

/// Bindings of the `command-module` world.
pub mod command {
    wit_bindgen::generate!({
        world: "command-module",
        path: "../wit",
        with: {
            "wbx:guest/log@0.1.0": crate::imports::wbx::guest::log,
            "wbx:guest/types@0.1.0": crate::imports::wbx::guest::types,
        },
        pub_export_macro: true,
        export_macro_name: "export_command",
        default_bindings_module: "wbx_guest::command",
    });
}

/// Bindings of the `projector-module` world.
pub mod projector {
    wit_bindgen::generate!({
        world: "projector-module",
        path: "../wit",
        with: {
            "wbx:guest/log@0.1.0": crate::imports::wbx::guest::log,
            "wbx:guest/types@0.1.0": crate::imports::wbx::guest::types,
            "wbx:guest/sql@0.1.0": crate::imports::wbx::guest::sql,
        },
        pub_export_macro: true,
        export_macro_name: "export_projector",
        default_bindings_module: "wbx_guest::projector",
    });
}

/// Bindings of the `effect-module` world.
pub mod effect {
    wit_bindgen::generate!({
        world: "effect-module",
        path: "../wit",
        with: {
            "wbx:guest/log@0.1.0": crate::imports::wbx::guest::log,
            "wbx:guest/types@0.1.0": crate::imports::wbx::guest::types,
            "wbx:guest/sql@0.1.0": crate::imports::wbx::guest::sql,
            "wbx:guest/commands@0.1.0": crate::imports::wbx::guest::commands,
        },
        pub_export_macro: true,
        export_macro_name: "export_effect",
        default_bindings_module: "wbx_guest::effect",
    });
}

/// Bindings of the `actor-module-with-state` world: what [`export_actor!`]
/// expands to. Write actors with [`actor`] rather than with these.
#[doc(hidden)]
pub mod actor_world {
    wit_bindgen::generate!({
        world: "actor-module-with-state",
        path: "../wit",
        with: {
            "wbx:guest/log@0.1.0": crate::imports::wbx::guest::log,
            "wbx:guest/commands@0.1.0": crate::imports::wbx::guest::commands,
            "wbx:guest/read-model@0.1.0": crate::imports::wbx::guest::read_model,
            "wbx:guest/process@0.1.0": crate::imports::wbx::guest::process,
        },
        pub_export_macro: true,
        export_macro_name: "__export_actor_world",
        default_bindings_module: "wbx_guest::actor_world",
    });
}

pub mod actor;
pub mod http;
pub mod log;
pub mod pipeline;
pub mod read_model;
pub mod service;
pub mod sql;
pub mod typed;

pub use typed::{Count, Decide, DomainEvent, Exists, Fold, Latest, tag};
pub use wbx_guest_macros::Event;

/// Executing commands from an effect or a service (`commands::execute`).
pub mod commands {
    pub use crate::imports::wbx::guest::commands::{Executed, Failure, execute};
}

pub use command::exports::wbx::guest::command::{Error as CommandError, Guest as Command};
pub use effect::exports::wbx::guest::effect::Guest as Effect;
pub use imports::wbx::guest::types::{Event, NewEvent, QueryItem};
pub use projector::exports::wbx::guest::projector::Guest as Projector;

pub use actor::Actor;
pub use command::export_command;
pub use effect::export_effect;
pub use projector::export_projector;
pub use service::Service;

/// What the SDK's macros expand to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use wasip2;
}
