//! The gateway: requests from outside by `Host` or first path segment,
//! internal headers stripped, the client's trace kept.

use std::time::Duration;

use crate::routing::mesh;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_reach_services_by_host_or_first_segment() {
    let mesh = mesh(&[("echo", "echo")], "");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(wbx_mesh::gateway::serve(
        mesh.runtime.clone(),
        listener,
        async {
            let _ = stopped.await;
        },
    ));
    let results = tokio::task::spawn_blocking(move || {
        let agent = agent();
        let get = |path: &str, host: Option<&str>| {
            let mut request = agent.get(&format!("{address}{path}"));
            if let Some(host) = host {
                request = request.header("Host", host);
            }
            let mut response = request
                .header("wbx-caller", "forged")
                .header(
                    "traceparent",
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                )
                .call()
                .unwrap();
            let status = response.status().as_u16();
            (status, response.body_mut().read_to_string().unwrap())
        };
        (
            get("/hello", Some("test.echo")),
            get("/test.echo/hello", None),
            get("/test.echo/headers", None),
            get("/test.nosuch/hello", None),
            get("/hello", None),
        )
    })
    .await
    .unwrap();
    let (by_host, by_path, headers, unknown, unaddressed) = results;
    assert_eq!(by_host, (200, "hello from echo".to_owned()));
    assert_eq!(by_path, (200, "hello from echo".to_owned()));
    let headers: serde_json::Value = serde_json::from_str(&headers.1).unwrap();
    assert!(headers.get("wbx-caller").is_none(), "{headers}");
    assert!(
        headers["traceparent"]
            .as_str()
            .unwrap()
            .starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-")
    );
    assert_eq!(unknown.0, 502);
    assert!(
        unknown.1.contains("'test.nosuch'") && unknown.1.contains("test.echo"),
        "{}",
        unknown.1
    );
    assert_eq!(unaddressed.0, 502);
    assert!(
        unaddressed.1.contains("known services: test.echo"),
        "{}",
        unaddressed.1
    );
    let calls = mesh.runtime.calls_since(0, 10);
    // Each read to its end by the client: recorded whole, none abandoned.
    let echo: Vec<_> = calls.iter().filter(|c| c.callee == "echo").collect();
    assert!(
        echo.iter()
            .all(|c| c.caller == "gateway" && c.error.is_none() && !c.aborted),
        "{echo:#?}"
    );
    stop.send(()).unwrap();
    served.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_reaches_an_outside_host_only_when_its_table_allows_it() {
    // The "outside" host is this mesh's own gateway, over real TCP.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let outside = listener.local_addr().unwrap().to_string();
    let mesh = mesh(
        &[("echo", "echo"), ("other", "echo")],
        &format!("[modules.echo]\nallow-http = [\"{outside}\"]\n"),
    );
    let served = tokio::spawn(wbx_mesh::gateway::serve(
        mesh.runtime.clone(),
        listener,
        std::future::pending(),
    ));
    let through = format!("http://test.echo/call/{outside}/test.echo/hello");
    let (status, headers, body) = crate::routing::send(&mesh, "GET", &through, "").await;
    assert_eq!((status, body.unwrap().as_str()), (200, "hello from echo"));
    assert_eq!(headers["x-callee-status"], "200");
    // The same request from a service whose table allows nothing.
    let denied = format!("http://test.other/call/{outside}/test.echo/hello");
    let (status, _, body) = crate::routing::send(&mesh, "GET", &denied, "").await;
    assert_eq!(status, 502);
    assert!(body.unwrap().contains("HttpRequestDenied"));
    served.abort();
}
