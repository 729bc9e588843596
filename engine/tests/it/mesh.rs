//! The mesh with the other models, assembled: a service executes a command
//! of the events model, and the request's trace becomes the events'
//! correlation id; a service queries a projector's read model.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use wbx_core::capability::CommandRequest;
use wbx_core::host_http::Caller;
use wbx_core::project::{Manifest, ModuleDecl, StateLayout};
use wbx_core::{Engine, Limits, ModuleKind, Runtimes};
use wbx_events::EventsRuntime;
use wbx_events::kinds::{COMMAND, EFFECT};
use wbx_events::layout::EventsLayout;
use wbx_events::{Query, ReadOptions};
use wbx_mesh::MeshRuntime;
use wbx_mesh::kinds::SERVICE;

use crate::support::{engine_of, guest, wait_until};

/// Every registered model over an engine with these test guests, each
/// declared as (name, kind, namespace); `before` prepares the state first.
struct Assembled {
    _dir: tempfile::TempDir,
    runtimes: Runtimes,
    mesh: Arc<MeshRuntime>,
    events: Arc<EventsRuntime>,
}

fn assembled(
    guests: &[(&str, ModuleKind, Option<&str>)],
    before: impl FnOnce(&StateLayout),
) -> Assembled {
    let dir = tempfile::tempdir().unwrap();
    let state = StateLayout::new(dir.path().join(".wbx"));
    let models = wbx_engine::models::models();
    let engine: Arc<Engine> = Arc::new(engine_of(state.dir(), Limits::default(), models.catalog()));
    let mut modules = Vec::new();
    for (name, kind, namespace) in guests {
        engine
            .load_file(name, *kind, "0.1.0", &guest(name))
            .unwrap();
        modules.push(ModuleDecl::prebuilt(name, *kind, *namespace, guest(name)));
    }
    before(&state);
    let runtimes =
        Runtimes::open(&models, &engine, &state, &Manifest::default(), &modules).unwrap();
    Assembled {
        _dir: dir,
        mesh: runtimes.get::<MeshRuntime>().unwrap(),
        events: runtimes.get::<EventsRuntime>().unwrap(),
        runtimes,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_executes_a_command_in_the_trace_of_its_request() {
    let Assembled {
        _dir,
        runtimes,
        mesh,
        events,
    } = assembled(
        &[("echo", SERVICE, Some("test")), ("counter", COMMAND, None)],
        |_| {},
    );

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_effect_calls_a_service_without_listing_it() {
    let Assembled {
        _dir,
        runtimes,
        mesh,
        events,
    } = assembled(
        &[
            ("echo", SERVICE, Some("test")),
            ("counter", COMMAND, None),
            ("webhook", EFFECT, None),
        ],
        |state| {
            wbx_events::host_sql::open_database(&state.effect_db("webhook"))
                .unwrap()
                .execute_batch(
                    "CREATE TABLE config (url TEXT NOT NULL); \
                     INSERT INTO config VALUES ('http://test.echo/echo');",
                )
                .unwrap();
        },
    );
    events
        .execute(CommandRequest {
            command: "counter".into(),
            input: r#"{"id": "a", "by": 1}"#.into(),
            ..CommandRequest::default()
        })
        .await
        .unwrap();
    runtimes.start();
    wait_until("the effect's call to reach the service", || {
        mesh.calls_since(0, 10)
            .iter()
            .any(|c| c.caller == "webhook")
    })
    .await;
    let call = mesh.calls_since(0, 10).pop().unwrap();
    assert_eq!(
        (call.callee.as_str(), call.path.as_str(), call.status),
        ("echo", "/echo", 200)
    );
    assert!(call.request_body.unwrap().contains("\"id\""));
    runtimes.shutdown().await;
}
