//! A toy model (`engine/tests/toy`: one kind, one world, one table of
//! `wbx.toml`, one route, one observation, one bench scenario) registered
//! the way `engine/src/models.rs` registers the real ones. Everything that
//! iterates the registered models takes it: the kinds projects declare,
//! `wbx.toml`, doctor, loading and linking, the runtimes, the swaps handed
//! to their model, the control API, the observation stream and the bench.
//! Its pane is the interface's side of the same proof (`tui/tests/views.rs`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use wbx_core::bench::{BenchGuests, BenchOptions};
use wbx_core::project::{Manifest, StateLayout};
use wbx_core::{Engine, EngineConfig, Limits, Models, Runtimes};
use wbx_events::kinds::COMMAND;
use wbx_events::{EventsModel, EventsRuntime};
use wbx_toy::{TOY, ToyModel, ToyObservation, ToyRuntime};

use crate::support::{guest, guest_bytes};

/// The real models, as `engine/src/models.rs` lists them, and the toy.
fn with_toy() -> Models {
    Models::new(
        vec![Arc::new(EventsModel), Arc::new(ToyModel)],
        wbx_engine::models::PLANNED,
    )
}

fn manifest(text: &str, models: &Models) -> Result<Manifest, String> {
    Manifest::parse(text, Path::new("wbx.toml"), &models.sections()).map_err(|e| e.to_string())
}

#[test]
fn the_toy_kind_and_table_are_known_wherever_they_are_read() {
    let (models, real) = (with_toy(), wbx_engine::models::models());
    assert_eq!(models.catalog().parse("toy"), Ok(TOY));
    assert_eq!(
        models.catalog().running(),
        "command, projector, effect, toy"
    );
    let unknown = real.catalog().parse("toy").unwrap_err();
    assert!(unknown.starts_with("unknown kind 'toy'"), "{unknown}");

    let text = "[toy]\ngreeting = \"hello\"\n";
    let toml = manifest(text, &models).unwrap();
    assert_eq!(models.check(&toml, &[]), Ok(Vec::new()));
    let refused = manifest(text, &real).unwrap_err();
    assert!(
        refused.starts_with("wbx.toml:1:2: unknown field `toy`"),
        "{refused}"
    );
    let misspelt = manifest("[toy]\ngreting = \"x\"\n", &models).unwrap();
    let error = models.check(&misspelt, &[]).unwrap_err().to_string();
    assert!(
        error.starts_with("wbx.toml:2:1: unknown field `greting`"),
        "{error}"
    );
}

/// A project of one toy crate (not built: doctor reads its declaration).
fn toy_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("wbx.toml", "[toy]\ngreeting = \"hello\"\n");
    write(
        "Cargo.toml",
        "[workspace]\nresolver = \"3\"\nmembers = [\"ping\"]\n",
    );
    write(
        "ping/Cargo.toml",
        "[package]\nname = \"ping\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [lib]\ncrate-type = [\"cdylib\"]\n\n[package.metadata.wbx]\nkind = \"toy\"\n",
    );
    write("ping/src/lib.rs", "");
    dir
}

#[test]
fn a_module_table_goes_to_the_model_of_the_module_kind() {
    let models = with_toy();
    let project = toy_project();
    let open = |text: &str| {
        std::fs::write(project.path().join("wbx.toml"), text).unwrap();
        wbx_core::project::Project::open(project.path(), &models).map_err(|e| format!("{e:#}"))
    };
    let project_open = open("[modules.ping]\nloud = true\n").unwrap();
    assert_eq!(project_open.modules[0].kind, TOY);
    let misspelt = open("[toy]\n\n[modules.ping]\nlowd = true\n").unwrap_err();
    assert!(
        misspelt.contains("wbx.toml:4:1: unknown field `lowd`"),
        "{misspelt}"
    );
    let nobody = open("[modules.pong]\nloud = true\n").unwrap_err();
    assert!(
        nobody.contains(
            "wbx.toml:1:10: [modules.pong]: no module named 'pong' in this project (modules: ping)"
        ),
        "{nobody}"
    );
}

#[test]
fn doctor_checks_a_project_against_the_registered_kinds() {
    let project = toy_project();
    let report = wbx_core::doctor::run(project.path(), &with_toy());
    let crates = report
        .checks
        .iter()
        .find(|c| c.name == "guest crates")
        .expect("a guest crates check");
    assert!(crates.ok, "{crates:?}");
    assert_eq!(crates.detail, "ping (toy)");

    let without = wbx_core::doctor::run(project.path(), &wbx_engine::models::models());
    let failed: Vec<_> = without.checks.iter().filter(|c| !c.ok).collect();
    assert!(
        failed
            .iter()
            .any(|c| c.detail.contains("unknown field `toy`")),
        "{failed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_toy_module_loads_runs_and_answers_through_the_assembled_api() {
    let dir = tempfile::tempdir().unwrap();
    let state = StateLayout::new(dir.path().join(".wbx"));
    let models = with_toy();
    let engine = Arc::new(
        Engine::new(EngineConfig {
            cache_dir: Some(state.cache_dir()),
            log_dir: Some(state.logs_dir()),
            limits: Limits::default(),
            kinds: models.catalog(),
        })
        .unwrap(),
    );
    engine
        .load_file("toy", TOY, "0.1.0", &guest("toy"))
        .unwrap();
    engine
        .load_file("greeter", COMMAND, "0.1.0", &guest("greeter"))
        .unwrap();
    // Each kind links its own world only.
    let as_command = engine
        .load_file("wrong", COMMAND, "0.1.0", &guest("toy"))
        .unwrap_err();
    assert!(
        format!("{as_command:#}").contains(
            "a command must implement world 'wbx:guest/command-module' and export \
             'wbx:guest/command@0.1.0', but this component exports wbx:toy/toy@0.1.0"
        ),
        "{as_command:#}"
    );
    let as_toy = engine
        .load_file("wrong-too", TOY, "0.1.0", &guest("greeter"))
        .unwrap_err();
    assert!(
        format!("{as_toy:#}").contains("a toy must implement world 'wbx:toy/toy-module'"),
        "{as_toy:#}"
    );

    let settings = manifest("[toy]\ngreeting = \"hello\"\n", &models).unwrap();
    let runtimes = Runtimes::open(&models, &engine, &state, &settings, &[]).unwrap();
    let toy = runtimes
        .get::<ToyRuntime>()
        .expect("the toy's runtime opens with the others");
    assert!(runtimes.get::<EventsRuntime>().is_some());
    // A swap goes to the model of the module's kind, and only to it.
    runtimes.module_swapped("toy", TOY);
    runtimes.module_swapped("greeter", COMMAND);
    assert_eq!(toy.swaps(), 1);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(wbx_engine::api::serve(
        listener,
        engine.clone(),
        runtimes.clone(),
        dir.path().to_owned(),
        std::future::pending(),
    ));
    let get = |path: String| {
        tokio::task::spawn_blocking(move || -> serde_json::Value {
            ureq::get(path)
                .call()
                .unwrap()
                .into_body()
                .read_json()
                .unwrap()
        })
    };
    let mut observations = engine.subscribe();
    let answer = get(format!("{base}/api/toy/toy/ping?text=hi"))
        .await
        .unwrap();
    assert_eq!(answer["answer"], "hello: pong from the toy: hi");
    let pinged = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let observation = observations.recv().await.unwrap();
            if let Some(pinged) = observation.model::<ToyObservation>() {
                return pinged.clone();
            }
        }
    })
    .await
    .expect("the toy's observation on the stream");
    assert_eq!(
        pinged,
        ToyObservation::Pinged {
            module: "toy".into(),
            answer: "hello: pong from the toy: hi".into()
        }
    );
    // The events model's routes answer beside the toy's.
    assert_eq!(
        get(format!("{base}/api/events")).await.unwrap(),
        serde_json::json!([])
    );

    // New settings reach the toy through the same call as every model.
    let changed = manifest("[toy]\ngreeting = \"hi\"\n", &models).unwrap();
    runtimes.apply(&changed).await.unwrap();
    let answer = get(format!("{base}/api/toy/toy/ping?text=again"))
        .await
        .unwrap();
    assert_eq!(answer["answer"], "hi: pong from the toy: again");
}

#[tokio::test]
async fn the_toy_bench_scenario_is_collected_with_the_others() {
    let guests = BenchGuests([("toy".to_owned(), guest_bytes("toy"))].into());
    let options = BenchOptions {
        scenarios: vec!["toy-ping".into()],
        repetitions: 1,
        scale: 0.05,
        store: None,
    };
    let mut measured = Vec::new();
    wbx_engine::bench::run_models(&with_toy(), &guests, &options, |m| measured.push(m.clone()))
        .await
        .unwrap();
    assert_eq!(measured.len(), 1);
    assert_eq!(measured[0].scenario, "toy-ping");
    assert!(measured[0].value > 0.0 && measured[0].baseline.is_some_and(|b| b > 0.0));

    let unknown = wbx_engine::bench::run(&guests, &options, |_| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(
        unknown.starts_with("no scenario named 'toy-ping'"),
        "{unknown}"
    );
}
