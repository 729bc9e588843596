//! `wbx dev`'s terminal interface in a real terminal: tmux runs it on a copy
//! of the library example, send-keys types what a person would, and
//! capture-pane reads back what they would see.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{edit, project_copy, shared_build_dir};

/// A tmux server of this test's own, killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(dir: &Path, config: &Path, width: u16, height: u16) -> Tmux {
        let tmux = Tmux {
            socket: format!("wbx-test-{}", std::process::id()),
        };
        let command = format!(
            "env -u CARGO_TARGET_DIR CARGO_BUILD_BUILD_DIR={build} NO_COLOR=1 \
             WBX_CONFIG_DIR={config} {wbx} dev; echo wbx-exited-$?; sleep 600",
            build = shared_build_dir().display(),
            config = config.display(),
            wbx = env!("CARGO_BIN_EXE_wbx"),
        );
        let status = Command::new("tmux")
            .args(["-L", &tmux.socket, "new-session", "-d", "-s", "wbx"])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .arg("-c")
            .arg(dir)
            .arg(command)
            .status()
            .expect("tmux is needed for this test: run `sh install.sh --tools-only`");
        assert!(status.success(), "tmux did not start");
        tmux
    }

    fn tmux(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "wbx"])
    }

    /// Types `text` literally.
    fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "wbx", "-l", text]);
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Presses one named key (Enter, Escape, Up…); a pause after, so an
    /// Escape is not read as the start of the next key's sequence.
    fn press(&self, key: &str) {
        self.tmux(&["send-keys", "-t", "wbx", key]);
        std::thread::sleep(Duration::from_millis(250));
    }

    /// Waits until the screen satisfies `wanted`; returns that screen.
    fn wait(&self, what: &str, timeout: Duration, wanted: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if wanted(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < timeout,
                "timed out waiting for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_for(&self, text: &str) -> String {
        self.wait(&format!("'{text}'"), Duration::from_secs(30), |s| {
            s.contains(text)
        })
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

#[test]
fn a_person_finds_the_reload_the_error_an_event_and_the_logs() {
    let project = project_copy("examples/library", "../../sdk");
    let dir = project.path();
    // A remapped key, to see the user's key map taken up.
    let config = tempfile::tempdir().unwrap();
    std::fs::write(
        config.path().join("tui.toml"),
        "[keys]\nhelp = [\"?\", \"h\"]\n",
    )
    .unwrap();
    let tmux = Tmux::start(dir, config.path(), 120, 36);

    // The first build, then the Modules pane with every module running.
    let screen = tmux.wait("the modules running", Duration::from_secs(300), |s| {
        s.contains("Modules 7") && s.matches("running").count() >= 7
    });
    assert!(screen.contains("library") && screen.contains("engine http://127.0.0.1:"));
    assert!(screen.contains("catalog") && screen.contains("projector"));

    // Execute commands from command mode; the result shows in the hint line.
    tmux.type_text(":");
    tmux.type_text(r#"exec add-book {"book_id":"dune","title":"Dune","copies":1}"#);
    tmux.press("Enter");
    tmux.wait_for("add-book: appended 1 event at position 1");
    tmux.type_text(r#":exec register-member {"member_id":"ada","name":"Ada"}"#);
    tmux.press("Enter");
    tmux.wait_for("appended 1 event at position 2");
    tmux.type_text(r#":exec lend-book {"book_id":"dune","member_id":"ada"}"#);
    tmux.press("Enter");
    tmux.wait_for("lend-book: appended");
    tmux.type_text(r#":exec lend-book {"book_id":"dune","member_id":"ada"}"#);
    tmux.press("Enter");
    tmux.wait_for("lend-book: rejected");

    // The Events pane follows the log.
    tmux.type_text("2");
    let screen = tmux.wait_for("following");
    assert!(
        screen.contains("BookAdded") && screen.contains("BookLent"),
        "{screen}"
    );

    // A filter by type.
    tmux.type_text("/type:MemberRegistered");
    tmux.press("Enter");
    let screen = tmux.wait_for("filter: type:MemberRegistered");
    assert!(!screen.contains("BookAdded"), "{screen}");
    tmux.press("Escape");
    tmux.wait("the filter cleared", Duration::from_secs(10), |s| {
        s.contains("BookAdded") && !s.contains("filter:")
    });

    // Open the first event: its data pretty-printed, its envelope.
    tmux.type_text("p");
    tmux.type_text("1");
    tmux.press("Enter");
    tmux.press("Enter");
    let screen = tmux.wait_for("\"title\": \"Dune\"");
    assert!(
        screen.contains("Event 1 · BookAdded") && screen.contains("correlation"),
        "{screen}"
    );
    tmux.press("Escape");

    // The Logs pane: the register-member guest's greeting, under its name.
    tmux.type_text("3");
    let screen = tmux.wait_for("Logs");
    assert!(screen.contains("register-member"), "{screen}");

    // Step the catalog projector through the log from the first event.
    tmux.type_text("2");
    tmux.type_text("g");
    tmux.type_text("s");
    let screen = tmux.wait_for("position 1 BookAdded");
    assert!(
        screen.contains("Replay · catalog") && screen.contains("+ ('dune', 'Dune', 1, 0)"),
        "{screen}"
    );
    tmux.press("Right");
    let screen = tmux.wait_for("position 2 MemberRegistered");
    assert!(screen.contains("+ ('ada', 'Ada', 0, 0)"), "{screen}");
    tmux.press("Right");
    let screen = tmux.wait_for("position 3 BookLent");
    assert!(
        screen.contains("- ('dune', 'Dune', 1, 0)") && screen.contains("+ ('dune', 'Dune', 1, 1)"),
        "{screen}"
    );
    tmux.press("Left");
    tmux.press("Left");
    tmux.wait_for("position 1 BookAdded");

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

    // A broken file: the failing module and its compiler error.
    edit(
        &lend_book,
        "are all on loan",
        "are all on loan\", undefined_thing",
    );
    tmux.wait("the failed build", Duration::from_secs(120), |s| {
        s.contains("build failed: lend-book")
    });
    tmux.type_text("1");
    tmux.press("End");
    tmux.press("Up");
    tmux.press("Up");
    tmux.press("Up");
    tmux.press("Enter");
    let screen = tmux.wait_for("The last build failed");
    assert!(screen.contains("lend-book/src/lib.rs:"), "{screen}");
    tmux.press("Escape");

    // Help, through the remapped key, lists the keys and the commands.
    tmux.type_text("h");
    let screen = tmux.wait_for("Commands (after :)");
    assert!(screen.contains("rebuild-read-model"), "{screen}");
    tmux.press("Escape");

    // q quits, restores the terminal, and the engine withdraws its file.
    tmux.type_text("q");
    let screen = tmux.wait_for("wbx-exited-0");
    assert!(!screen.contains("Commands (after :)"), "{screen}");
    assert!(!dir.join(".wbx/engine.json").exists());
}
