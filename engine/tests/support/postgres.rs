//! A real PostgreSQL server for the tests, started once per test binary in a
//! temporary directory and stopped (its directory removed) when the binary
//! exits. Each test asks for a database of its own with [`database`].
//!
//! `sh install.sh --tools-only` installs the server. PostgreSQL refuses to
//! run as root, so under root (CI) it runs as the `postgres` user the
//! package creates, in a directory that user owns.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

struct Server {
    port: u16,
    next: AtomicU32,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

/// The URL of a new, empty database on the tests' server.
pub fn database() -> String {
    let server = SERVER
        .get_or_init(start)
        .as_ref()
        .unwrap_or_else(|e| panic!("{e}"));
    let name = format!("t{}", server.next.fetch_add(1, Ordering::Relaxed));
    psql(server.port, &format!("CREATE DATABASE {name}"));
    format!("postgres://wbx@127.0.0.1:{}/{name}", server.port)
}

/// Runs `sql` as the tests' superuser, failing the test if it fails.
pub fn psql(port: u16, sql: &str) {
    let output = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-U",
            "wbx",
        ])
        .args(["-p", &port.to_string(), "-d", "postgres", "-c", sql])
        .output()
        .expect("psql runs");
    assert!(
        output.status.success(),
        "psql -c {sql:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The directory of PostgreSQL's server programs, wherever the package put them.
fn bin_dir() -> Result<PathBuf, String> {
    let on_path = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    // Through links (such as /usr/local/bin/initdb) to the directory that
    // has all of them, pg_isready among them.
    if let Some(initdb) = on_path.and_then(|p| std::fs::canonicalize(p).ok()) {
        return Ok(initdb.parent().unwrap().to_owned());
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop().ok_or_else(|| {
        "the PostgreSQL tests need a PostgreSQL server (initdb, postgres): \
         run `sh install.sh --tools-only`"
            .to_owned()
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `program` run as the server's user: the `postgres` user under root,
/// the current user otherwise; ended by SIGTERM when the thread that
/// starts it (the test binary's own, below) ends.
fn as_server_user(program: &Path) -> Command {
    let mut command = Command::new("setpriv");
    if is_root() {
        command.args(["--reuid=postgres", "--regid=postgres", "--init-groups"]);
    }
    command.args(["--pdeathsig=TERM", "--"]).arg(program);
    command
}

fn start() -> Result<Server, String> {
    let bin = bin_dir()?;
    // Not a TempDir: the server's own shell removes it when it stops.
    let dir = tempfile::Builder::new()
        .prefix("wbx-postgres-")
        .tempdir()
        .map_err(|e| e.to_string())?
        .keep();
    if is_root() {
        let chown = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .map_err(|e| e.to_string())?;
        if !chown.success() {
            return Err("cannot give the test server's directory to the postgres user".into());
        }
    }
    let data = dir.join("data");
    let initdb = as_server_user(&bin.join("initdb"))
        .args([
            "-U",
            "wbx",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
            "-D",
        ])
        .arg(&data)
        .output()
        .map_err(|e| format!("cannot run initdb: {e}"))?;
    if !initdb.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr)
        ));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    // The server stops when the test binary exits: setpriv's parent-death
    // signal reaches the shell, which stops the server and removes its
    // directory. The thread that starts it never ends before the binary.
    let script = format!(
        "trap 'kill -INT $pid; wait $pid; rm -rf {dir}' TERM; \
         {postgres} -D {data} -p {port} -k {dir} -c listen_addresses=127.0.0.1 \
         -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
         -c max_connections=300 >{dir}/server.log 2>&1 & pid=$!; wait $pid",
        dir = dir.display(),
        data = data.display(),
        postgres = bin.join("postgres").display(),
    );
    let (started, ready) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let child = as_server_user(Path::new("/bin/sh"))
            .args(["-c", &script])
            .stdin(Stdio::null())
            .spawn();
        let _ = started.send(child.map(|_| ()).map_err(|e| e.to_string()));
        loop {
            std::thread::park();
        }
    });
    ready.recv().map_err(|e| e.to_string())??;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let up = Command::new(bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if up {
            break;
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            return Err(format!("the test PostgreSQL server did not start:\n{log}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Server {
        port,
        next: AtomicU32::new(1),
    })
}
