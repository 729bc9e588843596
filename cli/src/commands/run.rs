//! `wbx run [--port N] [--gateway-port N] [--release] [--no-build]`: builds
//! the project, loads its modules, starts projectors and effects, serves
//! the control API and the mesh gateway on 127.0.0.1 and writes
//! `.wbx/engine.json` until Ctrl-C.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use tokio::net::TcpListener;
use wbx_engine::api::{self, EngineFile};
use wbx_engine::boot::{Booted, boot};
use wbx_engine::project::Project;
use wbx_engine::mesh::MeshRuntime;
use wbx_engine::mesh::gateway;
use wbx_engine::{Engine, Runtimes};

use super::build;
use crate::cli::{Ports, RunArgs};
use crate::client::Client;
use crate::console::{self, DIM, GREEN, RED, Stream, YELLOW, paint};
use crate::observations;

pub fn run(args: RunArgs) -> Result<ExitCode> {
    let project = open_idle_project()?;
    if !args.no_build {
        let (report, _) = build::build_with_progress(&project, Vec::new(), args.release)?;
        if !report.success() {
            build::report_failure(&report);
            return Ok(ExitCode::FAILURE);
        }
    }
    tokio::runtime::Runtime::new()
        .context("cannot start the async runtime")?
        .block_on(async {
            let booted = boot(&project, args.release)?;
            report_loads(&booted);
            serve(&project, booted, args.ports, |_| {}).await
        })
}

/// The project at the current directory, if no engine runs for it yet.
pub(super) fn open_idle_project() -> Result<Project> {
    let project = wbx_engine::project::open(&super::cwd()?)?;
    if let Some(client) = Client::running(&project) {
        bail!(
            "an engine already runs for this project at {} (see {})",
            client.api(),
            project.state.engine_json().display()
        );
    }
    Ok(project)
}

/// Starts the booted project's runtimes, serves the control API and prints
/// observations until Ctrl-C; `with_stop` receives the stop signal, for
/// work that runs beside (the dev loop).
pub(super) async fn serve(
    project: &Project,
    booted: Booted,
    ports: Ports,
    with_stop: impl FnOnce(tokio::sync::watch::Receiver<bool>),
) -> Result<ExitCode> {
    report_not_kept(&booted);
    let Booted {
        engine, runtimes, ..
    } = booted;

    let mut observations = engine.subscribe();
    tokio::spawn(async move {
        loop {
            match observations.recv().await {
                Ok(observation) => {
                    if let Some(line) = observations::describe(&observation) {
                        console::err(&line);
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    console::err(&paint(
                        Stream::Stderr,
                        &format!("({} skipped)", console::count(n, "log line")),
                        DIM,
                    ));
                }
                Err(_) => return,
            }
        }
    });
    runtimes.start();
    let api = ControlApi::start(project, &engine, &runtimes, ports).await?;
    console::err(&format!(
        "{} {} serving the control API at {}  (Ctrl-C to stop)",
        paint(Stream::Stderr, "running", GREEN),
        project.name(),
        api.url
    ));
    console::err(&format!(
        "{} the mesh gateway at {}  (curl {}/{{namespace}}.{{service}}/…)",
        paint(Stream::Stderr, "serving", GREEN),
        api.gateway,
        api.gateway
    ));

    let (stop, stopped) = tokio::sync::watch::channel(false);
    with_stop(stopped);
    stop_signal().await;
    stop.send_replace(true);
    api.stop(&runtimes).await?;
    Ok(ExitCode::SUCCESS)
}

/// The control API, served on 127.0.0.1 and announced in `.wbx/engine.json`
/// until stopped.
pub(super) struct ControlApi {
    pub url: String,
    /// The mesh gateway's address.
    pub gateway: String,
    engine_json: std::path::PathBuf,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<Result<()>>,
    gateway_stop: tokio::sync::oneshot::Sender<()>,
    gateway_served: tokio::task::JoinHandle<Result<()>>,
}

impl ControlApi {
    pub async fn start(
        project: &Project,
        engine: &Arc<Engine>,
        runtimes: &Runtimes,
        ports: Ports,
    ) -> Result<ControlApi> {
        let listener = listen(ports.port).await?;
        let gateway_listener = listen(ports.gateway_port).await?;
        let file = EngineFile {
            api: format!("http://{}", listener.local_addr()?),
            pid: std::process::id(),
            gateway: Some(format!("http://{}", gateway_listener.local_addr()?)),
        };
        let engine_json = project.state.engine_json();
        file.write(&engine_json)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(api::serve(
            listener,
            engine.clone(),
            runtimes.clone(),
            project.root.clone(),
            async {
                let _ = stopped.await;
            },
        ));
        let mesh = runtimes
            .get::<MeshRuntime>()
            .context("the mesh model is not registered")?;
        let (gateway_stop, gateway_stopped) = tokio::sync::oneshot::channel::<()>();
        let gateway_served = tokio::spawn(gateway::serve(mesh, gateway_listener, async {
            let _ = gateway_stopped.await;
        }));
        Ok(ControlApi {
            url: file.api,
            gateway: file.gateway.unwrap_or_default(),
            engine_json,
            stop,
            served,
            gateway_stop,
            gateway_served,
        })
    }

    /// Stops serving, lets the runtimes finish what they hold, and withdraws
    /// `.wbx/engine.json`, also when the server itself failed.
    pub async fn stop(self, runtimes: &Runtimes) -> Result<()> {
        console::err(&paint(
            Stream::Stderr,
            "stopping: finishing in-flight work",
            DIM,
        ));
        let _ = self.stop.send(());
        let _ = self.gateway_stop.send(());
        let served = self.served.await;
        let gateway_served = self.gateway_served.await;
        runtimes.shutdown().await;
        let removed = match std::fs::remove_file(&self.engine_json) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("cannot remove {}", self.engine_json.display()))
            }
            _ => Ok(()),
        };
        served.context("the control API task failed")??;
        gateway_served.context("the mesh gateway task failed")??;
        removed
    }
}

/// A listener on 127.0.0.1 at `port`, a free one when none is given.
async fn listen(port: Option<u16>) -> Result<TcpListener> {
    let port = port.unwrap_or(0);
    TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))
}

/// Says which loaded versions could not be kept for later replays.
pub(super) fn report_not_kept(booted: &Booted) {
    for line in &booted.not_kept {
        console::err(&format!(
            "{} {line}",
            paint(Stream::Stderr, "warning", YELLOW)
        ));
    }
}

pub(super) fn report_loads(booted: &Booted) {
    for loaded in &booted.loaded {
        match &loaded.result {
            Ok(version) => console::err(&format!(
                "{} {} ({} {version})",
                paint(Stream::Stderr, "loaded", GREEN),
                loaded.module.name,
                loaded.module.kind
            )),
            Err(error) => console::err(&format!(
                "{} {error:#}",
                paint(Stream::Stderr, "failed", RED)
            )),
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub(super) async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}
