//! `wbx new`, `wbx add` and `wbx test` as a new user meets them: every
//! template made into a project that builds, passes its own scenarios and
//! serves under `wbx dev`; a module of each kind added to it; a failing
//! scenario shown as a diff; bad input refused without losing anything;
//! and the questions `wbx new` asks, answered in a real terminal (tmux).
//!
//! Generated projects build with the other tests' guests (see `support`),
//! so their dependencies compile once per run.

use std::path::{Path, PathBuf};

use crate::support::{Engine, Tmux, edit, repo_root, stderr, stdout, template_turn, wait_for, wbx};
use serde_json::{Value, json};

/// Runs wbx and insists it succeeds; its stdout.
fn ok(dir: &Path, args: &[&str]) -> String {
    let output = wbx(dir, args);
    assert!(
        output.status.success(),
        "wbx {args:?} failed:\n{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    stdout(&output)
}

/// `wbx test --json`: the outcome of every scenario.
fn scenario_outcomes(dir: &Path, extra: &[&str]) -> (bool, Vec<Value>) {
    let mut args = vec!["test", "--json"];
    args.extend(extra);
    let output = wbx(dir, &args);
    let outcomes = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    (output.status.success(), outcomes)
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.ends_with(".wbx") || path.ends_with("target") {
            continue;
        }
        if path.is_dir() {
            files.extend(all_files(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn project_templates() -> Vec<String> {
    ok(&repo_root(), &["new", "--list"])
        .lines()
        .filter(|line| !line.starts_with(' '))
        .map(|line| line.split_whitespace().next().unwrap().to_owned())
        .collect()
}

#[test]
fn every_template_builds_passes_its_scenarios_and_serves_and_takes_each_kind_of_module() {
    let templates = project_templates();
    assert_eq!(templates, ["actors", "events", "mesh", "pipeline"]);
    let home = tempfile::tempdir().unwrap();
    for template in &templates {
        let _turn = template_turn(template);
        // Every project is `demo`, as the other tests' are: the mesh
        // template's `front` has the project's name in its code.
        let name = "demo".to_owned();
        let parent = home.path().join(template);
        std::fs::create_dir_all(&parent).unwrap();
        let printed = ok(&parent, &["new", &name, "--template", template, "--yes"]);
        assert!(
            printed.contains(&format!("created {name} from the '{template}' template")),
            "{printed}"
        );
        for next in [
            format!("cd {name}"),
            "wbx build".into(),
            "wbx test".into(),
            "wbx dev".into(),
        ] {
            assert!(printed.contains(&next), "{printed}");
        }
        let dir = parent.join(&name);
        self_contained(&dir);

        ok(&dir, &["build"]);
        let (passed, outcomes) = scenario_outcomes(&dir, &["--no-build"]);
        assert!(passed, "{outcomes:#?}");
        assert!(outcomes.len() >= 3, "{outcomes:#?}");
        assert!(
            outcomes.iter().all(|o| o["passed"] == true),
            "{outcomes:#?}"
        );

        let dev = Engine::start(&dir, &["dev", "--no-tui"]);
        dev.expect_line("watching", |l| l.starts_with("dev: watching"));
        let modules = dev.get("/api/modules");
        let modules = modules.as_array().unwrap();
        assert!(!modules.is_empty());
        assert!(
            modules.iter().all(|m| m["status"] == "running"),
            "{modules:?}"
        );
        dev.stop();
    }

    // The events project: its commands through the running engine, then a
    // module of each kind added, built and tested.
    let _turn = template_turn("events");
    let dir = home.path().join("events/demo");
    let dev = Engine::start(&dir, &["dev", "--no-tui"]);
    ok(
        &dir,
        &[
            "exec",
            "add-task",
            "--input",
            r#"{"task_id":"milk","title":"Buy milk"}"#,
        ],
    );
    ok(
        &dir,
        &["exec", "complete-task", "--input", r#"{"task_id":"milk"}"#],
    );
    let query = "/api/projectors/board/query?sql=SELECT%20task_id,%20done%20FROM%20tasks";
    wait_for("the board", || {
        dev.get(query)["rows"] == json!([["milk", 1]])
    });
    dev.expect_line("the announcement", |l| {
        l == "[announce] task 'milk' is done"
    });

    // Added while `wbx dev` runs: each new module is loaded at once.
    for (kind, name) in [
        ("command", "reserve-room"),
        ("projector", "tally"),
        ("effect", "notify"),
    ] {
        let printed = ok(&dir, &["add", kind, name]);
        assert!(
            printed.starts_with(&format!("added {kind} '{name}' to the workspace")),
            "{printed}"
        );
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains(&format!("    \"{name}\",\n")),
            "{manifest}"
        );
        wait_for(&format!("{name} loaded by wbx dev"), || {
            dev.get("/api/modules")
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["name"] == name && m["status"] == "running")
        });
    }
    dev.stop();
    let output = wbx(&dir, &["add", "command", "reserve-room"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("has a module named 'reserve-room' already"),
        "{}",
        stderr(&output)
    );
    let doctor = ok(&dir, &["doctor"]);
    assert!(
        doctor.contains("reserve-room (command)")
            && doctor.contains("tally (projector)")
            && doctor.contains("notify (effect)"),
        "{doctor}"
    );
    let (passed, outcomes) = scenario_outcomes(&dir, &[]);
    assert!(passed, "{outcomes:#?}");
    for module in ["reserve-room", "tally"] {
        assert!(
            outcomes
                .iter()
                .any(|o| o["module"] == module && o["passed"] == true),
            "{module}: {outcomes:#?}"
        );
    }

    // A scenario that fails: a readable diff naming file and scenario, exit 1.
    let board = dir.join("scenarios/board.toml");
    let text = std::fs::read_to_string(&board).unwrap();
    std::fs::write(
        &board,
        text.replace(r#"["milk", "Buy milk", 1]"#, r#"["milk", "Buy milk", 0]"#),
    )
    .unwrap();
    let output = wbx(&dir, &["test", "--no-build", "board"]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let printed = stdout(&output);
    for line in [
        "FAIL scenarios/board.toml:4  the board lists tasks and what is done  (board)",
        "     --- expected",
        "     +++ actual",
        r#"     -["milk","Buy milk",0]"#,
        r#"     +["milk","Buy milk",1]"#,
    ] {
        assert!(
            printed.lines().any(|l| l == line),
            "no {line:?} in:\n{printed}"
        );
    }
    assert!(printed.contains(" failed ("), "{printed}");
}

/// Nothing in the project points outside it: no absolute paths, path
/// dependencies that stay inside, a lock of registry crates only.
fn self_contained(dir: &Path) {
    let outside = [repo_root(), dir.to_owned()];
    for file in all_files(dir) {
        let text = std::fs::read_to_string(&file).unwrap();
        for path in &outside {
            assert!(
                !text.contains(&*path.to_string_lossy()),
                "{} names {}",
                file.display(),
                path.display()
            );
        }
        if file.file_name().unwrap() == "Cargo.toml" {
            for line in text.lines().filter(|l| l.contains("path = ")) {
                let path = line
                    .split("path = \"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap();
                let target = file.parent().unwrap().join(path).canonicalize().unwrap();
                assert!(
                    target.starts_with(dir.canonicalize().unwrap()),
                    "{}: {line}",
                    file.display()
                );
            }
        }
    }
    for file in [
        ".gitignore",
        "README.md",
        "wbx.toml",
        "Cargo.lock",
        "wbx-sdk/wit/worlds.wit",
    ] {
        assert!(dir.join(file).is_file(), "no {file}");
    }
}

#[test]
fn bad_input_is_refused_and_nothing_is_lost() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let refused = |args: &[&str], wanted: &str| {
        let output = wbx(dir, args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let text = stderr(&output);
        assert!(text.contains(wanted), "{args:?}: {text}");
    };
    refused(
        &["new", "--yes"],
        "a project name is needed when wbx new does not ask",
    );
    refused(&["new", "My App", "--yes"], "'My App' is not a usable name");
    refused(
        &["new", "app", "--template", "nope"],
        "no project template named 'nope'; templates: actors, events, mesh, pipeline",
    );
    refused(
        &["new", "app", "--yes", "--set", "colour=red"],
        "template 'events' has no parameter 'colour'; its parameters: description",
    );

    std::fs::create_dir(dir.join("app")).unwrap();
    std::fs::write(dir.join("app/notes.txt"), "mine").unwrap();
    refused(
        &["new", "app", "--yes"],
        "exists and is not empty: choose another name, or pass --force",
    );
    assert_eq!(std::fs::read_dir(dir.join("app")).unwrap().count(), 1);

    // --force writes into it, keeping the file that was there; --set is used.
    ok(
        dir,
        &[
            "new",
            "app",
            "--yes",
            "--force",
            "--set",
            "description=Chores",
        ],
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("app/notes.txt")).unwrap(),
        "mine"
    );
    let manifest = std::fs::read_to_string(dir.join("app/wbx.toml")).unwrap();
    assert!(manifest.starts_with("# Chores\n"), "{manifest}");

    let project = dir.join("app");
    let before = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
    refused_in(
        &project,
        &["add", "gadget", "pinger"],
        "no template for 'gadget' modules; wbx adds modules of these kinds: actor, command, effect, processor, projector, service, sink, source",
    );
    refused_in(
        &project,
        &["add", "command", "Bad"],
        "'Bad' is not a usable name",
    );
    refused_in(
        &project,
        &["add", "command", "board"],
        "has a module named 'board' already",
    );
    assert_eq!(
        std::fs::read_to_string(project.join("Cargo.toml")).unwrap(),
        before
    );

    // A scenario file with a mistake: located, and nothing runs.
    std::fs::write(
        project.join("scenarios/typo.toml"),
        "[[scenario]]\nname = \"typo\"\ncommand = \"add-tsk\"\nthen = []\n",
    )
    .unwrap();
    refused_in(
        &project,
        &["test", "--no-build"],
        "error: scenarios/typo.toml:3:11: scenario 'typo': no command named 'add-tsk' in this project; commands: add-task, complete-task",
    );
}

#[test]
fn the_mesh_template_serves_through_the_gateway_tests_its_services_and_takes_a_service() {
    let _turn = template_turn("mesh");
    let home = tempfile::tempdir().unwrap();
    ok(home.path(), &["new", "demo", "--template", "mesh", "--yes"]);
    let dir = home.path().join("demo");
    self_contained(&dir);

    // Its scenarios pass as generated: front's call to greeter goes through the mesh.
    let (passed, outcomes) = scenario_outcomes(&dir, &[]);
    assert!(passed, "{outcomes:#?}");
    let front = outcomes
        .iter()
        .find(|o| o["scenario"] == "front greets through the greeter")
        .unwrap_or_else(|| panic!("{outcomes:#?}"));
    assert_eq!(front["file"], "scenarios/services/front.toml");
    assert_eq!(front["module"], "front");
    assert_eq!(front["passed"], true);

    // Served under `wbx dev`, through the gateway it writes to engine.json.
    let dev = Engine::start(&dir, &["dev", "--no-tui"]);
    dev.expect_line("watching", |l| l.starts_with("dev: watching"));
    let info: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(".wbx/engine.json")).unwrap())
            .unwrap();
    let gateway = info["gateway"].as_str().unwrap().to_owned();
    let hello = ureq::get(format!("{gateway}/demo.front/hello/ada"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    assert_eq!(hello, "hello, ada!\n");
    dev.stop();

    // A service scenario that fails: the diff names the line that differs.
    let front_file = dir.join("scenarios/services/front.toml");
    let text = std::fs::read_to_string(&front_file).unwrap();
    std::fs::write(
        &front_file,
        text.replacen(r#"body = "hello, ada!\n""#, r#"body = "hello, bob!\n""#, 1),
    )
    .unwrap();
    let output = wbx(&dir, &["test", "--no-build", "front"]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let printed = stdout(&output);
    for line in [
        "FAIL scenarios/services/front.toml:4  front greets through the greeter  (front)",
        "     --- expected",
        "     +++ actual",
        "      status: 200",
        "      header x-greeted-by: greeter",
        r#"     -body: "hello, bob!\n""#,
        r#"     +body: "hello, ada!\n""#,
    ] {
        assert!(
            printed.lines().any(|l| l == line),
            "no {line:?} in:\n{printed}"
        );
    }
    assert!(printed.contains("1 passed, 1 failed ("), "{printed}");
    std::fs::write(&front_file, text).unwrap();

    // A mistake in a service scenario is located.
    std::fs::write(
        dir.join("scenarios/services/typo.toml"),
        "[[scenario]]\nname = \"typo\"\nservice = \"frnt\"\nexpect = {}\n",
    )
    .unwrap();
    refused_in(
        &dir,
        &["test", "--no-build"],
        "error: scenarios/services/typo.toml:3:11: scenario 'typo': no service named 'frnt' in this project; services: front, greeter",
    );
    std::fs::remove_file(dir.join("scenarios/services/typo.toml")).unwrap();

    // `wbx add service`: a crate in the project's namespace that builds,
    // with scenarios that pass.
    let printed = ok(&dir, &["add", "service", "stock"]);
    assert!(
        printed.starts_with("added service 'stock' to the workspace"),
        "{printed}"
    );
    let manifest = std::fs::read_to_string(dir.join("stock/Cargo.toml")).unwrap();
    assert!(manifest.contains("namespace = \"demo\""), "{manifest}");
    let (passed, outcomes) = scenario_outcomes(&dir, &["--no-build", "stock"]);
    assert!(passed, "{outcomes:#?}");
    assert_eq!(outcomes.len(), 3, "{outcomes:#?}");
}

#[test]
fn the_actors_template_tests_its_actors_and_takes_an_actor() {
    let _turn = template_turn("actors");
    let home = tempfile::tempdir().unwrap();
    ok(
        home.path(),
        &["new", "demo", "--template", "actors", "--yes"],
    );
    let dir = home.path().join("demo");
    self_contained(&dir);
    let manifest = std::fs::read_to_string(dir.join("wbx.toml")).unwrap();
    for table in [
        "[supervisors.root]",
        "[supervisors.pool]",
        "[modules.counter]",
    ] {
        assert!(manifest.contains(table), "{table}: {manifest}");
    }

    // Its scenarios pass as generated: a worker's call reaches the counter.
    let (passed, outcomes) = scenario_outcomes(&dir, &[]);
    assert!(passed, "{outcomes:#?}");
    assert_eq!(outcomes.len(), 4, "{outcomes:#?}");
    let worker = outcomes
        .iter()
        .find(|o| o["scenario"] == "a worker adds the words it counts to the counter")
        .unwrap_or_else(|| panic!("{outcomes:#?}"));
    assert_eq!(worker["file"], "scenarios/actors/worker.toml");
    assert_eq!(worker["module"], "worker");
    assert_eq!(worker["passed"], true);

    // An actor scenario that fails: the diff names the reply that differs.
    let counter_file = dir.join("scenarios/actors/counter.toml");
    let text = std::fs::read_to_string(&counter_file).unwrap();
    std::fs::write(
        &counter_file,
        text.replacen("reply = { count = 6 }", "reply = { count = 7 }", 1),
    )
    .unwrap();
    let output = wbx(&dir, &["test", "--no-build", "counter"]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let printed = stdout(&output);
    for line in [
        "FAIL scenarios/actors/counter.toml:6  the counter adds what it is sent  (counter)",
        "     --- expected",
        "     +++ actual",
        "     -step 2 reply.count: 7",
        "     +step 2 reply.count: 6",
    ] {
        assert!(
            printed.lines().any(|l| l == line),
            "no {line:?} in:\n{printed}"
        );
    }
    assert!(printed.contains(" 1 failed ("), "{printed}");
    std::fs::write(&counter_file, text).unwrap();

    // `wbx add actor`: a crate that builds, with scenarios that pass.
    let printed = ok(&dir, &["add", "actor", "stash"]);
    assert!(
        printed.starts_with("added actor 'stash' to the workspace"),
        "{printed}"
    );
    assert!(printed.contains("scenarios/actors/stash.toml"), "{printed}");
    let manifest = std::fs::read_to_string(dir.join("stash/Cargo.toml")).unwrap();
    assert!(manifest.contains("kind = \"actor\""), "{manifest}");
    let (passed, outcomes) = scenario_outcomes(&dir, &["--no-build", "stash"]);
    assert!(passed, "{outcomes:#?}");
    assert_eq!(outcomes.len(), 2, "{outcomes:#?}");
    let doctor = ok(&dir, &["doctor"]);
    assert!(
        doctor.contains("stash (actor)") && doctor.contains("counter (actor)"),
        "{doctor}"
    );
}

#[test]
fn the_pipeline_template_tests_its_flow_counts_views_across_an_edit_and_takes_each_kind_of_stage() {
    let _turn = template_turn("pipeline");
    let home = tempfile::tempdir().unwrap();
    let dir = made_from(home.path(), "pipeline");
    let manifest = std::fs::read_to_string(dir.join("wbx.toml")).unwrap();
    for line in [
        "[flows.clicks]",
        r#"views = { source = "push" }"#,
        r#"route = { module = "route", ports = ["people", "bots"] }"#,
    ] {
        assert!(manifest.contains(line), "{line}: {manifest}");
    }

    // Its scenarios pass as generated: three processors', and the whole
    // flow's, the pushed views reaching both sinks.
    ok(&dir, &["build"]);
    let (passed, outcomes) = scenario_outcomes(&dir, &["--no-build"]);
    assert!(passed, "{outcomes:#?}");
    assert_eq!(outcomes.len(), 6, "{outcomes:#?}");
    assert_passed(
        &outcomes,
        "people's views reach the leaderboard, bots' the archive",
        "scenarios/pipelines/clicks.toml",
        "clicks",
    );

    // A processor scenario that fails: the diff names the field of the
    // element that differs, on its port.
    let top_file = dir.join("scenarios/pipelines/top-pages.toml");
    let text = std::fs::read_to_string(&top_file).unwrap();
    std::fs::write(
        &top_file,
        text.replacen(
            r#"{ page = "/pricing", views = 3, rank = 1 }"#,
            r#"{ page = "/pricing", views = 4, rank = 1 }"#,
            1,
        ),
    )
    .unwrap();
    let output = wbx(&dir, &["test", "--no-build", "top-pages"]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert_lines(
        &stdout(&output),
        &[
            "FAIL scenarios/pipelines/top-pages.toml:4  each view is counted and ranked  (top-pages)",
            "     --- expected",
            "     +++ actual",
            "     -default[4].views: 4",
            "     +default[4].views: 3",
        ],
    );
    std::fs::write(&top_file, text).unwrap();

    // Under `wbx dev`: pushed views reach the leaderboard, and an edited
    // `top-pages` goes on from the counts the old version had.
    let dev = Engine::start(&dir, &["dev", "--no-tui"]);
    dev.expect_line("watching", |l| l.starts_with("dev: watching"));
    wait_for("the flow running", || {
        dev.get("/api/flows/clicks")["status"] == "running"
    });
    let push = |views: Value| {
        ureq::post(format!("{}/api/flows/clicks/push", dev.api))
            .send(views.to_string())
            .unwrap_or_else(|e| panic!("push {views}: {e}"))
            .into_body()
            .read_json::<Value>()
            .unwrap()
    };
    let pushed = push(json!([
        { "page": "/docs", "user": "ann" },
        { "page": "/Docs/?ref=mail", "user": "bob" },
        { "page": "/", "user": "crawlerbot" },
    ]));
    assert_eq!(pushed["accepted"], 3, "{pushed}");
    dev.expect_line("the second view of /docs", |l| {
        l == "[leaderboard] #1 /docs: 2 views"
    });
    edit(
        &dir.join("top-pages/src/lib.rs"),
        "*count += 1;",
        "*count += 10;",
    );
    dev.expect_line("top-pages reloaded", |l| {
        l.starts_with("reloaded top-pages ")
    });
    push(json!([{ "page": "/docs", "user": "cy" }]));
    dev.expect_line("the counts carried over", |l| {
        l == "[leaderboard] #1 /docs: 12 views"
    });
    let flow = dev.get("/api/flows/clicks");
    let stage = |name: &str| {
        flow["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no stage {name}: {flow}"))
            .clone()
    };
    assert_eq!(stage("top-pages")["in"], 3, "{flow}");
    assert_eq!(stage("leaderboard")["in"], 3, "{flow}");
    assert_eq!(stage("archive")["in"], 1, "{flow}");
    dev.stop();

    // `wbx add`: a stage of each kind, each a crate that builds; the
    // processor with scenarios that pass.
    for (kind, name) in [
        ("source", "ticks"),
        ("processor", "tagger"),
        ("sink", "printer"),
    ] {
        let printed = ok(&dir, &["add", kind, name]);
        assert!(
            printed.starts_with(&format!("added {kind} '{name}' to the workspace")),
            "{printed}"
        );
        let manifest = std::fs::read_to_string(dir.join(name).join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains(&format!("kind = \"{kind}\"")),
            "{manifest}"
        );
    }
    assert!(dir.join("scenarios/pipelines/tagger.toml").is_file());
    let (passed, outcomes) = scenario_outcomes(&dir, &["--no-build", "tagger"]);
    assert!(passed, "{outcomes:#?}");
    assert_eq!(outcomes.len(), 2, "{outcomes:#?}");
    let doctor = ok(&dir, &["doctor"]);
    for module in [
        "ticks (source)",
        "tagger (processor)",
        "printer (sink)",
        "top-pages (processor)",
    ] {
        assert!(doctor.contains(module), "{module}: {doctor}");
    }
}

/// The project `demo` made in `home` from `template`, self-contained.
fn made_from(home: &Path, template: &str) -> PathBuf {
    ok(home, &["new", "demo", "--template", template, "--yes"]);
    let dir = home.join("demo");
    self_contained(&dir);
    dir
}

/// Scenario `name` of `outcomes` ran from `file` on `module`, and passed.
fn assert_passed(outcomes: &[Value], name: &str, file: &str, module: &str) {
    let outcome = outcomes
        .iter()
        .find(|o| o["scenario"] == name)
        .unwrap_or_else(|| panic!("no {name:?} in {outcomes:#?}"));
    assert_eq!(
        (&outcome["file"], &outcome["module"], &outcome["passed"]),
        (&json!(file), &json!(module), &json!(true)),
        "{outcome:#}"
    );
}

/// `printed` has each of `lines`, whole.
fn assert_lines(printed: &str, lines: &[&str]) {
    for line in lines {
        assert!(
            printed.lines().any(|l| l == *line),
            "no {line:?} in:\n{printed}"
        );
    }
}

fn refused_in(dir: &Path, args: &[&str], wanted: &str) {
    let output = wbx(dir, args);
    assert_eq!(output.status.code(), Some(1), "{args:?}");
    let text = stderr(&output);
    assert!(text.contains(wanted), "{args:?}: {text}");
}

#[test]
fn new_asks_in_a_terminal() {
    let home = tempfile::tempdir().unwrap();
    let script = format!(
        "{:?} new; echo \"wbx exited $?\"; sleep 600",
        env!("CARGO_BIN_EXE_wbx")
    );
    let tmux = Tmux::start("new", home.path(), &script, 120, 30);

    tmux.wait_for("Project name:");
    tmux.type_text("Chores");
    tmux.press(&["Enter"]);
    // A bad name is refused on the spot; the question stays.
    tmux.wait_for("is not a usable name");
    tmux.press(&["BSpace"; 6]);
    tmux.type_text("chores");
    tmux.press(&["Enter"]);
    let screen = tmux.wait_for("Template:");
    for template in [
        "actors: A counter and a pool of workers on the actors model",
        "events: A task board on the events model",
        "mesh: Two services on the mesh model",
    ] {
        assert!(screen.contains(template), "{template}: {screen}");
    }
    tmux.press(&["Enter"]);
    tmux.wait_for("Describe the project in a line");
    tmux.type_text("Our chores");
    tmux.press(&["Enter"]);
    let screen = tmux.wait_for("wbx exited");
    assert!(screen.contains("wbx exited 0"), "{screen}");
    assert!(
        screen.contains("created chores from the 'events' template"),
        "{screen}"
    );

    let manifest = std::fs::read_to_string(home.path().join("chores/wbx.toml")).unwrap();
    assert!(manifest.starts_with("# Our chores\n"), "{manifest}");
    assert!(manifest.contains("name = \"chores\""), "{manifest}");
}

#[test]
fn new_add_and_test_document_their_flags() {
    for command in ["new", "add", "test"] {
        let output = wbx(&repo_root(), &[command, "--help"]);
        assert!(output.status.success());
        insta::assert_snapshot!(format!("{command}_help"), stdout(&output));
    }
}
