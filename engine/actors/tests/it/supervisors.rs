//! Supervisors: each strategy, the restart types, the restart intensity
//! and its escalation, trees from `wbx.toml` (nested) and from a guest.

use serde_json::{Value, json};
use wbx_actors::ActorObservation;
use wbx_core::observe::Subscription;

use crate::support::wait_until;
use crate::{Actors, actors, exit_reason};

const THREE: &str = r#"
[supervisors.root]
strategy = "STRATEGY"
intensity = 10
period-s = 5
children = [
  { id = "a", module = "probe", register = "a" },
  { id = "b", module = "probe", register = "b" },
  { id = "c", module = "probe", register = "c" },
]
"#;

async fn pids(a: &Actors) -> Vec<String> {
    let mut pids = Vec::new();
    for name in ["a", "b", "c"] {
        let name = name.to_owned();
        let runtime = a.runtime.clone();
        wait_until("the child to be registered", || {
            runtime.system().table.whereis(&name).is_some()
        })
        .await;
        pids.push(
            a.call(&name, json!({"op": "self"}))
                .await
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    pids
}

/// Waits for a restart of child `id` and returns its new pid.
async fn restarted(stream: &mut Subscription, id: &str) -> String {
    tokio::time::timeout(std::time::Duration::from_secs(20), restart_of(stream, id))
        .await
        .unwrap_or_else(|_| panic!("no restart of {id} within 20 s"))
}

async fn restart_of(stream: &mut Subscription, id: &str) -> String {
    loop {
        let Ok(observation) = stream.recv().await else {
            continue;
        };
        if let Some(ActorObservation::Restarted { child, new_pid, .. }) =
            observation.model::<ActorObservation>()
            && child == id
        {
            return new_pid.clone();
        }
    }
}

async fn crash_b(strategy: &str) -> (Vec<String>, Vec<String>, Actors) {
    let a = actors(&[("probe", "probe")], &THREE.replace("STRATEGY", strategy)).await;
    let before = pids(&a).await;
    let mut stream = a.engine.subscribe();
    a.send("b", json!({"op": "stop", "reason": "crash"}));
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        restarted(&mut stream, "b"),
    )
    .await;
    let after = pids(&a).await;
    (before, after, a)
}

#[tokio::test(flavor = "multi_thread")]
async fn one_for_one_restarts_only_the_child_that_exited() {
    let (before, after, a) = crash_b("one-for-one").await;
    assert_eq!(after[0], before[0]);
    assert_ne!(after[1], before[1]);
    assert_eq!(after[2], before[2]);
    let row = a.row("b").unwrap();
    assert_eq!(row.restarts, 1);
    assert_eq!(row.last_exit.as_deref(), Some("crash"));
    assert_eq!(row.child_id.as_deref(), Some("b"));
}

#[tokio::test(flavor = "multi_thread")]
async fn one_for_all_restarts_every_child() {
    let (before, after, _a) = crash_b("one-for-all").await;
    for i in 0..3 {
        assert_ne!(after[i], before[i], "child {i}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rest_for_one_restarts_the_child_and_those_started_after_it() {
    let (before, after, _a) = crash_b("rest-for-one").await;
    assert_eq!(after[0], before[0]);
    assert_ne!(after[1], before[1]);
    assert_ne!(after[2], before[2]);
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_types_decide_what_comes_back() {
    let toml = r#"
[supervisors.root]
children = [
  { id = "t", module = "probe", restart = "transient", register = "t" },
  { id = "tmp", module = "probe", restart = "temporary", register = "tmp" },
  { id = "t2", module = "probe", restart = "transient", register = "t2" },
]
"#;
    let a = actors(&[("probe", "probe")], toml).await;
    let t = a.call("t", json!({"op": "self"})).await;
    let tmp = a.call("tmp", json!({"op": "self"})).await;
    let mut stream = a.engine.subscribe();
    // A transient child ending normally stays down.
    a.send("t", json!({"op": "stop", "reason": "normal"}));
    exit_reason(&mut stream, t.as_str().unwrap()).await;
    // A temporary child is never restarted, even after a crash.
    a.send("tmp", json!({"op": "stop", "reason": "crash"}));
    exit_reason(&mut stream, tmp.as_str().unwrap()).await;
    // A transient child that crashes comes back.
    a.send("t2", json!({"op": "stop", "reason": "crash"}));
    restarted(&mut stream, "t2").await;
    assert!(!a.alive("t") && !a.alive("tmp") && a.alive("t2"));
    let children = a.call("root", json!("which children")).await;
    let ids: Vec<&str> = children["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["t", "t2"], "a temporary child leaves the spec");
}

#[tokio::test(flavor = "multi_thread")]
async fn over_its_intensity_a_supervisor_exits_and_its_parent_restarts_it() {
    let toml = r#"
[supervisors.top]
intensity = 5
period-s = 60
children = [{ id = "inner", supervisor = "inner" }]

[supervisors.inner]
intensity = 2
period-s = 60
children = [{ id = "w", module = "probe", register = "w" }]
"#;
    let a = actors(&[("probe", "probe")], toml).await;
    let inner = a.call("inner", json!("which children")).await;
    assert_eq!(inner["children"][0]["id"], json!("w"));
    let inner_pid = a
        .runtime
        .system()
        .table
        .whereis("inner")
        .unwrap()
        .to_string();
    let mut stream = a.engine.subscribe();
    for crash in 0..3 {
        a.send("w", json!({"op": "stop", "reason": "crash"}));
        if crash < 2 {
            restarted(&mut stream, "w").await;
        }
    }
    // The inner supervisor exits with `shutdown` and the top one restarts
    // it: a new inner, a new w. (The top one may restart it before the
    // inner one's exit is published: either order.)
    let (mut why, mut new_inner) = (None, None);
    let seen = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while why.is_none() || new_inner.is_none() {
            let Ok(observation) = stream.recv().await else {
                continue;
            };
            match observation.model::<ActorObservation>() {
                Some(ActorObservation::Exited { pid, reason, .. }) if *pid == inner_pid => {
                    why = Some(reason.clone());
                }
                Some(ActorObservation::Restarted { child, new_pid, .. }) if child == "inner" => {
                    new_inner = Some(new_pid.clone());
                }
                _ => {}
            }
        }
    })
    .await;
    assert!(
        seen.is_ok(),
        "the inner supervisor's exit and restart within 20 s"
    );
    assert_eq!(why.as_deref(), Some("shutdown"));
    let new_inner = new_inner.unwrap();
    assert_ne!(new_inner, inner_pid);
    let runtime = a.runtime.clone();
    wait_until("w under the new inner", || {
        runtime.processes().iter().any(|p| {
            p.name.as_deref() == Some("w") && p.supervisor.as_deref() == Some(new_inner.as_str())
        })
    })
    .await;
    let tree = a.runtime.trees();
    assert_eq!(tree.len(), 1, "one tree: {tree:?}");
    assert_eq!(tree[0].name.as_deref(), Some("top"));
    assert_eq!(tree[0].children[0].name.as_deref(), Some("inner"));
    assert_eq!(tree[0].children[0].restarts, 1);
    assert_eq!(tree[0].children[0].children[0].name.as_deref(), Some("w"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guest_starts_a_supervisor() {
    let a = actors(&[("probe", "probe")], "").await;
    let owner = a.spawn("probe", json!({}), None).await;
    let spec = json!({
        "strategy": "one-for-one",
        "children": [{"id": "k", "module": "probe", "register": "k", "args": {"who": "k"}}],
    });
    let spawned = a
        .call(
            &owner,
            json!({"op": "spawn", "module": "wbx:supervisor", "args": spec, "link": true}),
        )
        .await;
    let sup = spawned["pid"].as_str().unwrap().to_owned();
    assert_eq!(a.state("k").await["args"], json!({"who": "k"}));
    let mut stream = a.engine.subscribe();
    a.runtime.kill("k").unwrap();
    restarted(&mut stream, "k").await;
    assert_eq!(
        a.row("k").unwrap().supervisor.as_deref(),
        Some(sup.as_str())
    );
    // The supervisor's parent exiting takes the tree down.
    a.send(&owner, json!({"op": "stop", "reason": "done"}));
    assert_eq!(exit_reason(&mut stream, &sup).await, "done");
    let runtime = a.runtime.clone();
    wait_until("the tree to be gone", || runtime.processes().is_empty()).await;
    let bad: Value = a
        .call(
            &a.spawn("probe", json!({}), None).await,
            json!({"op": "spawn", "module": "wbx:supervisor", "args": {"children": [{"id": "x"}]}}),
        )
        .await;
    assert!(
        bad["error"]
            .as_str()
            .unwrap()
            .contains("either a module or a supervisor"),
        "{bad}"
    );
}

#[test]
fn wbx_toml_mistakes_are_located() {
    let cases = [
        (
            "[supervisors.r]\nstrategy = \"one-for-some\"\n",
            "one-for-some",
            2,
        ),
        (
            "[supervisors.r]\nchildren = [{ id = \"x\", module = \"nope\" }]\n",
            "not an actor module",
            2,
        ),
        (
            "[supervisors.r]\nchildren = [{ id = \"x\", supervisor = \"missing\" }]\n",
            "no [supervisors.missing]",
            2,
        ),
        (
            "[supervisors.r]\nchildren = [{ id = \"x\", module = \"probe\", restart = \"always\" }]\n",
            "always",
            2,
        ),
        (
            "[supervisors.r]\nchildren = [{ id = \"x\" }]\n",
            "either a module or a supervisor",
            2,
        ),
        (
            "[supervisors.r]\nchildren = [{ id = \"x\", supervisor = \"s\" }]\n[supervisors.s]\nchildren = [{ id = \"y\", supervisor = \"r\" }]\n",
            "cycle",
            2,
        ),
        ("[modules.probe]\nmailbox = 0\n", "mailbox", 2),
        ("[supervisors.r]\nintensty = 3\n", "intensty", 2),
    ];
    for (toml, expect, line) in cases {
        let path = std::path::Path::new("wbx.toml");
        let manifest = match wbx_core::project::Manifest::parse(toml, path, &["supervisors"]) {
            Ok(m) => m,
            Err(e) => {
                let text = e.to_string();
                assert!(text.contains(expect), "{toml}: {text}");
                continue;
            }
        };
        let error = wbx_actors::settings::settings(&manifest, &["probe".to_owned()]).unwrap_err();
        let text = error.to_string();
        assert!(text.contains(expect), "{toml}: {text}");
        assert!(
            text.contains(&format!("wbx.toml:{line}:")),
            "{toml}: located: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_exit_is_one_restart_and_a_temporary_sibling_is_not_started_again() {
    let toml = r#"
[supervisors.root]
strategy = "one-for-all"
intensity = 1
period-s = 60
children = [
  { id = "a", module = "probe", register = "a" },
  { id = "b", module = "probe", register = "b" },
  { id = "t", module = "probe", register = "t", restart = "temporary" },
]
"#;
    let a = actors(&[("probe", "probe")], toml).await;
    let root = a
        .runtime
        .system()
        .table
        .whereis("root")
        .unwrap()
        .to_string();
    let mut stream = a.engine.subscribe();
    a.send("b", json!({"op": "stop", "reason": "crash"}));
    // One exit, three children stopped, one restart counted: within an
    // intensity of 1, so the supervisor stays.
    // Restarted in their start order: `a`, then `b`.
    restarted(&mut stream, "a").await;
    restarted(&mut stream, "b").await;
    assert!(a.alive(&root), "one exit counts once against the intensity");
    let children = a.call("root", json!("which children")).await;
    let ids: Vec<&str> = children["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a", "b"], "the temporary sibling left");
    assert!(!a.alive("t"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tree_changed_in_wbx_toml_is_stopped_and_started_again() {
    let a = actors(
        &[("probe", "probe")],
        &THREE.replace("STRATEGY", "one-for-one"),
    )
    .await;
    let before = pids(&a).await;
    let changed = THREE.replace("STRATEGY", "one-for-one").replace(
        "  { id = \"c\", module = \"probe\", register = \"c\" },\n",
        "",
    );
    let manifest = wbx_core::project::Manifest::parse(
        &changed,
        std::path::Path::new("wbx.toml"),
        &["supervisors"],
    )
    .unwrap();
    let applied = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        wbx_core::Runtime::apply(a.runtime.clone(), &manifest),
    )
    .await;
    applied.expect("the old tree stops within 20 s").unwrap();
    assert!(!a.alive("c"));
    let a_now = a.call("a", json!({"op": "self"})).await;
    assert_ne!(a_now, json!(before[0]), "the tree started again");
    assert_eq!(a.runtime.trees()[0].children.len(), 2);
}
