//! `wbx dev`'s terminal interface in a real terminal: tmux runs it on a copy
//! of the library example, send-keys types what a person would, and
//! capture-pane reads back what they would see. After each key the test
//! waits for the screen to show its result, never for a fixed time: so an
//! Escape is never read together with the key after it either.

use std::time::Duration;

use crate::guests::guest;
use crate::support::{Tmux, edit, project_copy, shared_build_dir};

#[test]
fn a_person_finds_the_reload_the_error_an_event_and_the_logs() {
    let project = project_copy("examples/library", "../../sdk");
    let dir = project.path();
    // A service beside the library's modules: a prebuilt test component.
    std::fs::create_dir_all(dir.join("components")).unwrap();
    std::fs::copy(guest("echo"), dir.join("components/echo.wasm")).unwrap();
    std::fs::copy(guest("probe"), dir.join("components/probe.wasm")).unwrap();
    std::fs::copy(guest("stage"), dir.join("components/stage.wasm")).unwrap();
    std::fs::copy(guest("collect"), dir.join("components/collect.wasm")).unwrap();
    let manifest = std::fs::read_to_string(dir.join("wbx.toml")).unwrap();
    std::fs::write(
        dir.join("wbx.toml"),
        manifest
            + "\n[modules.echo]\ncomponent = \"components/echo.wasm\"\nkind = \"service\"\n\
               namespace = \"test\"\n\
               \n[modules.probe]\ncomponent = \"components/probe.wasm\"\nkind = \"actor\"\n\
               \n[supervisors.root]\nchildren = [{ id = \"p\", module = \"probe\", register = \"p\" }]\n\
               \n[modules.stage]\ncomponent = \"components/stage.wasm\"\nkind = \"processor\"\n\
               \n[modules.collect]\ncomponent = \"components/collect.wasm\"\nkind = \"sink\"\n\
               \n[flows.views.nodes]\ninput = { source = \"push\" }\npass = \"stage\"\nsink = \"collect\"\n\
               \n[[flows.views.edges]]\nfrom = \"input\"\nto = \"pass\"\n\
               \n[[flows.views.edges]]\nfrom = \"pass\"\nto = \"sink\"\n",
    )
    .unwrap();
    // A remapped key, to see the user's key map taken up.
    let config = tempfile::tempdir().unwrap();
    std::fs::write(
        config.path().join("tui.toml"),
        "[keys]\nhelp = [\"?\", \"h\"]\n",
    )
    .unwrap();
    let command = format!(
        "env -u CARGO_TARGET_DIR CARGO_BUILD_BUILD_DIR={build} NO_COLOR=1 WBX_CONFIG_DIR={config} \
         {wbx} dev; echo wbx-exited-$?; sleep 600",
        build = shared_build_dir().display(),
        config = config.path().display(),
        wbx = env!("CARGO_BIN_EXE_wbx"),
    );
    let tmux = Tmux::start("tui", dir, &command, 120, 36);

    // The first build, then the Modules pane with every module running.
    let screen = tmux.wait("the modules running", Duration::from_secs(300), |s| {
        s.contains("Modules 11") && s.matches("running").count() >= 11
    });
    assert!(screen.contains("library") && screen.contains("engine http://127.0.0.1:"));
    assert!(screen.contains("catalog") && screen.contains("projector"));

    // Execute commands from command mode; the result shows in the hint line.
    let command = |text: &str, result: &str| {
        tmux.type_text(":");
        tmux.type_text(text);
        tmux.wait_for(&format!(":{text}"));
        tmux.press(&["Enter"]);
        tmux.wait_for(result)
    };
    command(
        r#"exec add-book {"book_id":"dune","title":"Dune","copies":1}"#,
        "add-book: appended 1 event at position 1",
    );
    command(
        r#"exec register-member {"member_id":"ada","name":"Ada"}"#,
        "register-member: appended 1 event at position 2",
    );
    command(
        r#"exec lend-book {"book_id":"dune","member_id":"ada"}"#,
        "lend-book: appended 1 event at position 3",
    );
    command(
        r#"exec lend-book {"book_id":"dune","member_id":"ada"}"#,
        "lend-book: rejected",
    );

    // The Events pane follows the log.
    tmux.type_text("2");
    let screen = tmux.wait_for("following");
    assert!(
        screen.contains("BookAdded") && screen.contains("BookLent"),
        "{screen}"
    );

    // A filter by type.
    tmux.type_text("/type:MemberRegistered");
    tmux.wait_for("/type:MemberRegistered");
    tmux.press(&["Enter"]);
    let screen = tmux.wait_for("filter: type:MemberRegistered");
    assert!(!screen.contains("BookAdded"), "{screen}");
    tmux.press(&["Escape"]);
    tmux.wait("the filter cleared", Duration::from_secs(60), |s| {
        s.contains("BookAdded") && !s.contains("filter:")
    });

    // Go to the first event (following stops there) and open it: its data
    // pretty-printed, its envelope.
    tmux.type_text("p1");
    tmux.press(&["Enter"]);
    tmux.wait_for("paused (G follows)");
    tmux.press(&["Enter"]);
    let screen = tmux.wait_for("\"title\": \"Dune\"");
    assert!(
        screen.contains("Event 1 · BookAdded") && screen.contains("correlation"),
        "{screen}"
    );
    tmux.press(&["Escape"]);
    tmux.wait_gone("Event 1 · BookAdded");

    // The Logs pane: the register-member guest's greeting, under its name.
    tmux.type_text("3");
    let screen = tmux.wait_for("welcome, Ada");
    assert!(
        screen
            .lines()
            .any(|l| l.contains("register-member") && l.contains("welcome, Ada")),
        "{screen}"
    );

    // Step the catalog projector through the log from the first event.
    tmux.type_text("2");
    tmux.wait_for("Events head");
    tmux.type_text("gs");
    let screen = tmux.wait_for("position 1 BookAdded");
    assert!(
        screen.contains("Replay · catalog") && screen.contains("+ ('dune', 'Dune', 1, 0)"),
        "{screen}"
    );
    tmux.press(&["Right"]);
    let screen = tmux.wait_for("position 2 MemberRegistered");
    assert!(screen.contains("+ ('ada', 'Ada', 0, 0)"), "{screen}");
    tmux.press(&["Right"]);
    let screen = tmux.wait_for("position 3 BookLent");
    assert!(
        screen.contains("- ('dune', 'Dune', 1, 0)") && screen.contains("+ ('dune', 'Dune', 1, 1)"),
        "{screen}"
    );
    tmux.press(&["Left"]);
    tmux.wait_for("position 2 MemberRegistered");
    tmux.press(&["Left"]);
    tmux.wait_for("position 1 BookAdded");

    // The Mesh pane, by its number and by its name: the service's route,
    // no calls yet; a call from the prompt goes through the mesh and shows
    // in the call log, as does the mesh's own 502 for an unknown service.
    tmux.type_text("5");
    let screen = tmux.wait_for("No calls through the mesh yet");
    assert!(
        screen.contains("Routes") && screen.contains("test.echo"),
        "{screen}"
    );
    tmux.type_text("1");
    tmux.wait_gone("No calls through the mesh yet");
    tmux.type_text(":mesh");
    tmux.wait_for(":mesh");
    tmux.press(&["Enter"]);
    tmux.wait_for("No calls through the mesh yet");
    command("call GET http://test.echo/hello", "200 OK");
    command("call GET http://test.nosuch/hello", "502 Bad Gateway");
    let screen = tmux.wait_for("gateway → test.nosuch");
    assert!(
        screen
            .lines()
            .any(|l| l.contains("gateway → echo") && l.contains("/hello") && l.contains("200")),
        "{screen}"
    );

    // The Actors pane, by its number and by its name: the boot tree's
    // supervisor and its child; a message sent from the prompt is counted;
    // a kill, confirmed, and the supervisor starts the child again.
    tmux.type_text("6");
    let screen = tmux.wait_for("Processes");
    assert!(
        screen.contains("2 processes") && screen.contains("probe"),
        "{screen}"
    );
    tmux.type_text("1");
    tmux.wait_gone("Processes");
    tmux.type_text(":actors");
    tmux.wait_for(":actors");
    tmux.press(&["Enter"]);
    tmux.wait_for("Processes");
    command(r#"send p {"op":"count"}"#, "sent to p");
    command(r#"call p {"op":"count"}"#, "p replied: 2");
    // Filtered down to the child, which is then the selected row.
    tmux.type_text("/");
    tmux.type_text("probe");
    tmux.press(&["Enter"]);
    let screen = tmux.wait_for("filter: probe (1 shown)");
    assert!(!screen.contains("wbx:supervisor"), "{screen}");
    tmux.type_text("K");
    tmux.wait_for("Kill ");
    tmux.type_text("y");
    tmux.wait("the child restarted", Duration::from_secs(30), |s| {
        s.lines()
            .any(|l| l.contains("probe") && l.contains("killed"))
    });
    tmux.type_text("t");
    let screen = tmux.wait_for("└─");
    assert!(
        screen.contains("root") && screen.contains("probe"),
        "{screen}"
    );
    tmux.press(&["Escape"]);

    // The Flows pane, by its number and by its name: the flow runs; an
    // element pushed from the prompt goes through its stages; paused and
    // resumed with `p`; a stage opened shows the element it took.
    tmux.type_text("7");
    let screen = tmux.wait_for("input ─▶ pass ─▶ sink");
    assert!(
        screen.contains("views") && screen.contains("running"),
        "{screen}"
    );
    tmux.type_text("1");
    tmux.wait_gone("input ─▶ pass ─▶ sink");
    tmux.type_text(":flows");
    tmux.wait_for(":flows");
    tmux.press(&["Enter"]);
    tmux.wait_for("input ─▶ pass ─▶ sink");
    command(r#"push {"n": 7}"#, "pushed #1 into views");
    tmux.wait(
        "the element through the flow",
        Duration::from_secs(30),
        |s| {
            s.lines()
                .any(|l| l.starts_with("│sink") && l.contains(" 1 "))
        },
    );
    tmux.type_text("p");
    tmux.wait_for("flow views: paused");
    tmux.type_text("p");
    tmux.wait_for("flow views: running");
    // Into the stages, down to the sink, opened.
    tmux.press(&["Enter", "End", "Enter"]);
    let screen = tmux.wait_for("Last in");
    assert!(screen.contains(r#""seen": 1"#), "{screen}");
    tmux.press(&["Escape", "Escape"]);

    // A saved file: the reload's account in the status bar.
    let lend_book = dir.join("lend-book/src/lib.rs");
    edit(&lend_book, "are on loan", "are all on loan");
    let screen = tmux.wait("the reload account", Duration::from_secs(120), |s| {
        s.contains("reloaded lend-book")
    });
    assert!(
        screen.contains("lend-book/src/lib.rs") && screen.contains("without cargo"),
        "{screen}"
    );

    // A broken file: the failing module and its compiler error, in the
    // detail of lend-book (sixth from the end of the Modules pane).
    edit(
        &lend_book,
        "are all on loan",
        "are all on loan\", undefined_thing",
    );
    tmux.wait("the failed build", Duration::from_secs(120), |s| {
        s.contains("build failed: lend-book")
    });
    tmux.type_text("1");
    tmux.press(&["End", "Up", "Up", "Up", "Up", "Up", "Enter"]);
    let screen = tmux.wait_for("The last build failed");
    assert!(screen.contains("lend-book/src/lib.rs:"), "{screen}");
    tmux.press(&["Escape"]);
    tmux.wait_gone("The last build failed");

    // Help, through the remapped key, lists the keys and the commands.
    tmux.type_text("h");
    tmux.wait_for("show or hide this help");
    // The list is longer than the screen: it scrolls.
    tmux.press(&["PageDown", "PageDown", "PageDown"]);
    let screen = tmux.wait_for("Commands (after :)");
    assert!(screen.contains("rebuild-read-model"), "{screen}");
    tmux.press(&["Escape"]);
    tmux.wait_gone("Commands (after :)");

    // q quits, restores the terminal, and the engine withdraws its file.
    tmux.type_text("q");
    let screen = tmux.wait_for("wbx-exited-0");
    assert!(!screen.contains("Commands (after :)"), "{screen}");
    assert!(!dir.join(".wbx/engine.json").exists());
}
