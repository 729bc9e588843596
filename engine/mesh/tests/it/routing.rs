//! Module to module: calls routed in-process, the mesh's answers, limits,
//! the breaker, streaming, and hot swap under load.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use tempfile::TempDir;
use wasmtime_wasi_http::WasiBody;
use wbx_core::capability::Capabilities;
use wbx_core::host_http::Caller;
use wbx_core::project::{Manifest, ModuleDecl};
use wbx_core::{Catalog, Engine, Limits, Tier};
use wbx_mesh::MeshRuntime;
use wbx_mesh::breaker::BreakerState;
use wbx_mesh::kinds::SERVICE;
use wbx_mesh::settings::settings;

use crate::support::{engine_of, guest, on_both_tiers, swap_in};

/// Services loaded under their names, in namespace `test`, with `toml`
/// as `wbx.toml`.
pub struct Mesh {
    _dir: TempDir,
    pub engine: Arc<Engine>,
    pub runtime: Arc<MeshRuntime>,
}

pub fn mesh(services: &[(&str, &str)], toml: &str) -> Mesh {
    let paths: Vec<(&str, std::path::PathBuf)> =
        services.iter().map(|(name, g)| (*name, guest(g))).collect();
    let services: Vec<(&str, &std::path::Path)> = paths
        .iter()
        .map(|(name, path)| (*name, path.as_path()))
        .collect();
    mesh_of(&services, toml)
}

/// Services loaded from the components at the given paths.
pub fn mesh_of(services: &[(&str, &std::path::Path)], toml: &str) -> Mesh {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(engine_of(
        dir.path(),
        Limits::default(),
        Catalog::new(wbx_mesh::kinds::KINDS.to_vec()),
    ));
    let mut modules = Vec::new();
    for (name, path) in services {
        engine.load_file(name, SERVICE, "0.1.0", path).unwrap();
        modules.push(ModuleDecl::prebuilt(
            name,
            SERVICE,
            Some("test"),
            path.to_path_buf(),
        ));
    }
    let manifest = Manifest::parse(toml, &dir.path().join("wbx.toml"), &["mesh"]).unwrap();
    let names: Vec<String> = services.iter().map(|(n, _)| n.to_string()).collect();
    engine.set_envs(manifest.module_envs().unwrap());
    let runtime = MeshRuntime::new(
        engine.clone(),
        Arc::new(Capabilities::default()),
        &modules,
        settings(&manifest, &names).unwrap(),
    );
    engine.route_http_with(Arc::new(wbx_mesh::router::MeshRouter(runtime.clone())));
    Mesh {
        _dir: dir,
        engine,
        runtime,
    }
}

fn gateway() -> Caller {
    Caller {
        module: Arc::from("gateway"),
        traceparent: None,
        hops: 0,
    }
}

pub fn request(method: &str, url: &str, body: &str) -> http::Request<WasiBody> {
    http::Request::builder()
        .method(method)
        .uri(url)
        .body(
            Full::new(Bytes::from(body.to_owned()))
                .map_err(|never| match never {})
                .boxed_unsync(),
        )
        .unwrap()
}

/// Status, headers and the whole body (or the error that broke it off).
pub async fn send(
    mesh: &Mesh,
    method: &str,
    url: &str,
    body: &str,
) -> (u16, http::HeaderMap, Result<String, String>) {
    let response = mesh
        .runtime
        .dispatch(&gateway(), request(method, url, body))
        .await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
        .map_err(|e| e.to_string());
    (status, headers, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_calls_another_by_namespace_and_module() {
    let mesh = mesh(&[("echo", "echo"), ("wstd", "wstd-hello")], "");
    let (status, _, body) = send(&mesh, "GET", "http://test.echo/hello", "").await;
    assert_eq!((status, body.unwrap().as_str()), (200, "hello from echo"));
    // echo → wstd (another guest library's component, a binary with
    // wasi:cli/run too) and wstd's own client → echo.
    let (status, headers, body) = send(&mesh, "GET", "http://test.echo/call/test.wstd/", "").await;
    assert_eq!((status, body.unwrap().as_str()), (200, "hello from wstd"));
    assert_eq!(headers["x-callee-status"], "200");
    let (status, _, body) =
        send(&mesh, "GET", "http://test.wstd/forward/test.echo/hello", "").await;
    assert_eq!((status, body.unwrap().as_str()), (200, "hello from echo"));
    // A body goes through and comes back.
    let (status, headers, body) = send(
        &mesh,
        "POST",
        "http://test.echo/call/test.echo/echo",
        "ping",
    )
    .await;
    assert_eq!((status, body.unwrap().as_str()), (200, "ping"));
    assert_eq!(headers["x-callee-status"], "200");
    let calls = mesh.runtime.calls_since(0, 100);
    let routed = calls
        .iter()
        .find(|c| c.caller == "echo" && c.callee == "wstd")
        .unwrap();
    assert_eq!(routed.status, 200);
    assert!(routed.version.as_deref().unwrap().starts_with("0.1.0+"));
    let rows = mesh.runtime.routes();
    let wstd = rows.iter().find(|r| r.service == "wstd").unwrap();
    assert_eq!(wstd.requests, 2);
    assert!(
        wstd.callers
            .iter()
            .any(|c| c.caller == "echo" && c.requests == 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callee_sees_the_trace_and_the_caller_but_not_forged_internal_headers() {
    let mesh = mesh(&[("echo", "echo")], "");
    let mut forged = request("GET", "http://test.echo/call/test.echo/headers", "");
    forged
        .headers_mut()
        .insert("wbx-caller", "someone-else".parse().unwrap());
    let trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let caller = Caller {
        module: Arc::from("gateway"),
        traceparent: Some(trace.to_owned()),
        hops: 0,
    };
    let response = mesh.runtime.dispatch(&caller, forged).await;
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let headers: serde_json::Value = serde_json::from_slice(&body).unwrap();
    // The inner call: made by module echo, in the same trace.
    assert_eq!(headers["wbx-caller"], "echo");
    assert_eq!(headers["x-from"], "echo");
    let inner = headers["traceparent"].as_str().unwrap();
    assert!(
        inner.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{inner}"
    );
    assert_ne!(inner, trace);
    let calls = mesh.runtime.calls_since(0, 10);
    assert!(
        calls
            .iter()
            .all(|c| c.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_services_traps_and_timeouts_get_their_answers_and_the_engine_serves_on() {
    let mesh = mesh(
        &[("echo", "echo")],
        "[modules.echo]\ntimeout-ms = 300\nbreaker-failures = 100\n",
    );
    let (status, _, body) = send(&mesh, "GET", "http://test.nosuch/x", "").await;
    let body = body.unwrap();
    assert_eq!(status, 502);
    assert!(
        body.contains("'test.nosuch'") && body.contains("test.echo"),
        "{body}"
    );
    // From inside a module too: echo's call gets the 502.
    let (status, headers, body) =
        send(&mesh, "GET", "http://test.echo/call/test.nosuch/x", "").await;
    assert_eq!(
        (status, &headers["x-callee-status"]),
        (502, &"502".parse::<http::HeaderValue>().unwrap())
    );
    assert!(
        body.unwrap()
            .contains("no service answers to 'test.nosuch'")
    );

    let (status, _, body) = send(&mesh, "GET", "http://test.echo/trap", "").await;
    let body = body.unwrap();
    assert_eq!(status, 500);
    assert!(
        body.contains("service 'echo'") && body.contains("echo was asked to trap"),
        "{body}"
    );

    for path in ["/loop", "/sleep/5000"] {
        let started = Instant::now();
        let (status, _, body) = send(&mesh, "GET", &format!("http://test.echo{path}"), "").await;
        let body = body.unwrap();
        assert_eq!(status, 504, "{path}: {body}");
        assert!(body.contains("echo") && body.contains("300 ms"), "{body}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{path} took {:?}",
            started.elapsed()
        );
    }
    let (status, _, body) = send(&mesh, "GET", "http://test.echo/hello", "").await;
    assert_eq!((status, body.unwrap().as_str()), (200, "hello from echo"));
    // A memory bomb, with time enough to reach the limit on a busy machine.
    let roomy = self::mesh(&[("echo", "echo")], "");
    let (status, _, body) = send(&roomy, "GET", "http://test.echo/memory", "").await;
    let body = body.unwrap();
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("memory"), "{body}");
    let (status, _, _) = send(&roomy, "GET", "http://test.echo/hello", "").await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_after_the_head_aborts_the_body_and_the_log_says_so() {
    let mesh = mesh(&[("echo", "echo")], "");
    let (status, _, body) = send(&mesh, "GET", "http://test.echo/trap-after-head", "").await;
    assert_eq!(status, 200);
    let error = body.unwrap_err();
    assert!(error.contains("trap after the head"), "{error}");
    let call = mesh.runtime.calls_since(0, 1).pop().unwrap();
    assert!(call.aborted);
    assert!(call.error.unwrap().contains("the body was aborted"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_body_arrives_chunk_by_chunk() {
    let mesh = mesh(&[("echo", "echo")], "");
    // Through a routed call too: echo → echo's stream.
    for url in [
        "http://test.echo/stream/3",
        "http://test.echo/call/test.echo/stream/3",
    ] {
        let response = mesh
            .runtime
            .dispatch(&gateway(), request("GET", url, ""))
            .await;
        let mut body = response.into_body();
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        let mut rest = Vec::new();
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                rest.extend_from_slice(&data);
            }
        }
        // The first chunk came before the last was produced: it arrived alone.
        if url.contains("/call/") {
            // echo's /call reads the callee's body whole before answering.
            let all = [first.as_ref(), &rest].concat();
            assert_eq!(String::from_utf8_lossy(&all), "chunk 0\nchunk 1\nchunk 2\n");
        } else {
            assert_eq!(first.as_ref(), b"chunk 0\n");
            assert_eq!(String::from_utf8_lossy(&rest), "chunk 1\nchunk 2\n");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_calling_itself_ends_at_the_hop_limit() {
    let mesh = mesh(&[("echo", "echo")], "[mesh]\nmax-hops = 4\n");
    let (status, _, body) = send(&mesh, "GET", "http://test.echo/self-loop", "").await;
    assert_eq!(status, 508);
    assert!(body.unwrap().contains("hop limit"));
    let refused = mesh.runtime.calls_since(0, 100);
    assert_eq!(refused.iter().filter(|c| c.callee == "echo").count(), 5);
    assert!(refused.iter().any(|c| {
        c.error
            .as_deref()
            .is_some_and(|e| e.contains("call 5 of a chain"))
    }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breaker_opens_counts_429_goes_half_open_and_closes() {
    let mesh = mesh(
        &[("echo", "echo")],
        "[modules.echo]\nbreaker-failures = 3\nbreaker-cooldown-ms = 300\n",
    );
    let (status, _, _) = send(&mesh, "GET", "http://test.echo/status/503", "").await;
    assert_eq!(status, 503);
    let (status, _, _) = send(&mesh, "GET", "http://test.echo/status/429", "").await;
    assert_eq!(status, 429);
    assert_eq!(mesh.runtime.breaker("echo"), BreakerState::Closed);
    let (status, _, _) = send(&mesh, "GET", "http://test.echo/status/500", "").await;
    assert_eq!(status, 500);
    assert_eq!(mesh.runtime.breaker("echo"), BreakerState::Open);
    let (status, headers, body) = send(&mesh, "GET", "http://test.echo/hello", "").await;
    assert_eq!(
        (status, &headers["wbx-mesh"]),
        (503, &"refused".parse::<http::HeaderValue>().unwrap())
    );
    assert!(
        body.unwrap()
            .contains("circuit breaker of service 'echo' is open after 3")
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    // The probe fails: open again; after the next cool-down a success closes it.
    let (status, _, _) = send(&mesh, "GET", "http://test.echo/status/500", "").await;
    assert_eq!(status, 500);
    assert_eq!(mesh.runtime.breaker("echo"), BreakerState::Open);
    tokio::time::sleep(Duration::from_millis(350)).await;
    let (status, _, _) = send(&mesh, "GET", "http://test.echo/hello", "").await;
    assert_eq!(status, 200);
    assert_eq!(mesh.runtime.breaker("echo"), BreakerState::Closed);
    assert_eq!(mesh.runtime.routes()[0].breaker, "closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_and_body_limits_answer_503_and_413() {
    let mesh = Arc::new(mesh(
        &[("echo", "echo")],
        "[modules.echo]\nconcurrency = 1\nqueue = 1\nbody-limit-kb = 1\nbreaker-failures = 100\n",
    ));
    // One served (sleeping), one waiting, the third refused.
    let slow = |mesh: Arc<Mesh>| {
        tokio::spawn(async move { send(&mesh, "GET", "http://test.echo/sleep/600", "").await.0 })
    };
    let first = slow(mesh.clone());
    crate::support::wait_until("one request served", || {
        mesh.runtime.in_flight("echo") == (1, 0)
    })
    .await;
    let second = slow(mesh.clone());
    crate::support::wait_until("one request waiting", || {
        mesh.runtime.in_flight("echo") == (1, 1)
    })
    .await;
    let (status, _, body) = send(&mesh, "GET", "http://test.echo/hello", "").await;
    assert_eq!(status, 503);
    assert!(body.unwrap().contains("over the concurrency limit"));
    assert_eq!((first.await.unwrap(), second.await.unwrap()), (200, 200));

    let big = "x".repeat(2048);
    let (status, _, body) = send(&mesh, "POST", "http://test.echo/echo", &big).await;
    assert_eq!(status, 413);
    assert!(body.unwrap().contains("limit of 1024 bytes"));
    let (status, _, body) = send(&mesh, "POST", "http://test.echo/echo", "small").await;
    assert_eq!((status, body.unwrap().as_str()), (200, "small"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_hosts_only_when_allowed_and_env_from_wbx_toml() {
    let mesh = mesh(
        &[("echo", "echo")],
        "[modules.echo]\nenv = { GREETING = \"hi there\" }\n",
    );
    let (status, _, body) = send(&mesh, "GET", "http://test.echo/env/GREETING", "").await;
    assert_eq!((status, body.unwrap().as_str()), (200, "hi there"));
    let (status, _, _) = send(&mesh, "GET", "http://test.echo/env/HOME", "").await;
    assert_eq!(status, 404);
    let (status, _, body) = send(&mesh, "GET", "http://test.echo/call/127.0.0.1:9/x", "").await;
    assert_eq!(status, 502);
    assert!(body.unwrap().contains("HttpRequestDenied"));
}

on_both_tiers!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    a_swap_under_load_fails_no_request
);
async fn a_swap_under_load_fails_no_request(tier: Tier) {
    let mesh = Arc::new(mesh(&[("echo", "echo")], ""));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let mesh = mesh.clone();
        clients.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let (status, _, body) = send(&mesh, "GET", "http://test.echo/hello", "").await;
                let body = body.unwrap();
                assert_eq!(status, 200, "{body}");
                let v2 = body == "hello from echo v2";
                seen.push(v2);
                if (v2 && seen.iter().filter(|v| **v).count() > 20) || Instant::now() > deadline {
                    return seen;
                }
            }
        }));
    }
    crate::support::wait_until("requests served", || {
        mesh.runtime.calls_since(0, 100).len() > 20
    })
    .await;
    swap_in(&mesh.engine, tier, "echo", SERVICE, "echo-v2", "0.2.0");
    for client in clients {
        let seen = client.await.unwrap();
        assert!(
            seen.contains(&false) && seen.last() == Some(&true),
            "{seen:?}"
        );
    }
    assert!(
        mesh.runtime
            .calls_since(0, 1000)
            .iter()
            .all(|c| c.status == 200)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_instance_makes_many_routed_calls_each_recorded() {
    let mesh = mesh(&[("echo", "echo")], "");
    let (status, _, body) = send(
        &mesh,
        "GET",
        "http://test.echo/repeat/3/test.echo/hello",
        "",
    )
    .await;
    assert_eq!((status, body.unwrap().as_str()), (200, "3 calls, 3 ok"));
    let calls = mesh.runtime.calls_since(0, 100);
    let routed: Vec<_> = calls
        .iter()
        .filter(|c| c.caller == "echo")
        .map(|c| c.path.as_str())
        .collect();
    assert_eq!(routed, ["/hello"; 3], "{calls:#?}");
}
