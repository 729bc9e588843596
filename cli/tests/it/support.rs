//! Helpers for tests that run `wbx` as a user does: in copies of real
//! projects, with `wbx run` or `wbx dev` in the background, or in a real
//! terminal through tmux.
//!
//! Guest builds: each project is a copy of its own and builds into its own
//! `target/` (cargo's default), so tests running side by side never replace
//! each other's components; cargo's intermediate files go to one shared
//! build directory, `target/wasm-guests` (as the engine tests' guests do),
//! so each dependency compiles once per run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// Cargo's build directory shared by every guest build of the tests.
pub fn shared_build_dir() -> PathBuf {
    repo_root().join("target/wasm-guests")
}

/// `wbx` in `dir` with no colour, cargo's intermediate files in the shared
/// build directory and its final artifacts in the project's own `target/`.
pub fn wbx_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wbx"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("CARGO_TARGET_DIR")
        // A store named outside the test would be shared by every test.
        .env_remove("WBX_STORE_URL")
        .env("CARGO_BUILD_BUILD_DIR", shared_build_dir())
        .env("NO_COLOR", "1");
    command
}

pub fn wbx(dir: &Path, args: &[&str]) -> Output {
    wbx_command(dir, args).output().expect("running wbx")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn exit_code(output: &Output) -> i32 {
    output.status.code().expect("wbx ended by a signal")
}

/// What `wbx` printed on stdout, as JSON.
pub fn json(output: &Output) -> Value {
    serde_json::from_str(&stdout(output))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", stdout(output), stderr(output)))
}

/// A copy of a project in a temporary directory, held by one test at a time.
///
/// Copies of one project share cargo's intermediate files in the shared
/// build directory (cargo names a workspace member by its path inside the
/// workspace, not by where the workspace is), so a test building its edited
/// copy while another builds the original would find the other's build
/// fresh. The first copy a test makes holds its project's turn until it is
/// dropped; more copies in the same test share that turn.
pub struct ProjectCopy {
    dir: tempfile::TempDir,
    _turn: Option<Turn>,
}

impl ProjectCopy {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// One test's turn with the copies of a project.
struct Turn {
    source: String,
    _guard: std::sync::MutexGuard<'static, ()>,
}

thread_local! {
    /// The projects whose turn this test's thread holds.
    static HELD: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Drop for Turn {
    fn drop(&mut self) {
        HELD.with(|held| held.borrow_mut().retain(|s| *s != self.source));
    }
}

/// The turn of the copies of `source`; `None` when this thread holds it.
fn turn(source: &str) -> Option<Turn> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static LOCKS: OnceLock<Mutex<HashMap<String, &'static Mutex<()>>>> = OnceLock::new();
    if HELD.with(|held| held.borrow().iter().any(|s| s == source)) {
        return None;
    }
    let lock: &'static Mutex<()> = {
        let mut locks = LOCKS
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        locks
            .entry(source.to_owned())
            .or_insert_with(|| Box::leak(Box::default()))
    };
    // A test that failed while holding it leaves nothing half done behind.
    let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
    HELD.with(|held| held.borrow_mut().push(source.to_owned()));
    Some(Turn {
        source: source.to_owned(),
        _guard: guard,
    })
}

/// The turn of the projects made from project template `template` with
/// `wbx new`: they share cargo's intermediate files as copies of one
/// project do, so a test that builds one (and may edit it) holds the turn
/// while it does; `None` when this thread holds it already.
pub fn template_turn(template: &str) -> Option<impl Drop> {
    turn(&format!("template {template}"))
}

/// A copy of the project at `source` (relative to the repository) in a
/// temporary directory, its path to the SDK (`sdk_path` in a manifest of
/// the project) made absolute.
pub fn project_copy(source: &str, sdk_path: &str) -> ProjectCopy {
    let turn = turn(source);
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo_root().join(source), dir.path());
    let mut replaced = false;
    for manifest in manifests(dir.path()) {
        let text = std::fs::read_to_string(&manifest).unwrap();
        let from = format!("path = \"{sdk_path}\"");
        if text.contains(&from) {
            let to = format!("path = {:?}", repo_root().join("sdk"));
            std::fs::write(manifest, text.replace(&from, &to)).unwrap();
            replaced = true;
        }
    }
    assert!(replaced, "no manifest of {source} has path = {sdk_path:?}");
    ProjectCopy { dir, _turn: turn }
}

fn manifests(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(manifests(&path));
        } else if path.file_name().is_some_and(|n| n == "Cargo.toml") {
            found.push(path);
        }
    }
    found
}

/// Replaces the first `from` in the file at `path` with `to`, as an editor
/// saving it would.
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == ".wbx" || name == "target" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(name));
        } else {
            std::fs::copy(entry.path(), to.join(name)).unwrap();
        }
    }
}

/// `wbx run` or `wbx dev` in the background; stopped with SIGINT when dropped.
pub struct Engine {
    child: Child,
    pub api: String,
    /// What the engine printed on stderr, a line at a time.
    lines: std::sync::mpsc::Receiver<String>,
}

impl Engine {
    pub fn start(dir: &Path, args: &[&str]) -> Engine {
        let mut child = wbx_command(dir, args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        // Owned from here on, so a failed wait below still stops the child.
        let mut engine = Engine {
            child,
            api: String::new(),
            lines,
        };
        let file = dir.join(".wbx/engine.json");
        let start = Instant::now();
        loop {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the engine did not start"
            );
            if let Ok(text) = std::fs::read_to_string(&file)
                && let Ok(info) = serde_json::from_str::<Value>(&text)
            {
                let api = info["api"].as_str().unwrap().to_owned();
                if ureq::get(format!("{api}/api/health")).call().is_ok() {
                    engine.api = api;
                    return engine;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn get(&self, path: &str) -> Value {
        ureq::get(format!("{}{path}", self.api))
            .call()
            .unwrap()
            .into_body()
            .read_json()
            .unwrap()
    }

    /// Waits for a printed line that `wanted` accepts; returns it, and
    /// every line before it.
    pub fn expect_line(&self, what: &str, wanted: impl Fn(&str) -> bool) -> (String, Vec<String>) {
        let deadline = Instant::now() + Duration::from_secs(90);
        let mut before = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if wanted(&line) => return (line, before),
                Ok(line) => before.push(line),
                Err(_) => panic!("no line for {what}; saw:\n{}", before.join("\n")),
            }
        }
    }

    /// Stops it with SIGINT, as Ctrl-C does; it must be gone within 30 s.
    pub fn stop(mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::mem::forget(self);
                return status;
            }
            // Dropping `self` kills it.
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the engine did not stop within 30 s of SIGINT"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A tmux server of a test's own running one command in a terminal of a
/// given size; killed when dropped.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `command` (a shell command line) in `dir` on a server named
    /// after `name` and this process.
    pub fn start(name: &str, dir: &Path, command: &str, width: u16, height: u16) -> Tmux {
        let tmux = Tmux {
            socket: format!("wbx-{name}-{}", std::process::id()),
        };
        let output = tmux.command(&[
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            "-c",
            &dir.to_string_lossy(),
            command,
        ]);
        assert!(output.status.success(), "tmux: {}", stderr(&output));
        tmux
    }

    fn command(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux is needed for this test: sh install.sh --tools-only installs it")
    }

    /// What the terminal shows now.
    pub fn screen(&self) -> String {
        stdout(&self.command(&["capture-pane", "-p", "-t", "main"]))
    }

    /// Types `text` literally.
    pub fn type_text(&self, text: &str) {
        let output = self.command(&["send-keys", "-t", "main", "-l", text]);
        assert!(output.status.success(), "tmux: {}", stderr(&output));
    }

    /// Presses named keys (Enter, Escape, Up, BSpace…).
    pub fn press(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend(keys);
        let output = self.command(&args);
        assert!(output.status.success(), "tmux: {}", stderr(&output));
    }

    /// Waits until the screen satisfies `wanted`, for at most `timeout`;
    /// returns that screen.
    pub fn wait(&self, what: &str, timeout: Duration, wanted: impl Fn(&str) -> bool) -> String {
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
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until `text` is on the screen (for at most a minute).
    pub fn wait_for(&self, text: &str) -> String {
        self.wait(&format!("{text:?}"), Duration::from_secs(60), |s| {
            s.contains(text)
        })
    }

    /// Waits until `text` is gone from the screen (for at most a minute).
    pub fn wait_gone(&self, text: &str) -> String {
        self.wait(&format!("{text:?} to go"), Duration::from_secs(60), |s| {
            !s.contains(text)
        })
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command(&["kill-server"]);
    }
}
