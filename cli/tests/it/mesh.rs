//! `wbx call` and `wbx routes` against a project whose only module is the
//! test guest `echo` (engine/tests/guests), as a prebuilt service
//! component: through a running engine's gateway, and with no engine.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::guests::guest;
use crate::support::{Engine, exit_code, json, stderr, stdout, wbx};

/// A project of one prebuilt service, `test.echo`, running the guest
/// `component`; `settings` go into its `[modules.echo]` table.
fn echo_project(component: &str, settings: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("components")).unwrap();
    use_component(dir.path(), component);
    std::fs::write(
        dir.path().join("wbx.toml"),
        format!(
            "[modules.echo]\ncomponent = \"components/echo.wasm\"\nkind = \"service\"\n\
             namespace = \"test\"\n{settings}"
        ),
    )
    .unwrap();
    dir
}

fn use_component(dir: &Path, component: &str) {
    std::fs::copy(guest(component), dir.join("components/echo.wasm")).unwrap();
}

#[test]
fn call_goes_through_the_running_engines_gateway_and_routes_count_the_calls() {
    let project = echo_project(
        "echo",
        "breaker-failures = 2\nbreaker-cooldown-ms = 600000\n",
    );
    let dir = project.path();
    let engine = Engine::start(dir, &["run"]);

    // Every URL form reaches the service, path unchanged.
    for url in [
        "http://test.echo/hello",
        "/test.echo/hello",
        "test.echo/hello",
    ] {
        let output = wbx(dir, &["call", url]);
        assert_eq!(exit_code(&output), 0, "{url}: {}", stderr(&output));
        assert_eq!(stdout(&output), "hello from echo\n", "{url}");
        assert!(
            !stderr(&output).contains("no engine runs"),
            "{url} went to a local engine: {}",
            stderr(&output)
        );
    }

    let included = stdout(&wbx(dir, &["call", "-i", "test.echo/hello"]));
    let (head, body) = included
        .split_once("\n\n")
        .expect("a blank line after the head");
    assert!(head.starts_with("HTTP/1.1 200 OK\n"), "{included}");
    assert!(head.lines().skip(1).all(|l| l.contains(": ")), "{included}");
    assert_eq!(body, "hello from echo\n");

    let answer = json(&wbx(dir, &["call", "--json", "test.echo/headers"]));
    assert_eq!(answer["status"], 200);
    assert!(answer["headers"].is_object(), "{answer}");
    // The body is text: here the request headers the service saw, as JSON.
    let seen: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert!(seen.to_string().contains("traceparent"), "{seen}");

    let not_found = wbx(dir, &["call", "test.echo/status/404"]);
    assert_eq!(exit_code(&not_found), 0, "a response arrived");
    assert_eq!(stdout(&not_found), "status 404\n");
    let failed = wbx(dir, &["call", "-f", "test.echo/status/404"]);
    assert_ne!(exit_code(&failed), 0, "-f with a 404");

    let file = dir.join("body.txt");
    std::fs::write(&file, "sent from a file\n").unwrap();
    let posted = wbx(
        dir,
        &[
            "call",
            "-X",
            "POST",
            "-H",
            "content-type: text/plain",
            "-d",
            &format!("@{}", file.display()),
            "test.echo/echo",
        ],
    );
    assert_eq!(exit_code(&posted), 0, "{}", stderr(&posted));
    assert_eq!(stdout(&posted), "sent from a file\n");

    // No such service: the mesh's 502, naming the address and the services.
    let unknown = wbx(dir, &["call", "-i", "test.nope/hello"]);
    assert_eq!(exit_code(&unknown), 0, "a response arrived");
    let (text, err) = (stdout(&unknown), stderr(&unknown));
    assert!(text.starts_with("HTTP/1.1 502 Bad Gateway"), "{text}");
    assert!(text.contains("wbx-mesh: refused"), "{text}");
    assert!(text.contains("'test.nope'") && text.contains("known services: test.echo"));
    assert!(err.contains("502") && err.contains("test.nope"), "{err}");

    // 3 forms + -i + --json + 2 × 404 + POST reached echo; the 502 did not.
    let routes = json(&wbx(dir, &["routes", "--json"]));
    let echo = &routes.as_array().unwrap()[0];
    for key in [
        "service", "version", "requests", "errors", "p50_ms", "p99_ms", "breaker", "callers",
    ] {
        assert!(echo.get(key).is_some(), "no {key} in {echo}");
    }
    assert_eq!(echo["service"], "echo");
    assert_eq!(echo["address"], "test.echo");
    assert_eq!(echo["requests"], 8, "{echo}");
    assert_eq!(echo["errors"], 0, "a 404 is not a failure: {echo}");
    assert_eq!(echo["breaker"], "closed");
    assert_eq!(echo["callers"][0]["caller"], "gateway");
    assert_eq!(echo["callers"][0]["requests"], 8);
    assert!(echo["p99_ms"].as_f64().unwrap() >= echo["p50_ms"].as_f64().unwrap());

    let table = stdout(&wbx(dir, &["routes"]));
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("SERVICE") && lines[0].contains("P99"),
        "{table}"
    );
    assert!(
        lines[1].starts_with("echo") && lines[1].contains("test.echo"),
        "{table}"
    );
    assert!(
        lines[1].contains(" 8 ") && lines[1].contains("closed"),
        "{table}"
    );
    assert!(lines[2].trim_start().starts_with("← gateway"), "{table}");

    // Two failures open the breaker: the refusal is on stderr too.
    for _ in 0..2 {
        let output = wbx(dir, &["call", "test.echo/status/500"]);
        assert_eq!(exit_code(&output), 0, "a response arrived");
    }
    let refused = wbx(dir, &["call", "test.echo/hello"]);
    assert_eq!(exit_code(&refused), 0, "a response arrived");
    assert!(
        stdout(&refused).contains("circuit breaker"),
        "{}",
        stdout(&refused)
    );
    assert!(stderr(&refused).contains("503"), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("circuit breaker"),
        "{}",
        stderr(&refused)
    );
    let routes = json(&wbx(dir, &["routes", "--json"]));
    assert_eq!(routes[0]["breaker"], "open", "{routes}");
    // The two 500s and the breaker's own 503: every failed answer counts.
    assert_eq!(routes[0]["errors"], 3, "{routes}");

    engine.stop();
}

#[test]
fn call_without_an_engine_boots_the_project_here_and_routes_say_none_runs() {
    let project = echo_project("echo", "");
    let dir = project.path();

    let output = wbx(dir, &["call", "test.echo/env/MISSING"]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no engine runs"),
        "{}",
        stderr(&output)
    );
    let hello = wbx(dir, &["call", "--json", "/test.echo/hello"]);
    let answer = json(&hello);
    assert_eq!(answer["status"], 200);
    assert_eq!(answer["body"], "hello from echo");

    let routes = wbx(dir, &["routes"]);
    assert_ne!(exit_code(&routes), 0);
    assert!(
        stderr(&routes).contains("no engine runs"),
        "{}",
        stderr(&routes)
    );

    let not_a_service = wbx(dir, &["call", "/hello"]);
    assert_ne!(exit_code(&not_a_service), 0);
    assert!(
        stderr(&not_a_service).contains("does not name a service"),
        "{}",
        stderr(&not_a_service)
    );
}

#[test]
fn call_against_a_kept_version_shows_how_the_answers_differ() {
    // A call with no engine boots the project, which keeps the version it
    // loaded: here echo-v2's, in the module `echo`.
    let project = echo_project("echo-v2", "");
    let dir = project.path();
    let first = wbx(dir, &["call", "test.echo/hello"]);
    assert_eq!(stdout(&first), "hello from echo v2\n", "{}", stderr(&first));
    let kept: Vec<String> = std::fs::read_dir(dir.join(".wbx/versions/echo"))
        .unwrap()
        .map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".wasm").unwrap().to_owned()
        })
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let old = &kept[0];

    use_component(dir, "echo");
    let engine = Engine::start(dir, &["run"]);
    let output = wbx(dir, &["call", "--against", old, "test.echo/hello"]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    let diff = stdout(&output);
    assert!(diff.contains("--- running engine"), "{diff}");
    assert!(diff.contains(&format!("+++ {old}")), "{diff}");
    assert!(diff.contains("\n-hello from echo\n"), "{diff}");
    assert!(diff.contains("\n+hello from echo v2\n"), "{diff}");
    assert!(
        diff.contains("\n HTTP/1.1 200 OK\n"),
        "the status is the same: {diff}"
    );

    let same = stdout(&wbx(
        dir,
        &["call", "--against", old, "test.echo/status/404"],
    ));
    assert!(same.contains("answer the same (404 Not Found)"), "{same}");

    let answer = json(&wbx(
        dir,
        &["call", "--json", "--against", old, "test.echo/hello"],
    ));
    assert_eq!(answer["current"]["body"], "hello from echo");
    assert_eq!(answer["against"]["response"]["body"], "hello from echo v2");
    assert!(
        answer["diff"]
            .as_str()
            .unwrap()
            .contains("+hello from echo v2")
    );

    // The running engine answered with the current version all along.
    let routes = json(&wbx(dir, &["routes", "--json"]));
    assert_eq!(routes[0]["requests"], 3, "{routes}");

    let unknown = wbx(
        dir,
        &["call", "--against", "0.0.0+nothing", "test.echo/hello"],
    );
    assert_ne!(exit_code(&unknown), 0);
    assert!(
        stderr(&unknown).contains(old.as_str()),
        "{}",
        stderr(&unknown)
    );

    engine.stop();
}

/// The body `wbx call` prints for `url`.
fn called(dir: &Path, url: &str) -> String {
    let output = wbx(dir, &["call", url]);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    stdout(&output).trim_end().to_owned()
}

#[test]
fn dev_swaps_a_prebuilt_component_when_its_file_changes_and_loads_new_ones() {
    let project = echo_project("echo", "env = { GREETING = \"hi\" }\n");
    let dir = project.path();
    // A project of prebuilt components only: doctor finds nothing to fix.
    let doctor = wbx(dir, &["doctor"]);
    assert_eq!(
        exit_code(&doctor),
        0,
        "{}{}",
        stdout(&doctor),
        stderr(&doctor)
    );
    assert!(
        stdout(&doctor).contains("prebuilt module"),
        "{}",
        stdout(&doctor)
    );
    let dev = Engine::start(dir, &["dev", "--no-tui"]);
    dev.expect_line("watching", |l| l.starts_with("dev: watching"));
    assert_eq!(called(dir, "test.echo/hello"), "hello from echo");
    assert_eq!(called(dir, "test.echo/env/GREETING"), "hi");

    // A new component file: no cargo, the next request gets the new version.
    let staged = dir.join("echo-v2.staged");
    std::fs::copy(guest("echo-v2"), &staged).unwrap();
    std::fs::rename(&staged, dir.join("components/echo.wasm")).unwrap();
    let (reload, _) = dev.expect_line("echo's reload", |l| l.starts_with("reloaded echo"));
    assert!(reload.contains("components/echo.wasm"), "{reload}");
    assert_eq!(called(dir, "test.echo/hello"), "hello from echo v2");

    // A new environment in wbx.toml: applied to the next instance.
    let manifest = dir.join("wbx.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("\"hi\"", "\"hello again\"")).unwrap();
    dev.expect_line("wbx.toml applied", |l| l.contains("wbx.toml"));
    assert_eq!(called(dir, "test.echo/env/GREETING"), "hello again");

    // A prebuilt module declared while it runs: loaded, and served.
    std::fs::copy(guest("wstd-hello"), dir.join("components/wstd.wasm")).unwrap();
    let text = std::fs::read_to_string(&manifest).unwrap();
    let declared = "\n[modules.wstd]\ncomponent = \"components/wstd.wasm\"\nkind = \"service\"\nnamespace = \"test\"\n";
    std::fs::write(&manifest, text + declared).unwrap();
    dev.expect_line("wstd's load", |l| l.starts_with("loaded wstd"));
    assert_eq!(called(dir, "test.wstd/"), "hello from wstd");
    dev.stop();
}

#[test]
fn the_shop_example_passes_its_scenarios_and_places_an_order_in_the_callers_trace() {
    let project = crate::support::project_copy("examples/mesh", "../../sdk");
    let dir = project.path();
    let tested = wbx(dir, &["test"]);
    assert_eq!(
        exit_code(&tested),
        0,
        "{}{}",
        stdout(&tested),
        stderr(&tested)
    );
    assert!(stdout(&tested).contains("0 failed"), "{}", stdout(&tested));

    let engine = Engine::start(dir, &["run", "--no-build"]);
    let output = wbx_with_trace(dir);
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    let placed: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(placed["duplicate"], false, "{placed}");
    // web → catalog and web → orders, each in the client's trace; the
    // command's event carries it as its correlation id.
    let calls = engine.get("/api/mesh/calls");
    let callees: Vec<_> = calls
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["trace_id"] == TRACE)
        .map(|c| {
            format!(
                "{} → {}",
                c["caller"].as_str().unwrap(),
                c["callee"].as_str().unwrap()
            )
        })
        .collect();
    for pair in ["web → catalog", "web → orders", "gateway → web"] {
        assert!(callees.contains(&pair.to_owned()), "{callees:?}");
    }
    let events = engine.get("/api/events?type=OrderPlaced");
    assert_eq!(events[0]["correlation_id"], TRACE, "{events}");
    engine.stop();
}

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// `POST /buy/mug` through the gateway, in trace [`TRACE`].
fn wbx_with_trace(dir: &Path) -> Output {
    let traceparent = format!("traceparent: 00-{TRACE}-00f067aa0ba902b7-01");
    wbx(
        dir,
        &[
            "call",
            "-X",
            "POST",
            "-H",
            &traceparent,
            "shop.web/buy/mug?order=t1&quantity=2",
        ],
    )
}
