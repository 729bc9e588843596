//! The engine core against real guest components: calls, isolation, the
//! world check, the compiled-component cache and the swap. Isolation and
//! the swap are tested on both code tiers (`on_both_tiers!`).

#![allow(clippy::print_stderr)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::events_support::engine_in;
use crate::support::{guest, guest_bytes, on_both_tiers, swap_in, wait_until};
use wbx_core::logs::LogSource;
use wbx_core::{Engine, InstanceSetup, Limits, ModuleKind, ModuleStatus, Observation, Tier};
use wbx_events::bindings::command::exports::wbx::guest::command::Error as CommandError;
use wbx_events::instances::{CommandInstance, ProjectorInstance};
use wbx_events::kinds::{COMMAND, PROJECTOR};

/// A fresh instance of the command `module`.
async fn command(engine: &Engine, module: &str) -> anyhow::Result<CommandInstance> {
    CommandInstance::new(engine, module, InstanceSetup::default()).await
}

/// Runs a command start to end with no stored events; returns the `by` field
/// of its one event, which names the crate and version that made it.
async fn greet(engine: &Engine, module: &str, name: &str) -> anyhow::Result<String> {
    let mut instance = command(engine, module).await?;
    let input = format!(r#"{{"name":"{name}"}}"#);
    instance
        .prepare(&input)
        .await?
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    instance.fold(&[]).await?;
    let events = instance
        .decide()
        .await?
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    assert_eq!(events.len(), 1);
    let data: serde_json::Value = serde_json::from_str(&events[0].data)?;
    Ok(data["by"].as_str().unwrap().to_owned())
}

fn load(engine: &Engine, name: &str, guest_name: &str, kind: ModuleKind) -> anyhow::Result<String> {
    engine
        .load_file(name, kind, "0.1.0", &guest(guest_name))
        .map(|v| v.to_string())
}

/// [`load`] with `tier`'s code.
fn load_in(engine: &Engine, tier: Tier, name: &str, guest_name: &str) -> String {
    swap_in(engine, tier, name, COMMAND, guest_name, "0.1.0").to_string()
}

#[tokio::test]
async fn a_command_runs_and_its_output_is_captured() {
    let state = tempfile::tempdir().unwrap();
    let engine = engine_in(state.path(), Limits::default());
    let mut observations = engine.subscribe();
    load(&engine, "greeter", "greeter", COMMAND).unwrap();

    let mut instance = command(&engine, "greeter").await.unwrap();
    let query = instance
        .prepare(r#"{"name":"Ada"}"#)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(query.len(), 1);
    assert_eq!(query[0].types, ["Greeted"]);
    assert_eq!(query[0].tags, ["name:Ada"]);
    instance.fold(&[]).await.unwrap();
    let events = instance.decide().await.unwrap().unwrap();
    assert_eq!(events[0].event_type, "Greeted");
    assert!(events[0].data.contains("hello, Ada"), "{}", events[0].data);
    assert!(
        events[0].data.contains("greeter 0.1.0"),
        "{}",
        events[0].data
    );

    let logs = engine.logs("greeter");
    assert!(
        logs.iter()
            .any(|l| l.source == LogSource::Log && l.text.contains("greeting Ada")),
        "{logs:?}"
    );
    assert!(
        logs.iter()
            .any(|l| l.source == LogSource::Stdout && l.text == "stdout: greeting Ada"),
        "{logs:?}"
    );
    let file = std::fs::read_to_string(state.path().join("logs/greeter.log")).unwrap();
    assert!(file.contains("[log] greeting Ada"), "{file}");
    assert!(file.contains("[stdout] stdout: greeting Ada"), "{file}");

    match observations.recv().await.unwrap() {
        Observation::ModuleLoaded { module, kind, .. } => {
            assert_eq!((module.as_str(), kind), ("greeter", COMMAND));
        }
        other => panic!("expected ModuleLoaded first, got {other:?}"),
    }
    let info = engine.modules();
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].status, ModuleStatus::Running);
}

#[tokio::test]
async fn invalid_input_and_rejection_are_distinct() {
    let state = tempfile::tempdir().unwrap();
    let engine = engine_in(state.path(), Limits::default());
    load(&engine, "greeter", "greeter", COMMAND).unwrap();

    let mut instance = command(&engine, "greeter").await.unwrap();
    let invalid = instance.prepare("{not json").await.unwrap();
    assert!(
        matches!(invalid, Err(CommandError::InvalidInput(_))),
        "{invalid:?}"
    );
    let mut instance = command(&engine, "greeter").await.unwrap();
    let rejected = instance.prepare(r#"{"name":""}"#).await.unwrap();
    assert!(
        matches!(&rejected, Err(CommandError::Rejected(m)) if m == "a greeting needs a name"),
        "{rejected:?}"
    );
}

on_both_tiers!(
    #[tokio::test]
    a_panic_is_a_clear_error_and_the_engine_keeps_serving
);
async fn a_panic_is_a_clear_error_and_the_engine_keeps_serving(tier: Tier) {
    let state = tempfile::tempdir().unwrap();
    let engine = engine_in(state.path(), Limits::default());
    let mut observations = engine.subscribe();
    load_in(&engine, tier, "misbehave", "misbehave");
    load_in(&engine, tier, "greeter", "greeter");

    let mut instance = command(&engine, "misbehave").await.unwrap();
    let error = instance
        .prepare(r#"{"do":"panic"}"#)
        .await
        .unwrap_err()
        .to_string();
    eprintln!("{error}");
    assert!(
        error.starts_with("module 'misbehave' (command 0.1.0+"),
        "{error}"
    );
    assert!(
        error.ends_with("the guest panicked at misbehave/src/lib.rs:29:29: asked to panic"),
        "{error}"
    );

    // Other modules, and fresh instances of the same one, still work.
    assert_eq!(
        greet(&engine, "greeter", "Ada").await.unwrap(),
        "greeter 0.1.0"
    );
    let mut instance = command(&engine, "misbehave").await.unwrap();
    assert!(instance.prepare(r#"{"do":"ok"}"#).await.unwrap().is_ok());

    let failed = std::iter::from_fn(|| observations.try_recv().ok())
        .find_map(|o| match o {
            Observation::CallFailed { module, error } => Some((module, error)),
            _ => None,
        })
        .expect("a CallFailed observation");
    assert_eq!(failed.0, "misbehave");
    assert!(failed.1.contains("asked to panic"));
}

on_both_tiers!(
    #[tokio::test]
    a_guest_that_exhausts_its_stack_traps_and_the_next_instance_runs
);
async fn a_guest_that_exhausts_its_stack_traps_and_the_next_instance_runs(tier: Tier) {
    let state = tempfile::tempdir().unwrap();
    let engine = engine_in(state.path(), Limits::default());
    load_in(&engine, tier, "misbehave", "misbehave");

    // Each instance after the first runs on a stack an earlier one gave
    // back (`wbx_core::stacks`), the one that ran out among them.
    for _ in 0..3 {
        let mut instance = command(&engine, "misbehave").await.unwrap();
        let error = instance
            .prepare(r#"{"do":"recurse"}"#)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.ends_with("the guest trapped: wasm trap: call stack exhausted"),
            "{error}"
        );
        let mut instance = command(&engine, "misbehave").await.unwrap();
        assert!(instance.prepare(r#"{"do":"ok"}"#).await.unwrap().is_ok());
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_looping_call_yields_to_other_calls_meanwhile() {
    let state = tempfile::tempdir().unwrap();
    // Long enough that nothing here is interrupted: the test abandons the
    // loop. A loop that kept the thread would be interrupted at last, and
    // fail the test instead of hanging it.
    let limits = Limits {
        call_timeout: Duration::from_secs(60),
        ..Limits::default()
    };
    let engine = Arc::new(engine_in(state.path(), limits));
    let mut observations = engine.subscribe();
    load(&engine, "misbehave", "misbehave", COMMAND).unwrap();
    load(&engine, "greeter", "greeter", COMMAND).unwrap();

    let looping = Arc::new(AtomicBool::new(true));
    let spinner = tokio::spawn({
        let (engine, looping) = (engine.clone(), looping.clone());
        async move {
            let mut instance = command(&engine, "misbehave").await.unwrap();
            let result = instance.prepare(r#"{"do":"loop"}"#).await;
            looping.store(false, Ordering::SeqCst);
            result
        }
    });
    // The guest logs just before it loops. On this single-threaded runtime
    // the test sees that line, and greets, only while the looping call
    // gives the thread back.
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match observations.recv().await {
                Ok(Observation::Log(line))
                    if line.module == "misbehave" && line.text == "looping" =>
                {
                    break;
                }
                Ok(_) | Err(_) => {}
            }
        }
    })
    .await
    .expect("the guest to start looping");
    assert_eq!(
        greet(&engine, "greeter", "Ada").await.unwrap(),
        "greeter 0.1.0"
    );
    assert!(
        looping.load(Ordering::SeqCst) && !spinner.is_finished(),
        "the greeting should finish while the loop runs"
    );

    // Abandoning the looping call leaves the engine serving.
    spinner.abort();
    assert!(spinner.await.unwrap_err().is_cancelled());
    let mut instance = command(&engine, "misbehave").await.unwrap();
    assert!(instance.prepare(r#"{"do":"ok"}"#).await.unwrap().is_ok());
}

on_both_tiers!(
    #[tokio::test]
    an_infinite_loop_is_interrupted_at_the_call_timeout
);
async fn an_infinite_loop_is_interrupted_at_the_call_timeout(tier: Tier) {
    let state = tempfile::tempdir().unwrap();
    let limits = Limits {
        call_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let engine = engine_in(state.path(), limits);
    load_in(&engine, tier, "misbehave", "misbehave");

    let mut instance = command(&engine, "misbehave").await.unwrap();
    let start = Instant::now();
    let error = instance
        .prepare(r#"{"do":"loop"}"#)
        .await
        .unwrap_err()
        .to_string();
    let elapsed = start.elapsed();
    eprintln!("loop interrupted after {elapsed:?}: {error}");
    assert!(error.starts_with("module 'misbehave'"), "{error}");
    assert!(
        error.ends_with("interrupted: the call ran longer than the call timeout of 1s"),
        "{error}"
    );
    // The deadline is never early; the upper bound only catches a call
    // that is not interrupted at all.
    assert!(
        elapsed >= Duration::from_secs(1),
        "interrupted after {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(60),
        "interrupted only after {elapsed:?}"
    );
    // A fresh instance of the same module runs.
    let mut instance = command(&engine, "misbehave").await.unwrap();
    assert!(instance.prepare(r#"{"do":"ok"}"#).await.unwrap().is_ok());
}

on_both_tiers!(
    #[tokio::test]
    a_memory_bomb_hits_the_limit
);
async fn a_memory_bomb_hits_the_limit(tier: Tier) {
    let state = tempfile::tempdir().unwrap();
    let limits = Limits {
        memory_bytes: 32 << 20,
        ..Limits::default()
    };
    let engine = engine_in(state.path(), limits);
    load_in(&engine, tier, "misbehave", "misbehave");
    load_in(&engine, tier, "greeter", "greeter");

    let mut instance = command(&engine, "misbehave").await.unwrap();
    let error = instance
        .prepare(r#"{"do":"alloc","mb":256}"#)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("module 'misbehave'"), "{error}");
    eprintln!("{error}");
    assert!(error.contains("memory limit reached"), "{error}");
    assert!(error.contains("the limit is 32.0 MiB"), "{error}");

    // Within the limit, allocation works; and other modules are untouched.
    let mut instance = command(&engine, "misbehave").await.unwrap();
    assert!(
        instance
            .prepare(r#"{"do":"alloc","mb":8}"#)
            .await
            .unwrap()
            .is_ok()
    );
    assert_eq!(
        greet(&engine, "greeter", "Ada").await.unwrap(),
        "greeter 0.1.0"
    );
}

#[tokio::test]
async fn a_component_of_the_wrong_world_is_refused() {
    let state = tempfile::tempdir().unwrap();
    let engine = engine_in(state.path(), Limits::default());

    let error = load(&engine, "greeter", "greeter", PROJECTOR).unwrap_err();
    let error = format!("{error:#}");
    assert!(
        error.contains("cannot load module 'greeter' (projector)"),
        "{error}"
    );
    assert!(
        error.contains(
            "a projector must implement world 'wbx:guest/projector-module' and export \
             'wbx:guest/projector@0.1.0', but this component exports wbx:guest/command@0.1.0"
        ),
        "{error}"
    );
    let info = engine.modules();
    assert_eq!(info[0].status, ModuleStatus::Failed);
    assert!(
        info[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("must implement")
    );

    // The right kind loads, and so does the projector fixture.
    load(&engine, "tally", "tally", PROJECTOR).unwrap();
    let setup = InstanceSetup::default();
    let mut tally = ProjectorInstance::new(&engine, "tally", setup)
        .await
        .unwrap();
    assert_eq!(tally.subscription().await.unwrap()[0].types, ["Greeted"]);
    assert_eq!(tally.handle(&[]).await.unwrap(), Ok(()));
    let error = command(&engine, "tally").await.err().unwrap().to_string();
    assert_eq!(error, "module 'tally' is a projector, not a command");

    let error = format!(
        "{:#}",
        load(&engine, "a", "greeter", ModuleKind::new("actor")).unwrap_err()
    );
    assert!(
        error.contains("this engine does not run actor modules yet"),
        "{error}"
    );
    let error = format!(
        "{:#}",
        engine.load("junk", COMMAND, "0.1.0", b"junk").unwrap_err()
    );
    assert!(
        error.contains("not a valid WebAssembly component"),
        "{error}"
    );
    let error = format!("{:#}", command(&engine, "nobody").await.err().unwrap());
    assert!(
        error.starts_with("no module named 'nobody'; loaded modules: "),
        "{error}"
    );
}

#[tokio::test]
async fn a_second_load_of_the_same_bytes_is_a_cache_hit() {
    let state = tempfile::tempdir().unwrap();
    let bytes = guest_bytes("greeter");
    let compile_report = |engine: &Engine| {
        let mut observations = engine.subscribe();
        engine.load("greeter", COMMAND, "0.1.0", &bytes).unwrap();
        match observations.try_recv().unwrap() {
            Observation::ModuleLoaded { compile, .. } => compile,
            other => panic!("expected ModuleLoaded, got {other:?}"),
        }
    };

    let cold = compile_report(&engine_in(state.path(), Limits::default()));
    let warm_engine = engine_in(state.path(), Limits::default());
    let warm = compile_report(&warm_engine);
    eprintln!(
        "greeter ({} bytes): cold compile {:?}, cache load {:?}",
        bytes.len(),
        cold.compile_time,
        warm.compile_time
    );
    assert!(!cold.cache_hit);
    assert!(warm.cache_hit);
    let cached: Vec<_> = std::fs::read_dir(state.path().join("cache"))
        .unwrap()
        .collect();
    assert_eq!(cached.len(), 1, "one artifact per content hash");
    // The cached component really runs.
    assert_eq!(
        greet(&warm_engine, "greeter", "Ada").await.unwrap(),
        "greeter 0.1.0"
    );
}

/// One greeting of the swap test: when it started and ended on the test's
/// logical clock, and the version that answered.
#[derive(Debug)]
struct Call {
    start: u64,
    end: u64,
    by: String,
}

on_both_tiers!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    a_swap_under_concurrent_calls_loses_no_call
);
/// On Winch, the version swapped in then moves to Cranelift's code while
/// the calls go on: neither move loses a call or answers from the old one.
async fn a_swap_under_concurrent_calls_loses_no_call(tier: Tier) {
    const V1: &str = "greeter 0.1.0";
    const V2: &str = "greeter-v2 0.2.0";
    let state = tempfile::tempdir().unwrap();
    let engine = Arc::new(engine_in(state.path(), Limits::default()));
    let v1 = load_in(&engine, tier, "greeter", "greeter");
    let in_flight = command(&engine, "greeter").await.unwrap();

    // Orders every call's start and end and the swap's start and end.
    let clock = Arc::new(AtomicU64::new(0));
    let swapped = Arc::new(AtomicBool::new(false));
    // On Cranelift code for good: for Winch, after the move.
    let settled = Arc::new(AtomicBool::new(false));
    let answered: Arc<[AtomicUsize; 4]> = Arc::new(Default::default());
    let callers: Vec<_> = (0..4)
        .map(|n| {
            let (engine, clock, swapped, settled, answered) = (
                engine.clone(),
                clock.clone(),
                swapped.clone(),
                settled.clone(),
                answered.clone(),
            );
            tokio::spawn(async move {
                let mut calls = Vec::new();
                // Keep calling until five calls made after the swap and
                // the move to Cranelift's code.
                let mut after_swap = 0;
                while after_swap < 5 || !settled.load(Ordering::SeqCst) {
                    let done = swapped.load(Ordering::SeqCst);
                    let start = clock.fetch_add(1, Ordering::SeqCst);
                    let by = greet(&engine, "greeter", "Ada")
                        .await
                        .expect("no call fails");
                    let end = clock.fetch_add(1, Ordering::SeqCst);
                    calls.push(Call { start, end, by });
                    answered[n].fetch_add(1, Ordering::SeqCst);
                    if done {
                        after_swap += 1;
                    }
                }
                calls
            })
        })
        .collect();
    wait_until("every caller to be answered twice", || {
        answered.iter().all(|a| a.load(Ordering::SeqCst) >= 2)
    })
    .await;
    let mut observations = engine.subscribe();
    let swap_start = clock.fetch_add(1, Ordering::SeqCst);
    let v2_bytes = guest_bytes("greeter-v2");
    let v2 = engine
        .swap_in(tier, "greeter", COMMAND, "0.2.0", &v2_bytes)
        .unwrap()
        .version;
    let swap_end = clock.fetch_add(1, Ordering::SeqCst);
    swapped.store(true, Ordering::SeqCst);
    assert_eq!(engine.tier_of("greeter"), Some(tier));
    if tier == Tier::Winch {
        let moved = engine.tier_up("greeter", &v2, &v2_bytes).unwrap();
        assert!(moved, "Winch's code moves to Cranelift's");
        assert_eq!(engine.tier_of("greeter"), Some(Tier::Cranelift));
        assert!(
            !engine.tier_up("greeter", &v2, &v2_bytes).unwrap(),
            "a module already on Cranelift's code does not move"
        );
    }
    settled.store(true, Ordering::SeqCst);
    let swap = std::iter::from_fn(|| observations.try_recv().ok())
        .find_map(|o| match o {
            Observation::ModuleSwapped { from, to, .. } => Some((from, to)),
            _ => None,
        })
        .expect("a ModuleSwapped observation");
    assert_eq!((swap.0.to_string(), &swap.1), (v1.clone(), &v2));

    let mut calls = Vec::new();
    for caller in callers {
        let seen = caller.await.unwrap();
        let answers: Vec<_> = seen.iter().map(|c| c.by.as_str()).collect();
        // Each caller was answered by the old version, then by the new one,
        // and never by the old one again.
        let switch = answers.iter().position(|&by| by == V2).unwrap();
        assert!(switch >= 2, "{answers:?}");
        assert!(answers[..switch].iter().all(|&by| by == V1), "{answers:?}");
        assert!(answers[switch..].iter().all(|&by| by == V2), "{answers:?}");
        calls.extend(seen);
    }
    // The swap happens at one point between its start and its end: a call
    // over before it began was answered by v1, a call begun after it
    // returned by v2, and once any call was answered by v2, every call
    // begun later was too.
    for call in &calls {
        if call.end < swap_start {
            assert_eq!(call.by, V1, "{call:?} ended before the swap");
        }
        if call.start > swap_end {
            assert_eq!(call.by, V2, "{call:?} started after the swap");
        }
    }
    let first_v2_end = calls
        .iter()
        .filter(|c| c.by == V2)
        .map(|c| c.end)
        .min()
        .unwrap();
    let late_v1: Vec<_> = calls
        .iter()
        .filter(|c| c.start > first_v2_end && c.by == V1)
        .collect();
    assert!(
        late_v1.is_empty(),
        "answered by v1 after v2 had answered at {first_v2_end}: {late_v1:?}"
    );
    assert_ne!(v1, v2.to_string());
    assert!(v2.to_string().starts_with("0.2.0+"));

    // An instance taken before the swap finishes on the old version.
    let mut old = in_flight;
    old.prepare(r#"{"name":"Bo"}"#).await.unwrap().unwrap();
    let events = old.decide().await.unwrap().unwrap();
    assert!(events[0].data.contains(V1));

    let info = &engine.modules()[0];
    assert_eq!(
        info.reloads, 1,
        "a move to Cranelift's code is not a reload"
    );
    assert_eq!(info.version.as_ref(), Some(&v2));
    assert_eq!(info.tier, Some(Tier::Cranelift));
    let tiered_up = std::iter::from_fn(|| observations.try_recv().ok())
        .any(|o| matches!(o, Observation::ModuleTieredUp { ref version, .. } if *version == v2));
    assert_eq!(tiered_up, tier == Tier::Winch);
}

#[tokio::test]
async fn a_failed_swap_keeps_the_old_version_serving() {
    let state = tempfile::tempdir().unwrap();
    let engine = engine_in(state.path(), Limits::default());
    load(&engine, "greeter", "greeter", COMMAND).unwrap();

    assert!(
        engine
            .load("greeter", COMMAND, "0.2.0", b"\0asm broken")
            .is_err()
    );
    let kind_change = load(&engine, "greeter", "tally", PROJECTOR).unwrap_err();
    assert!(
        format!("{kind_change:#}")
            .contains("module 'greeter' is a command and cannot be replaced by a projector"),
        "{kind_change:#}"
    );

    assert_eq!(
        greet(&engine, "greeter", "Ada").await.unwrap(),
        "greeter 0.1.0"
    );
    let info = &engine.modules()[0];
    assert_eq!(info.status, ModuleStatus::Running);
    assert_eq!(info.reloads, 0);
    assert!(info.last_error.is_some());
}
