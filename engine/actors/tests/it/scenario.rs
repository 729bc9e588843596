//! `wbx test`'s actor scenarios end to end: a project of one prebuilt
//! actor (the probe), its scenario files read, run on scratch state, and
//! each outcome a pass or a diff of what differs.

use std::path::Path;
use std::sync::Arc;

use tempfile::TempDir;
use wbx_actors::ActorsModel;
use wbx_actors::scenario::{self, Outcome};
use wbx_core::Models;
use wbx_core::project::Project;

use crate::support::guest;

/// A project whose only module is the probe, as a prebuilt actor, with
/// `files` (name, text) in `scenarios/actors/`.
fn probe_project(files: &[(&str, &str)]) -> (TempDir, Project) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("components")).unwrap();
    std::fs::copy(guest("probe"), root.join("components/probe.wasm")).unwrap();
    std::fs::write(
        root.join("wbx.toml"),
        "[modules.probe]\ncomponent = \"components/probe.wasm\"\nkind = \"actor\"\n",
    )
    .unwrap();
    let scenarios = root.join(scenario::DIR);
    std::fs::create_dir_all(&scenarios).unwrap();
    for (name, text) in files {
        std::fs::write(scenarios.join(name), text).unwrap();
    }
    let models = Models::new(vec![Arc::new(ActorsModel)], &[]);
    let project = Project::open(root, &models).unwrap();
    (dir, project)
}

const PASSING: &str = r#"
[[scenario]]
name = "the probe counts and sends to another process"
actor = "probe"
args = { tag = "a" }
register = "probe"
others = [{ module = "probe", register = "sink" }]
steps = [
  { send = { op = "count" } },
  { send = { op = "send", to = "sink", msg = { hello = "sink" } } },
  { call = { op = "count" }, reply = 2 },
  { call = { op = "get" }, to = "sink", reply = { count = 0 } },
]
expect = { state = { count = 2, args = { tag = "a" } }, sent = [{ to = "sink", message = { hello = "sink" } }] }

[[scenario]]
name = "the probe stops when told"
actor = "probe"
steps = [{ call = { op = "stop", reason = "done" } }]
expect.exit = "done"
"#;

const FAILING: &str = r#"
[[scenario]]
name = "a wrong count"
actor = "probe"
steps = [{ send = { op = "count" } }, { call = { op = "count" }, reply = 5 }]
expect = { state = { count = 9 }, sent = [{ to = "nobody" }] }

[[scenario]]
name = "a crash nobody expected"
actor = "probe"
steps = [{ send = { op = "stop", reason = "boom" } }]
"#;

async fn run(project: &Project) -> Vec<Outcome> {
    let scenarios = scenario::load(project).unwrap();
    let mut seen = 0;
    let outcomes = scenario::run(project, &scenarios, |_| seen += 1)
        .await
        .unwrap();
    assert_eq!(seen, outcomes.len(), "each outcome is shown as it comes");
    outcomes
}

#[tokio::test(flavor = "multi_thread")]
async fn passing_scenarios_pass_and_failing_ones_show_what_differs() {
    let (_dir, project) =
        probe_project(&[("a-passing.toml", PASSING), ("b-failing.toml", FAILING)]);
    let outcomes = run(&project).await;
    let names: Vec<_> = outcomes.iter().map(|o| o.scenario.as_str()).collect();
    assert_eq!(
        names,
        [
            "the probe counts and sends to another process",
            "the probe stops when told",
            "a wrong count",
            "a crash nobody expected",
        ]
    );
    for passed in &outcomes[..2] {
        assert!(passed.passed, "{passed:#?}");
        assert_eq!(passed.module, "probe");
    }
    assert_eq!(
        outcomes[2].file,
        Path::new("scenarios/actors/b-failing.toml")
    );
    assert_eq!(outcomes[2].line, 2);

    let wrong = &outcomes[2];
    assert!(!wrong.passed && wrong.error.is_none(), "{wrong:#?}");
    assert_eq!(
        wrong.diff.as_deref().unwrap(),
        "--- expected\n+++ actual\n@@ -1,4 +1,4 @@\n\
         -step 2 reply: 5\n-state.count: 9\n-sent[0].to: \"nobody\"\n\
         +step 2 reply: 2\n+state.count: 2\n+sent[0]: (none)\n \
         exit: (none)\n"
    );
    let crashed = &outcomes[3];
    assert!(!crashed.passed && crashed.error.is_none(), "{crashed:#?}");
    assert_eq!(
        crashed.diff.as_deref().unwrap(),
        "--- expected\n+++ actual\n@@ -1 +1 @@\n-exit: (none)\n+exit: \"boom\"\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scenario_naming_no_actor_stops_the_run_with_its_place() {
    let (_dir, project) = probe_project(&[(
        "typo.toml",
        "[[scenario]]\nname = \"typo\"\nactor = \"prob\"\n",
    )]);
    let error = scenario::load(&project).unwrap_err().to_string();
    assert_eq!(
        error,
        "scenarios/actors/typo.toml:3:9: scenario 'typo': no actor module named 'prob' in \
         this project; actors: probe"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_actor_that_cannot_start_is_an_error_not_a_diff() {
    let (_dir, project) = probe_project(&[(
        "init.toml",
        "[[scenario]]\nname = \"bad args\"\nactor = \"probe\"\nargs = { fail_init = \"no\" }\n",
    )]);
    let outcomes = run(&project).await;
    let error = outcomes[0].error.as_deref().unwrap_or_default();
    assert!(
        !outcomes[0].passed && error.starts_with("cannot start the actor 'probe'"),
        "{:#?}",
        outcomes[0]
    );
}
