//! `wbx call URL [-X METHOD] [-H 'K: V']… [-d BODY|@FILE] [-i] [-f] [--json]
//! [--against VERSION|WASM]`: one HTTP request to a mesh service, curl-like,
//! through a mesh gateway: the running engine's, or, when none runs, one
//! served here for the time of the call over the project booted locally.
//! Exits 0 whenever a response arrived (SPEC); `-f` makes a status of 400
//! or more exit non-zero.
//!
//! With `--against`, the same request also goes to a scratch mesh whose
//! service of that name runs a kept older version (or a .wasm file), and
//! the two answers are shown as a unified diff of status, headers and body.
//!
//! Code map:
//! - [`Target`]: the URL forms, down to the service's address and the path.
//! - [`Outgoing`]: the request the flags describe.
//! - [`LocalGateway`]: a gateway served in this process, over the booted
//!   project ([`LocalGateway::boot`]) or over a scratch mesh with an older
//!   version ([`LocalGateway::scratch`]).
//! - [`send`] and [`Reply`]: one request through a gateway, the answer read whole.
//! - `print_*`: the answer as curl prints it, as JSON, or the diff.
//!
//! Every request goes through a real gateway, even in this process, so the
//! answer is the one `curl` would get: the gateway's routing, the `wbx-`
//! headers stripped, a trace started.

use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};
use wbx_engine::boot::{Booted, boot};
use wbx_engine::mesh::MeshRuntime;
use wbx_engine::mesh::kinds::SERVICE;
use wbx_engine::mesh::router::MeshRouter;
use wbx_engine::mesh::settings::{service_names, settings};
use wbx_engine::project::{ModuleDecl, Project};
use wbx_engine::{Engine, EngineConfig, versions};

use crate::cli::CallArgs;
use crate::client::Client;
use crate::console::{self, DIM, GREEN, RED, Stream, paint};

/// The header the mesh sets on the answers it gives itself (a refusal),
/// as opposed to a service's.
const MESH_HEADER: &str = "wbx-mesh";

/// Response headers left out of `--against`'s diff: they differ between any
/// two answers.
const VOLATILE_HEADERS: &[&str] = &["date"];

pub fn run(args: CallArgs) -> Result<ExitCode> {
    let project = wbx_engine::project::open(&super::cwd()?)?;
    let target = Target::parse(&args.url)?;
    let outgoing = Outgoing::from_args(&args)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    // Gateways served here accept on this runtime's threads while this one
    // sends and waits.
    let _context = runtime.enter();

    let local;
    let (gateway, current_label) = match Client::running(&project) {
        Some(client) => match client.gateway() {
            Some(gateway) => (gateway.to_owned(), "running engine"),
            None => bail!(
                "the engine running at {} serves no mesh gateway (.wbx/engine.json has no \
                 \"gateway\"); restart it with this wbx",
                client.api()
            ),
        },
        None => {
            local = LocalGateway::boot(&project, &target)?;
            console::err(&paint(
                Stream::Stderr,
                "no engine runs: the project was booted here for this call",
                DIM,
            ));
            (local.url.clone(), "local engine")
        }
    };
    let current = send(&gateway, &target, &outgoing)?;

    let against = match &args.against {
        None => None,
        Some(version) => {
            let decl = service(&project, &target)?;
            let bytes = version_bytes(&project, decl, version)?;
            let scratch = LocalGateway::scratch(&project, decl, &bytes)?;
            Some((version.as_str(), send(&scratch.url, &target, &outgoing)?))
        }
    };

    match &against {
        None if args.json => console::out(&current.json().to_string()),
        None => print_reply(&current, args.include),
        Some((version, old)) if args.json => console::out(
            &json!({
                "current": current.json(),
                "against": {"version": version, "response": old.json()},
                "diff": diff(&current, current_label, old, version),
            })
            .to_string(),
        ),
        Some((version, old)) => print_diff(&current, current_label, old, version),
    }
    for reply in std::iter::once(&current).chain(against.iter().map(|(_, r)| r)) {
        reply.warn();
    }
    let broke = current.broke.is_some();
    Ok(if broke || (args.fail && current.status >= 400) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Where a request goes: a service's address and the path inside it.
#[derive(Debug, PartialEq)]
struct Target {
    /// `{namespace}.{module}`.
    address: String,
    /// The path and query, starting with `/`.
    path: String,
}

impl Target {
    /// `http://{ns}.{module}/path`, `/{ns}.{module}/path` or `{ns}.{module}/path`.
    fn parse(url: &str) -> Result<Target> {
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix('/'))
            .unwrap_or(url);
        if url.starts_with("https://") {
            bail!(
                "'{url}': the mesh gateway speaks plain HTTP; use http://{{namespace}}.{{module}}/…"
            );
        }
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (address, path) = rest.split_at(end);
        let shaped = address
            .split_once('.')
            .is_some_and(|(ns, module)| !ns.is_empty() && !module.is_empty());
        if !shaped || address.contains(':') {
            bail!(
                "'{url}' does not name a service: give http://{{namespace}}.{{module}}/path, \
                 /{{namespace}}.{{module}}/path or {{namespace}}.{{module}}/path"
            );
        }
        Ok(Target {
            address: address.to_owned(),
            path: if path.starts_with('/') {
                path.to_owned()
            } else {
                format!("/{path}")
            },
        })
    }

    /// The module's name: what follows the namespace.
    fn module(&self) -> &str {
        self.address
            .split_once('.')
            .map_or(self.address.as_str(), |(_, m)| m)
    }
}

/// The request the flags describe.
struct Outgoing {
    method: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl Outgoing {
    fn from_args(args: &CallArgs) -> Result<Outgoing> {
        let body = match args.data.as_deref() {
            None => None,
            Some(data) => Some(match data.strip_prefix('@') {
                Some(path) => {
                    std::fs::read(path).with_context(|| format!("-d: cannot read {path}"))?
                }
                None => data.as_bytes().to_vec(),
            }),
        };
        let headers = args
            .headers
            .iter()
            .map(|header| match header.split_once(':') {
                Some((name, value)) if !name.trim().is_empty() => {
                    Ok((name.trim().to_owned(), value.trim().to_owned()))
                }
                _ => bail!("-H '{header}': a header is 'Name: value'"),
            })
            .collect::<Result<_>>()?;
        let method = match &args.method {
            Some(method) => method.to_ascii_uppercase(),
            None if body.is_some() => "POST".to_owned(),
            None => "GET".to_owned(),
        };
        Ok(Outgoing {
            method,
            headers,
            body,
        })
    }
}

/// An answer, read whole.
struct Reply {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Why the body ended early: the service failed after its head.
    broke: Option<String>,
}

impl Reply {
    fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The mesh's own answer (a refusal), not the service's.
    fn refused(&self) -> bool {
        self.headers.iter().any(|(name, _)| name == MESH_HEADER)
    }

    /// `{status, headers, body}`; a header sent more than once has its
    /// values joined with ", ".
    fn json(&self) -> Value {
        let mut headers = Map::new();
        for (name, value) in &self.headers {
            let joined = match headers.get(name).and_then(Value::as_str) {
                Some(before) => format!("{before}, {value}"),
                None => value.clone(),
            };
            headers.insert(name.clone(), Value::String(joined));
        }
        json!({"status": self.status, "headers": headers, "body": self.body_text()})
    }

    fn status_line(&self) -> String {
        format!("HTTP/1.1 {} {}", self.status, self.reason)
    }

    /// Says on stderr what stdout may not make plain: the mesh refused the
    /// request (its reason is the body), or the body broke off.
    fn warn(&self) {
        if self.refused() {
            console::error(&format!(
                "the mesh answered {} {}: {}",
                self.status,
                self.reason,
                self.body_text().trim_end()
            ));
        }
        if let Some(broke) = &self.broke {
            console::error(&format!(
                "the answer broke off after {} of body: {broke}",
                console::count(self.body.len() as u64, "byte")
            ));
        }
    }

    /// Status, headers (sorted, the volatile ones left out) and body, as
    /// the lines a diff compares.
    fn diff_text(&self) -> String {
        let mut headers: Vec<&(String, String)> = self
            .headers
            .iter()
            .filter(|(name, _)| !VOLATILE_HEADERS.contains(&name.as_str()))
            .collect();
        headers.sort();
        let mut text = self.status_line() + "\n";
        for (name, value) in headers {
            text += &format!("{name}: {value}\n");
        }
        text += "\n";
        text += &self.body_text();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text
    }
}

/// Sends `outgoing` to `target` through the gateway at `gateway`, by the
/// path form (`/{ns}.{module}/path`), which routes the same whatever the
/// address.
fn send(gateway: &str, target: &Target, outgoing: &Outgoing) -> Result<Reply> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        // Any method a service may answer, as the gateway passes them all.
        .allow_non_standard_methods(true)
        .build()
        .into();
    let url = format!("{gateway}/{}{}", target.address, target.path);
    let mut request = ureq::http::Request::builder()
        .method(outgoing.method.as_str())
        .uri(&url);
    for (name, value) in &outgoing.headers {
        request = request.header(name, value);
    }
    let sent = match &outgoing.body {
        Some(body) => agent.run(request.body(body.clone())?),
        None => agent.run(request.body(())?),
    };
    let response = sent.with_context(|| format!("the mesh gateway at {gateway} did not answer"))?;
    let status = response.status();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    // What arrived before a failure is kept: it is part of the answer.
    let broke = response
        .into_body()
        .into_reader()
        .read_to_end(&mut body)
        .err()
        .map(|e| e.to_string());
    Ok(Reply {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("").to_owned(),
        headers,
        body,
        broke,
    })
}

/// A mesh gateway served in this process on a free port of 127.0.0.1; it
/// serves until the process ends, which is when `wbx call` is done.
struct LocalGateway {
    url: String,
    /// The project's engine, when that is what answers.
    _booted: Option<Booted>,
}

impl LocalGateway {
    /// The project booted here, as `wbx run` would, with a gateway over its mesh.
    fn boot(project: &Project, target: &Target) -> Result<LocalGateway> {
        let booted = boot(project, false)?;
        if let Some(Err(error)) = booted
            .failures()
            .find(|l| l.module.name == target.module())
            .map(|l| &l.result)
        {
            bail!("{error:#}");
        }
        let url = serve(booted.mesh())?;
        Ok(LocalGateway {
            url,
            _booted: Some(booted),
        })
    }

    /// A scratch mesh of the project's services, `decl`'s running the
    /// component `bytes`. Its services cannot execute commands or query
    /// read models (those belong to the project's engine).
    fn scratch(project: &Project, decl: &ModuleDecl, bytes: &[u8]) -> Result<LocalGateway> {
        // Guest logs of a comparison are not the live module's: kept in memory only.
        let engine = Arc::new(Engine::new(EngineConfig {
            log_dir: None,
            ..project.engine_config()?
        })?);
        engine.set_envs(project.manifest.module_envs()?);
        for other in project
            .modules
            .iter()
            .filter(|m| m.kind == SERVICE && m.name != decl.name)
        {
            // One it calls may be missing; its calls then fail as they would.
            let _ = engine.load_file(
                &other.name,
                other.kind,
                &other.version,
                &other.artifact_path(&project.target_dir, false),
            );
        }
        engine
            .load(&decl.name, decl.kind, &decl.version, bytes)
            .with_context(|| format!("cannot load the --against version of '{}'", decl.name))?;
        let settings = settings(&project.manifest, &service_names(&project.modules))?;
        let mesh = MeshRuntime::new(engine.clone(), Arc::default(), &project.modules, settings);
        engine.route_http_with(Arc::new(MeshRouter(mesh.clone())));
        Ok(LocalGateway {
            url: serve(mesh)?,
            _booted: None,
        })
    }
}

/// Serves a gateway over `mesh` on a free port, on the current async runtime.
fn serve(mesh: Arc<MeshRuntime>) -> Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .context("cannot listen on 127.0.0.1 for a local gateway")?;
    listener.set_nonblocking(true)?;
    let url = format!("http://{}", listener.local_addr()?);
    let listener = tokio::net::TcpListener::from_std(listener)?;
    tokio::spawn(wbx_engine::mesh::gateway::serve(
        mesh,
        listener,
        std::future::pending(),
    ));
    Ok(url)
}

/// The service `target` names, for `--against`.
fn service<'a>(project: &'a Project, target: &Target) -> Result<&'a ModuleDecl> {
    let services: Vec<String> = project
        .modules
        .iter()
        .filter(|m| m.kind == SERVICE)
        .filter_map(|m| Some(format!("{}.{}", m.namespace.as_deref()?, m.name)))
        .collect();
    project
        .modules
        .iter()
        .find(|m| {
            m.kind == SERVICE
                && m.namespace
                    .as_deref()
                    .is_some_and(|ns| format!("{ns}.{}", m.name) == target.address)
        })
        .with_context(|| {
            format!(
                "--against: no service of the project answers to '{}'; services: {}",
                target.address,
                if services.is_empty() {
                    "none".to_owned()
                } else {
                    services.join(", ")
                }
            )
        })
}

/// `--against`: a version of `decl` kept from an earlier run, or a .wasm file.
fn version_bytes(project: &Project, decl: &ModuleDecl, against: &str) -> Result<Vec<u8>> {
    let path = match versions::against(&project.state.versions_dir(), &decl.name, against) {
        Ok(found) => found.path().to_owned(),
        Err(kept) => bail!(
            "--against '{against}' is neither a version of {} kept from an earlier run nor a \
             .wasm file; kept versions: {kept}",
            decl.name
        ),
    };
    std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
}

/// The body as it came; with `-i`, the status line and headers first.
fn print_reply(reply: &Reply, include: bool) {
    if include {
        console::out(&reply.status_line());
        for (name, value) in &reply.headers {
            console::out(&format!("{name}: {value}"));
        }
        console::out("");
    }
    let text = reply.body_text();
    // A line of its own, without doubling the body's own last newline.
    if !text.is_empty() {
        console::out(text.strip_suffix('\n').unwrap_or(&text));
    }
}

/// The unified diff from the current answer to the other version's; `None`
/// when they are the same.
fn diff(current: &Reply, current_label: &str, old: &Reply, version: &str) -> Option<String> {
    let (before, after) = (current.diff_text(), old.diff_text());
    (before != after).then(|| {
        similar::TextDiff::from_lines(&before, &after)
            .unified_diff()
            .header(current_label, version)
            .to_string()
    })
}

fn print_diff(current: &Reply, current_label: &str, old: &Reply, version: &str) {
    match diff(current, current_label, old, version) {
        None => {
            console::out(&format!(
                "{} the {current_label} and {version} answer the same ({} {})",
                paint(Stream::Stdout, "same:", GREEN),
                current.status,
                current.reason
            ));
        }
        Some(diff) => {
            for line in diff.lines() {
                let style = match line.chars().next() {
                    Some('-') if !line.starts_with("---") => RED,
                    Some('+') if !line.starts_with("+++") => GREEN,
                    _ => DIM,
                };
                console::out(&paint(Stream::Stdout, line, style));
            }
        }
    }
}
