//! The mesh model's `wbx bench` scenarios, each measured next to its bare
//! baseline in the same run, with the `echo` test service. Value and
//! baseline alternate within each repetition, so a machine that slows down
//! slows both.
//!
//! | scenario | value | baseline (the limit) |
//! |---|---|---|
//! | `mesh-call` | routed calls/s: one caller instance (`echo`'s `/repeat/{n}/test.echo/hello`) calling `http://test.echo/hello` n times in a row, each call routed in-process to a fresh `echo` | `echo` instantiated and its handler called for `/hello`, n times, with bare wasmtime + `wasmtime-wasi-http` |
//! | `gateway` | requests/s of `GET /hello` through the gateway from 32 keep-alive HTTP/1.1 clients | the same component behind a bare hyper server driving `wasmtime-wasi-http` (what `wasmtime serve` does), the same clients |
//! | `mesh-call-p50`, `-p99` | ms one routed call of `mesh-call` takes, as the mesh records it (no baseline) | — |
//! | `gateway-p50`, `-p99` | ms a client waits for a request of `gateway` (no baseline) | — |
//!
//! - [`groups`]: the one group, what the model registers.
//! - `Bare`: the baseline's host: the component, its `ProxyPre`, one
//!   store per request; `serve_bare` puts it behind hyper.
//! - `load`: the 32 clients, used for both servers.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use http_body::Body;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Barrier;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker};
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiBody, WasiHttpView};
use wbx_core::bench::{
    BareWasi, BenchFuture, BenchGroup, BenchOptions, BenchRun, Measurement, figure, measurement,
    per_second, summarize,
};
use wbx_core::host_http::Caller;
use wbx_core::project::ModuleDecl;
use wbx_core::{Catalog, Engine, EngineConfig, Limits};

use crate::kinds::{KINDS, SERVICE};
use crate::router::MeshRouter;
use crate::runtime::{GATEWAY, MeshRuntime};
use crate::settings::MeshSettings;

/// Clients of the `gateway` scenario, each on its own keep-alive connection.
const CLIENTS: usize = 32;
/// What `echo` answers to `GET /hello`.
const HELLO: &str = "hello from echo";

/// The mesh model's scenarios.
pub fn groups() -> Vec<BenchGroup> {
    vec![BenchGroup {
        names: &[
            "mesh-call",
            "mesh-call-p50",
            "mesh-call-p99",
            "gateway",
            "gateway-p50",
            "gateway-p99",
        ],
        run: run_group,
    }]
}

fn run_group(run: BenchRun<'_>) -> BenchFuture<'_> {
    Box::pin(async move {
        let BenchRun {
            guests,
            options,
            report,
        } = run;
        let echo = guests.get("echo")?;
        // Compiled once for every repetition: the scenarios measure serving.
        let mesh = mesh_of(echo)?;
        let bare = Arc::new(Bare::new(echo)?);
        if selected(options, "mesh-call") {
            let n = options.size(1_000.0);
            let mut runs = Runs::default();
            for _ in 0..options.reps() {
                let value = routed_calls(&mesh, n).await?;
                let baseline = direct_calls(&bare, n).await?;
                runs.push(value, baseline);
            }
            runs.report("mesh-call", "calls/s", options, report);
        }
        if selected(options, "gateway") {
            let per_client = options.size(100.0);
            let gateway = Server::gateway(mesh.clone()).await?;
            let plain = Server::bare(bare.clone()).await?;
            let mut runs = Runs::default();
            for _ in 0..options.reps() {
                let value = load(gateway.address, per_client).await?;
                let baseline = load(plain.address, per_client).await?;
                runs.push(value, baseline.rate);
            }
            gateway.stop().await?;
            plain.stop().await?;
            runs.report("gateway", "requests/s", options, report);
        }
        Ok(())
    })
}

/// Whether `scenario` or one of its latency figures is to be run.
fn selected(options: &BenchOptions, scenario: &str) -> bool {
    ["", "-p50", "-p99"]
        .iter()
        .any(|suffix| options.selected(&format!("{scenario}{suffix}")))
}

/// One repetition's rate and the latency of each of its requests.
struct Sample {
    rate: f64,
    latencies: Vec<Duration>,
}

impl Sample {
    fn new(latencies: Vec<Duration>, elapsed: Duration) -> Self {
        Sample {
            rate: per_second(latencies.len(), elapsed),
            latencies,
        }
    }

    /// The latency below which `q` (0..=1) of the requests fall, in ms.
    fn percentile_ms(&mut self, q: f64) -> f64 {
        self.latencies.sort_unstable();
        let at = ((self.latencies.len() - 1) as f64 * q).round() as usize;
        self.latencies[at].as_secs_f64() * 1000.0
    }
}

/// The repetitions of a scenario: its rate, its latencies, its baseline.
#[derive(Default)]
struct Runs {
    rates: Vec<f64>,
    p50s: Vec<f64>,
    p99s: Vec<f64>,
    baselines: Vec<f64>,
}

impl Runs {
    fn push(&mut self, mut value: Sample, baseline: f64) {
        self.rates.push(value.rate);
        self.p50s.push(value.percentile_ms(0.5));
        self.p99s.push(value.percentile_ms(0.99));
        self.baselines.push(baseline);
    }

    /// Reports the scenario's selected figures: the rate against its
    /// baseline, and the median over the repetitions of each percentile.
    fn report(
        self,
        scenario: &str,
        unit: &str,
        options: &BenchOptions,
        report: &mut dyn FnMut(&Measurement),
    ) {
        if options.selected(scenario) {
            let (rates, baselines) = (summarize(self.rates), summarize(self.baselines));
            report(&measurement(scenario, unit, rates, baselines));
        }
        for (suffix, values) in [("-p50", self.p50s), ("-p99", self.p99s)] {
            let name = format!("{scenario}{suffix}");
            if options.selected(&name) {
                report(&figure(&name, "ms", summarize(values)));
            }
        }
    }
}

/// A mesh of one service, `echo` as `test.echo`, routing its modules'
/// requests, on an engine without caches.
fn mesh_of(echo: &[u8]) -> Result<Arc<MeshRuntime>> {
    let engine = Arc::new(Engine::new(EngineConfig {
        cache_dir: None,
        log_dir: None,
        limits: Limits::default(),
        kinds: Catalog::new(KINDS.to_vec()),
    })?);
    engine.load("echo", SERVICE, "0.1.0", echo)?;
    let echo = ModuleDecl::prebuilt("echo", SERVICE, Some("test"), PathBuf::new());
    let runtime = MeshRuntime::new(
        engine.clone(),
        Arc::default(),
        &[echo],
        // Every routed call of a `mesh-call` repetition stays in the log.
        MeshSettings {
            keep_calls: 100_000,
            ..MeshSettings::default()
        },
    );
    engine.route_http_with(Arc::new(MeshRouter(runtime.clone())));
    Ok(runtime)
}

fn empty() -> WasiBody {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// `n` routed calls from one caller instance: one request to `echo`'s
/// `/repeat/{n}/test.echo/hello`, whose instance calls
/// `http://test.echo/hello` `n` times in a row (each a fresh `echo`). Each
/// call's latency is the mesh's own record of it.
async fn routed_calls(mesh: &Arc<MeshRuntime>, n: usize) -> Result<Sample> {
    // Where the gateway stands, without its TCP.
    let caller = Caller {
        module: Arc::from(GATEWAY),
        traceparent: None,
        hops: 0,
    };
    let before = mesh.last_call_id();
    let url = format!("http://test.echo/repeat/{n}/test.echo/hello");
    let start = Instant::now();
    let response = mesh
        .dispatch(&caller, http::Request::get(url).body(empty())?)
        .await;
    let body = response.into_body().collect().await;
    let elapsed = start.elapsed();
    let body = body
        .map_err(|e| anyhow!("the caller's answer broke off: {e}"))?
        .to_bytes();
    let wanted = format!("{n} calls, {n} ok");
    if body != wanted.as_bytes() {
        bail!(
            "the caller answered {:?}, not {wanted:?}",
            String::from_utf8_lossy(&body)
        );
    }
    let latencies: Vec<Duration> = mesh
        .calls_since(before, usize::MAX)
        .iter()
        .filter(|call| call.caller == "echo")
        .map(|call| Duration::from_micros(call.latency_us))
        .collect();
    if latencies.len() != n {
        bail!(
            "the mesh recorded {} routed calls, not {n}",
            latencies.len()
        );
    }
    Ok(Sample {
        rate: per_second(n, elapsed),
        latencies,
    })
}

/// The limit of a call: `n` times a fresh `echo` and its handler called
/// for `/hello`, with nothing of wbx around it.
async fn direct_calls(bare: &Bare, n: usize) -> Result<f64> {
    let start = Instant::now();
    for _ in 0..n {
        let request = http::Request::get("http://test.echo/hello").body(Empty::<Bytes>::new())?;
        expect_hello("the direct call", bare.handle(request).await?).await?;
    }
    Ok(per_second(n, start.elapsed()))
}

/// Reads `response` to its end; an error unless it is `200 hello from echo`.
async fn expect_hello<B>(what: &str, response: http::Response<B>) -> Result<()>
where
    B: Body<Data = Bytes>,
    B::Error: std::fmt::Display,
{
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| anyhow!("{what}: the body failed: {e}"))?
        .to_bytes();
    if status != http::StatusCode::OK || body != HELLO {
        bail!(
            "{what} answered {status} '{}', not 200 '{HELLO}'",
            String::from_utf8_lossy(&body)
        );
    }
    Ok(())
}

/// The baseline's host, as `wasmtime serve` and `wasmtime-wasi-http`'s own
/// example have it: the component pre-instantiated, and per request a
/// store with WASI and `wasi:http`, an instance and the handler's call.
struct Bare {
    pre: ProxyPre<BareState>,
}

/// A baseline request's store: WASI and `wasi:http`, nothing more.
type BareState = BareWasi;

impl Bare {
    fn new(component: &[u8]) -> Result<Self> {
        let engine = wasmtime::Engine::default();
        let component = Component::new(&engine, component).map_err(|e| {
            anyhow::Error::from(e).context("the baseline cannot compile the benchmark service")
        })?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        stub_outside_wasi(&mut linker, &component)?;
        Ok(Bare {
            pre: ProxyPre::new(linker.instantiate_pre(&component)?)?,
        })
    }

    /// One request on a fresh instance; the body streams from the instance
    /// while its task runs, as the mesh's does.
    async fn handle<B>(
        &self,
        request: http::Request<B>,
    ) -> Result<http::Response<HyperOutgoingBody>>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let mut store = wasmtime::Store::new(self.pre.engine(), BareWasi::default());
        let (head_tx, head_rx) = tokio::sync::oneshot::channel();
        let request = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, request)?;
        let out = store.data_mut().http().new_response_outparam(head_tx)?;
        let pre = self.pre.clone();
        let task = tokio::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, request, out)
                .await
        });
        match head_rx.await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(code)) => bail!("the bare service answered with an error: {code:?}"),
            Err(_) => match task.await? {
                Ok(()) => bail!("the bare service returned without a response"),
                Err(e) => Err(anyhow::Error::from(e).context("the bare service failed")),
            },
        }
    }
}

/// Links `component`'s imports outside WASI (`echo`'s wbx interfaces, for
/// routes the scenarios never take) to functions that trap. Wasmtime's
/// `define_unknown_imports_as_traps` would also stub the WASI interfaces
/// the component imports at a newer patch version than the linker's,
/// breaking their shared resources.
fn stub_outside_wasi(linker: &mut Linker<BareState>, component: &Component) -> Result<()> {
    let engine = linker.engine().clone();
    for (name, item) in component.component_type().imports(&engine) {
        if name.starts_with("wasi:") {
            continue;
        }
        let ComponentItem::ComponentInstance(instance) = item.ty else {
            bail!("the benchmark service imports '{name}', which is no interface");
        };
        let mut stubs = linker.instance(name)?;
        for (function, item) in instance.exports(&engine) {
            if let ComponentItem::ComponentFunc(_) = item.ty {
                let what = format!("{name}#{function}");
                stubs.func_new(function, move |_, _, _, _| {
                    Err(wasmtime::Error::msg(format!(
                        "{what} is not linked in the baseline"
                    )))
                })?;
            }
        }
    }
    Ok(())
}

/// A server on a loopback port, stopped at the end of the scenario.
struct Server {
    address: SocketAddr,
    stop: Box<dyn FnOnce() + Send>,
    served: tokio::task::JoinHandle<Result<()>>,
}

impl Server {
    /// The mesh's gateway over `mesh`.
    async fn gateway(mesh: Arc<MeshRuntime>) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(crate::gateway::serve(mesh, listener, async {
            let _ = stop_rx.await;
        }));
        Ok(Server {
            address,
            stop: Box::new(move || {
                let _ = stop_tx.send(());
            }),
            served,
        })
    }

    /// `bare` behind hyper.
    async fn bare(bare: Arc<Bare>) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let served = tokio::spawn(serve_bare(bare, listener));
        let abort = served.abort_handle();
        Ok(Server {
            address,
            stop: Box::new(move || abort.abort()),
            served,
        })
    }

    async fn stop(self) -> Result<()> {
        (self.stop)();
        match self.served.await {
            Err(e) if e.is_cancelled() => Ok(()),
            served => served?,
        }
    }
}

/// Serves `bare` on `listener`: HTTP/1.1 with keep-alive, one task per
/// connection, as the gateway does.
async fn serve_bare(bare: Arc<Bare>, listener: TcpListener) -> Result<()> {
    loop {
        let (stream, _) = listener
            .accept()
            .await
            .context("the bare server cannot accept")?;
        let _ = stream.set_nodelay(true);
        let bare = bare.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let bare = bare.clone();
                async move { bare.handle(request).await }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// [`CLIENTS`] clients, each on its own connection to `address` (opened
/// and tried with one request before the clock starts), each sending
/// `per_client` requests one after another.
async fn load(address: SocketAddr, per_client: usize) -> Result<Sample> {
    let ready = Arc::new(Barrier::new(CLIENTS + 1));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| tokio::spawn(client(address, per_client, ready.clone())))
        .collect();
    ready.wait().await;
    let start = Instant::now();
    let mut latencies = Vec::with_capacity(CLIENTS * per_client);
    for client in clients {
        latencies.extend(client.await??);
    }
    Ok(Sample::new(latencies, start.elapsed()))
}

async fn client(
    address: SocketAddr,
    requests: usize,
    ready: Arc<Barrier>,
) -> Result<Vec<Duration>> {
    let connected = connect(address).await;
    // Every client reaches the barrier, or the others would wait for ever.
    ready.wait().await;
    let mut sender = connected?;
    let mut latencies = Vec::with_capacity(requests);
    for _ in 0..requests {
        let sent = Instant::now();
        get_hello(&mut sender).await?;
        latencies.push(sent.elapsed());
    }
    Ok(latencies)
}

async fn connect(address: SocketAddr) -> Result<SendRequest<Empty<Bytes>>> {
    let stream = TcpStream::connect(address)
        .await
        .with_context(|| format!("cannot connect to {address}"))?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    get_hello(&mut sender).await?;
    Ok(sender)
}

async fn get_hello(sender: &mut SendRequest<Empty<Bytes>>) -> Result<()> {
    sender.ready().await?;
    let request = http::Request::get("/hello")
        .header(http::header::HOST, "test.echo")
        .body(Empty::new())?;
    let response = sender.send_request(request).await?;
    expect_hello("GET /hello", response).await
}
