//! Pipelines with the events model, assembled: a flow that starts from the
//! events of the log (what is there, then each new one), and a sink that
//! ends a flow in the log by executing a command.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wbx_core::capability::CommandRequest;
use wbx_core::project::{Manifest, ModuleDecl, StateLayout};
use wbx_core::{Engine, Limits, Runtimes};
use wbx_events::EventsRuntime;
use wbx_events::kinds::COMMAND;
use wbx_pipelines::PipelineRuntime;
use wbx_pipelines::element::NewElement;
use wbx_pipelines::kinds::SINK;

use crate::support::{engine_of, guest};

const FLOWS: &str = r#"
[flows.counted]
start = false
[flows.counted.nodes]
log = { source = "events", types = ["Incremented"], tags = ["counter:a"] }
sink = "collect"
[[flows.counted.edges]]
from = "log"
to = "sink"

[flows.ledger]
start = false
[flows.ledger.nodes]
input = { source = "push" }
sink = { module = "collect", config = { exec = "counter" } }
[[flows.ledger.edges]]
from = "input"
to = "sink"
"#;

struct Assembled {
    _dir: tempfile::TempDir,
    runtimes: Runtimes,
    events: Arc<EventsRuntime>,
    flows: Arc<PipelineRuntime>,
}

async fn assembled() -> Assembled {
    let dir = tempfile::tempdir().unwrap();
    let state = StateLayout::new(dir.path().join(".wbx"));
    state.create().unwrap();
    let models = wbx_engine::models::models();
    let engine: Arc<Engine> = Arc::new(engine_of(state.dir(), Limits::default(), models.catalog()));
    let mut modules = Vec::new();
    for (name, kind) in [("counter", COMMAND), ("collect", SINK)] {
        engine.load_file(name, kind, "0.1.0", &guest(name)).unwrap();
        modules.push(ModuleDecl::prebuilt(name, kind, None, guest(name)));
    }
    let manifest =
        Manifest::parse(FLOWS, &dir.path().join("wbx.toml"), &models.sections()).unwrap();
    let runtimes = Runtimes::open(&models, &engine, &state, &manifest, &modules).unwrap();
    Assembled {
        events: runtimes.get::<EventsRuntime>().unwrap(),
        flows: runtimes.get::<PipelineRuntime>().unwrap(),
        runtimes,
        _dir: dir,
    }
}

impl Assembled {
    async fn count(&self, id: &str) {
        let request = CommandRequest {
            command: "counter".into(),
            input: json!({ "id": id, "by": 1 }).to_string(),
            ..CommandRequest::default()
        };
        self.events.execute(request).await.unwrap();
    }
}

async fn until(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "waited a minute for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_events_source_catches_up_then_follows_the_log() {
    let a = assembled().await;
    a.count("a").await;
    a.count("b").await;
    a.count("a").await;
    let mut tap = a.flows.tap("counted", "log", None, "sink").unwrap();
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let into = seen.clone();
    tokio::spawn(async move {
        while let Ok(element) = tap.recv().await {
            into.lock().unwrap().push(element.payload.unwrap());
        }
    });
    a.flows.start_flow("counted").await.unwrap();
    until("the two past events of counter a", || {
        seen.lock().unwrap().len() == 2
    })
    .await;
    a.count("a").await;
    a.count("b").await;
    until("the live event", || seen.lock().unwrap().len() == 3).await;

    let events = seen.lock().unwrap().clone();
    let positions: Vec<u64> = events
        .iter()
        .map(|e| e["position"].as_u64().unwrap())
        .collect();
    assert_eq!(
        positions,
        [1, 3, 4],
        "only counter a's, in log order: {events:#?}"
    );
    assert!(events.iter().all(|e| e["type"] == json!("Incremented")));
    assert_eq!(events[2]["data"]["total"], json!(3));
    a.runtimes.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_ends_a_flow_in_the_event_log() {
    let a = assembled().await;
    a.flows.start_flow("ledger").await.unwrap();
    let inputs = ["x", "y", "x"]
        .iter()
        .map(|id| NewElement::json(json!({ "id": id, "by": 2 }).to_string()))
        .collect();
    a.flows.push("ledger", None, inputs).await.unwrap();
    until("three events", || a.events.store().head() == 3).await;
    // The sink's call returns (and its batch is counted) after the
    // commands it executed have appended.
    until("the sink's batch taken", || {
        a.flows.flow("ledger").unwrap().stages[1].out == 3
    })
    .await;
    assert_eq!(a.events.store().head(), 3, "each element executed once");
    a.runtimes.shutdown().await;
}
