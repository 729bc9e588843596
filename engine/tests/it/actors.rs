//! Actors with the other models, assembled: a process calls a service
//! through the mesh and executes a command of the events model, through the
//! core's cross-model capabilities, as services do.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use wbx_actors::ActorRuntime;
use wbx_actors::kinds::ACTOR;
use wbx_core::project::{Manifest, ModuleDecl, StateLayout};
use wbx_core::{Engine, Limits, Runtimes};
use wbx_events::EventsRuntime;
use wbx_events::kinds::COMMAND;
use wbx_mesh::kinds::SERVICE;

use crate::support::{engine_of, guest};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actor_calls_a_service_and_executes_a_command() {
    let dir = tempfile::tempdir().unwrap();
    let state = StateLayout::new(dir.path().join(".wbx"));
    let models = wbx_engine::models::models();
    let engine: Arc<Engine> = Arc::new(engine_of(state.dir(), Limits::default(), models.catalog()));
    let mut modules = Vec::new();
    for (name, kind, namespace) in [
        ("probe", ACTOR, None),
        ("echo", SERVICE, Some("test")),
        ("counter", COMMAND, None),
    ] {
        engine.load_file(name, kind, "0.1.0", &guest(name)).unwrap();
        modules.push(ModuleDecl::prebuilt(name, kind, namespace, guest(name)));
    }
    let runtimes =
        Runtimes::open(&models, &engine, &state, &Manifest::default(), &modules).unwrap();
    let actors = runtimes.get::<ActorRuntime>().unwrap();
    let events = runtimes.get::<EventsRuntime>().unwrap();
    let pid = actors.spawn("probe", "{}", None).await.unwrap().to_string();
    let call = async |message: Value| -> Value {
        let reply = actors
            .call(&pid, &message.to_string(), Duration::from_secs(10))
            .await
            .unwrap();
        serde_json::from_str(&reply).unwrap()
    };

    let answer = call(json!({"op": "http", "url": "http://test.echo/hello"})).await;
    assert_eq!(answer["status"], json!(200), "{answer}");
    assert_eq!(answer["body"], json!("hello from echo"));

    let done =
        call(json!({"op": "exec", "command": "counter", "input": {"id": "a", "by": 2}})).await;
    assert_eq!(done["events"], json!(1), "{done}");
    let head = events.store().head();
    assert_eq!(Some(head), done["position"].as_u64());
    runtimes.shutdown().await;
}
