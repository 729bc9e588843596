//! The assembled control API over real HTTP: the engine's own routes, every
//! model's routes mounted beside them, and what guards them all.

use std::sync::Arc;

use serde_json::{Value, json};
use wbx_core::project::{Manifest, StateLayout};
use wbx_core::{Limits, Runtimes};

use crate::events_support::engine_in;

/// Serves the whole API for an empty project; returns its base URL.
fn serve() -> (tempfile::TempDir, String, tokio::runtime::Runtime) {
    let dir = tempfile::tempdir().unwrap();
    let state = StateLayout::new(dir.path().join(".wbx"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let base = rt.block_on(async {
        let engine = Arc::new(engine_in(state.dir(), Limits::default()));
        let models = wbx_engine::models::models();
        let runtimes = Runtimes::open(&models, &engine, &state, &Manifest::default(), &[]).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let root = dir.path().to_owned();
        tokio::spawn(wbx_engine::api::serve(
            listener,
            engine,
            runtimes,
            root,
            std::future::pending(),
        ));
        base
    });
    (dir, base, rt)
}

fn post(base: &str, path: &str) -> ureq::RequestBuilder<ureq::typestate::WithBody> {
    ureq::post(format!("{base}{path}"))
        .config()
        .http_status_as_error(false)
        .build()
}

#[test]
fn the_engine_and_every_model_answer_on_one_address() {
    let (dir, base, _rt) = serve();
    let health: Value = ureq::get(format!("{base}/api/health"))
        .call()
        .unwrap()
        .into_body()
        .read_json()
        .unwrap();
    assert_eq!(health["pid"], std::process::id());
    assert_eq!(health["project"], json!(dir.path()));
    let modules: Value = ureq::get(format!("{base}/api/modules"))
        .call()
        .unwrap()
        .into_body()
        .read_json()
        .unwrap();
    assert_eq!(modules, json!([]));
    // The events model's routes, mounted beside the engine's.
    let events: Value = ureq::get(format!("{base}/api/events"))
        .call()
        .unwrap()
        .into_body()
        .read_json()
        .unwrap();
    assert_eq!(events, json!([]));
}

#[test]
fn an_oversized_body_is_refused() {
    let (_dir, base, _rt) = serve();
    let big = "x".repeat(wbx_core::api::BODY_LIMIT + 1);
    let answer = post(&base, "/dcb/append").send(big).unwrap();
    assert_eq!(answer.status(), 413, "an oversized body is refused");
}

#[test]
fn requests_a_web_page_could_make_are_refused() {
    let (_dir, base, _rt) = serve();
    let call = |origin: Option<&str>, host: Option<&str>| {
        let mut request = post(&base, "/dcb/append");
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(host) = host {
            request = request.header("host", host);
        }
        let body = json!({"events": [{"type": "Evil", "tags": [], "data": null}]});
        request.send_json(body).unwrap().status().as_u16()
    };
    assert_eq!(call(Some("https://evil.example"), None), 403);
    assert_eq!(call(None, Some("evil.example:80")), 403);
    assert_eq!(call(None, None), 200, "a local tool is served");
    let read: Vec<Value> = ureq::get(format!("{base}/dcb/read"))
        .call()
        .unwrap()
        .into_body()
        .read_json()
        .unwrap();
    assert_eq!(read.len(), 1, "only the local append went through");
}
