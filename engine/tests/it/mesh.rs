//! The mesh with the other models, assembled: a service executes a command
//! of the events model, and the request's trace becomes the events'
//! correlation id; a service queries a projector's read model.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use wbx_core::host_http::Caller;
use wbx_core::project::{Manifest, ModuleDecl, StateLayout};
use wbx_core::{Engine, Limits, Runtimes};
use wbx_events::EventsRuntime;
use wbx_events::kinds::COMMAND;
use wbx_events::{Query, ReadOptions};
use wbx_mesh::MeshRuntime;
use wbx_mesh::kinds::SERVICE;

use crate::support::{engine_of, guest};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_executes_a_command_in_the_trace_of_its_request() {
    let dir = tempfile::tempdir().unwrap();
    let state = StateLayout::new(dir.path().join(".wbx"));
    let models = wbx_engine::models::models();
    let engine: Arc<Engine> = Arc::new(engine_of(state.dir(), Limits::default(), models.catalog()));
    engine
        .load_file("echo", SERVICE, "0.1.0", &guest("echo"))
        .unwrap();
    engine
        .load_file("counter", COMMAND, "0.1.0", &guest("counter"))
        .unwrap();
    let modules = [
        ModuleDecl::prebuilt("echo", SERVICE, Some("test"), guest("echo")),
        ModuleDecl::prebuilt("counter", COMMAND, None, guest("counter")),
    ];
    let runtimes =
        Runtimes::open(&models, &engine, &state, &Manifest::default(), &modules).unwrap();
    let mesh = runtimes.get::<MeshRuntime>().unwrap();
    let events = runtimes.get::<EventsRuntime>().unwrap();

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller = Caller {
        module: Arc::from("gateway"),
        traceparent: Some(format!("00-{trace_id}-00f067aa0ba902b7-01")),
        hops: 0,
    };
    let request = http::Request::post("http://test.echo/exec/counter")
        .body(
            Full::new(Bytes::from_static(br#"{"id": "a", "by": 2}"#))
                .map_err(|never| match never {})
                .boxed_unsync(),
        )
        .unwrap();
    let response = mesh.dispatch(&caller, request).await;
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let executed: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(executed["events"], 1);

    let stored = events
        .store()
        .read(&Query::all(), ReadOptions::default())
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].correlation_id.as_deref(), Some(trace_id));
    runtimes.shutdown().await;
}
