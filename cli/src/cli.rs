//! The command line: every subcommand and flag, with its help text.

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "wbx",
    version,
    about = "A terminal-first workbench for WebAssembly guest modules",
    long_about = "A terminal-first workbench for WebAssembly guest modules.\n\n\
                  Builds the guest crates of a project for wasm32-wasip2 and runs them \
                  in a local wasmtime engine.",
    after_help = "Run `wbx doctor` first on a new machine; `wbx <command> --help` for details."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make a new project from a template
    New(NewArgs),
    /// Add a module crate of a kind to the current project, then build it
    Add(AddArgs),
    /// Build, then run the project's scenario tests (scenarios/*.toml)
    Test(TestArgs),
    /// Build the project's guest crates for wasm32-wasip2
    Build(BuildArgs),
    /// Check the toolchain, the wasm target and the project, with fixes
    Doctor(DoctorArgs),
    /// Measure wbx against the bare limit of what it does, scenario by scenario
    Bench(BenchArgs),
    /// Build, run, watch the sources, rebuild what changed and hot-swap it
    Dev(DevArgs),
    /// Build, then run the project's modules and serve the control API and the gateway
    Run(RunArgs),
    /// Execute a command, in the running engine or on the project's store
    Exec(ExecArgs),
    /// List events, or follow new ones live
    Events(EventsArgs),
    /// Write every event as JSON Lines
    Export(ExportArgs),
    /// Append events from a JSON Lines history (as `wbx export` writes it)
    Import(ImportArgs),
    /// Replay a history through a projector into a scratch read model, or two versions and diff them
    Replay(ReplayArgs),
    /// Send an HTTP request to a mesh service through the gateway, like curl
    Call(CallArgs),
    /// Show each mesh service's requests, errors, latency and breaker, and who calls it
    Routes(RoutesArgs),
    /// List the running engine's processes: mailbox, messages handled, memory, restarts
    Ps(PsArgs),
    /// Send a JSON message to a process, or call it and print the reply
    Send(SendArgs),
    /// Draw the running engine's supervision trees
    Tree(TreeArgs),
    /// Kill a process; its supervisor decides what follows
    Kill(KillArgs),
    /// List the running engine's flows: their stages' counts, rates and latency, their queues
    Flows(FlowsArgs),
    /// Start, stop, pause or resume a flow, or re-send its dead letters
    Flow(FlowArgs),
    /// Push elements (JSON values) into a flow's push source
    Push(PushArgs),
    /// Print the elements passing one edge of a flow, live
    Tap(TapArgs),
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Modules to build (all when none are named)
    #[arg(value_name = "MODULE")]
    pub modules: Vec<String>,
    /// Build with the release profile
    #[arg(long)]
    pub release: bool,
    /// Print the result as JSON on stdout (diagnostics still go to stderr)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print the checks as JSON
    #[arg(long)]
    pub json: bool,
}

/// Where a running engine listens, on 127.0.0.1.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct Ports {
    /// Port of the control API on 127.0.0.1 (a free one when not given)
    #[arg(long)]
    pub port: Option<u16>,
    /// Port of the mesh gateway on 127.0.0.1 (a free one when not given)
    #[arg(long)]
    pub gateway_port: Option<u16>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub ports: Ports,
    /// Run the release builds
    #[arg(long)]
    pub release: bool,
    /// Run what is built already instead of building first
    #[arg(long)]
    pub no_build: bool,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The command module to execute
    pub command: String,
    /// The input: JSON text, or @FILE to read it from a file (`{}` when not given)
    #[arg(long, short, value_name = "JSON|@FILE")]
    pub input: Option<String>,
    /// Executing twice with the same key appends once
    #[arg(long)]
    pub idempotency_key: Option<String>,
    /// Continue an existing correlation instead of starting one
    #[arg(long)]
    pub correlation_id: Option<String>,
    /// Print the outcome as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Only events of this type (repeat for any of several)
    #[arg(long = "type", value_name = "TYPE")]
    pub types: Vec<String>,
    /// Only events with this tag (repeat: all of them)
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Start at this position (inclusive)
    #[arg(long)]
    pub from: Option<u64>,
    /// At most this many events
    #[arg(long)]
    pub limit: Option<u64>,
    /// Newest first
    #[arg(long)]
    pub backwards: bool,
    /// Only events whose type, tags, data or ids contain this text (ASCII letters in any case)
    #[arg(long, value_name = "TEXT")]
    pub grep: Option<String>,
    /// Keep printing new events as they are appended (needs `wbx run`)
    #[arg(long, short)]
    pub follow: bool,
    /// One JSON object a line
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to this file instead of stdout
    #[arg(long, short)]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The JSON Lines file to import
    pub file: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The projector to replay
    pub projector: String,
    /// Replay an exported history (as `wbx export` writes it) instead of the project's store
    #[arg(long, value_name = "FILE")]
    pub from_file: Option<std::path::PathBuf>,
    /// Stop at this position: the read model as it was then
    #[arg(long, value_name = "POSITION")]
    pub to: Option<u64>,
    /// Replay a second version too and show how the read models differ:
    /// `build` (the working tree, built now into a target directory of its
    /// own; the project's build is left as it is), a .wasm file, or a
    /// version kept from an earlier run
    #[arg(long, value_name = "BUILD|WASM")]
    pub against: Option<String>,
    /// Replay the release build
    #[arg(long)]
    pub release: bool,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "URL: http://{namespace}.{module}/path, /{namespace}.{module}/path or \
                        {namespace}.{module}/path.\n\
                        Exits 0 whenever a response arrived, whatever its status (-f: not for \
                        a status of 400 or more)."
)]
pub struct CallArgs {
    /// The service and path: http://{namespace}.{module}/path (or without `http://`, or /{namespace}.{module}/path)
    pub url: String,
    /// The method (GET, or POST with -d)
    #[arg(long = "request", short = 'X', value_name = "METHOD")]
    pub method: Option<String>,
    /// A request header, 'Name: value' (repeat for several)
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// The request body: text, or @FILE to send a file's bytes
    #[arg(long = "data", short = 'd', value_name = "BODY|@FILE")]
    pub data: Option<String>,
    /// Print the status line and the response headers before the body
    #[arg(long = "include", short = 'i')]
    pub include: bool,
    /// Exit non-zero when the status is 400 or more
    #[arg(long = "fail", short = 'f')]
    pub fail: bool,
    /// Print one JSON object: {status, headers, body}
    #[arg(long)]
    pub json: bool,
    /// Send the same request to a version of the service kept from an
    /// earlier run (or a .wasm file) too, and show how the answers differ
    #[arg(long, value_name = "VERSION|WASM")]
    pub against: Option<String>,
}

#[derive(Debug, Args)]
pub struct RoutesArgs {
    /// Print the routes as the control API gives them: a JSON array
    #[arg(long)]
    pub json: bool,
}

/// What `wbx ps --help` and `wbx tree --help` end with.
const NEEDS_ENGINE: &str = "Processes exist only while an engine runs (`wbx run` or `wbx dev`): \
                            without one, this says so and exits 1.";

#[derive(Debug, Args)]
#[command(after_help = NEEDS_ENGINE)]
pub struct PsArgs {
    /// Print the processes as the control API gives them: a JSON array
    #[arg(long)]
    pub json: bool,
    /// Order by this column: counts largest first, text from A to Z
    #[arg(long, value_enum, value_name = "COLUMN", default_value_t = PsSort::Pid)]
    pub sort: PsSort,
}

/// The columns `wbx ps` orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PsSort {
    Pid,
    Name,
    Module,
    Mailbox,
    Handled,
    Memory,
    Restarts,
}

#[derive(Debug, Args)]
#[command(
    after_help = "TARGET: a pid such as '<0.12>' (quoted for the shell, or 0.12) or a \
                        registered name.\n\
                        Exits 0 once the message is in the target's mailbox (with --call, once \
                        the reply arrived); 1 when no engine runs, the message is not JSON, the \
                        target does not exist or its mailbox is full, or the call timed out or \
                        the target exited before replying."
)]
pub struct SendArgs {
    /// The process: a pid such as '<0.12>' or a registered name
    pub target: String,
    /// The message: JSON text, @FILE to read it from a file, or - to read standard input
    #[arg(value_name = "JSON|@FILE|-")]
    pub message: String,
    /// Call instead: wait for the handler's reply and print it (JSON)
    #[arg(long)]
    pub call: bool,
    /// How long --call waits for the reply, in milliseconds (the engine's default: 5000)
    #[arg(long, value_name = "MS", requires = "call", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout_ms: Option<u64>,
}

#[derive(Debug, Args)]
#[command(after_help = NEEDS_ENGINE)]
pub struct TreeArgs {
    /// Print the trees as the control API gives them: a JSON array of nested nodes
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "TARGET: a pid such as '<0.12>' (quoted for the shell, or 0.12) or a \
                        registered name. The kill cannot be trapped; a supervised process is \
                        restarted or not as its restart type says."
)]
pub struct KillArgs {
    /// The process: a pid such as '<0.12>' or a registered name
    pub target: String,
}

#[derive(Debug, Args)]
#[command(after_help = concat!(
    "Examples:\n",
    "  wbx flows          each flow: its status, then a line per stage and per edge\n",
    "  wbx flows --json   the control API's array, as the engine wrote it\n\n",
    "Flows run only while an engine runs (`wbx run` or `wbx dev`): without one, this says so \
     and exits 1."
))]
pub struct FlowsArgs {
    /// Print the flows as the control API gives them: a JSON array
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(after_help = concat!(
    "Examples:\n",
    "  wbx flow pause clicks     its stages take no more elements; its queues keep theirs\n",
    "  wbx flow resume clicks\n",
    "  wbx flow stop clicks      its sources stop; answers once what was queued went through\n",
    "  wbx flow start clicks     a new run: empty queues, fresh instances\n",
    "  wbx flow redrive clicks   each dead letter sent again into the stage where it failed\n\n",
    "Prints the flow's status after the change (redrive: how many were re-sent). Exits 1 \
     when no engine runs, the flow does not exist, or it is not running (pause, resume, \
     redrive)."
))]
pub struct FlowArgs {
    /// What to do
    #[arg(value_enum)]
    pub action: FlowAction,
    /// The flow: a `[flows.NAME]` of wbx.toml
    pub flow: String,
}

/// What `wbx flow` does to a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FlowAction {
    /// Start it when it is stopped, finished or failed
    Start,
    /// Stop its sources, let what is queued go through, then stop
    Stop,
    /// Hold every stage; queues keep what they hold
    Pause,
    /// Let a paused flow go on
    Resume,
    /// Send its dead letters again, each into the stage where it failed
    Redrive,
}

impl FlowAction {
    /// Its name, and the control API route's last segment.
    pub fn as_str(self) -> &'static str {
        match self {
            FlowAction::Start => "start",
            FlowAction::Stop => "stop",
            FlowAction::Pause => "pause",
            FlowAction::Resume => "resume",
            FlowAction::Redrive => "redrive",
        }
    }
}

#[derive(Debug, Args)]
#[command(after_help = concat!(
    "Examples:\n",
    "  wbx push clicks --data '{\"page\":\"/home\"}'\n",
    "  wbx push clicks --data @click.json --data '{\"page\":\"/cart\"}'\n",
    "  wbx push clicks < clicks.jsonl          one element a line (blank lines skipped)\n",
    "  wbx push clicks --node mobile --data 1  into the push source `mobile`\n\n",
    "Each element is a JSON value, checked here first: a value that is not JSON is shown \
     where it is (a line of standard input by its number) and nothing is pushed. Exits 0 \
     once the engine queued them all and prints how many and their sequence numbers; 1 \
     when no engine runs, the flow does not exist or is not running, or a queue with \
     policy `error` is full."
))]
pub struct PushArgs {
    /// The flow: a `[flows.NAME]` of wbx.toml
    pub flow: String,
    /// The push source to push into (needed when the flow has several)
    #[arg(long, value_name = "NAME")]
    pub node: Option<String>,
    /// One element: JSON text, or @FILE to read it from a file (repeat for
    /// several); without it, one element a line of standard input
    #[arg(long, short, value_name = "JSON|@FILE")]
    pub data: Vec<String>,
}

#[derive(Debug, Args)]
#[command(after_help = concat!(
    "Examples:\n",
    "  wbx tap clicks input enrich            what the node `input` sends to `enrich`\n",
    "  wbx tap clicks route top --port pages  the elements the router sends out of port `pages`\n",
    "  wbx tap clicks enrich top --json       one JSON object an element\n\n",
    "Prints `#SEQUENCE KEY CONTENT-TYPE PAYLOAD` an element (`-` for no key; a JSON payload \
     on one line). Only elements that pass after it starts are shown; it never holds the \
     flow: when it cannot keep up, a note says how many it skipped. Runs until Ctrl-C or \
     until the engine stops. Exits 1 when no engine runs or the flow or edge does not exist."
))]
pub struct TapArgs {
    /// The flow: a `[flows.NAME]` of wbx.toml
    pub flow: String,
    /// The node the edge leaves from
    pub from: String,
    /// The node the edge goes to
    pub to: String,
    /// The router port the edge leaves from (when FROM declares `ports`)
    #[arg(long, value_name = "PORT")]
    pub port: Option<String>,
    /// One JSON object an element, as the control API streams it
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DevArgs {
    #[command(flatten)]
    pub ports: Ports,
    /// Plain lines instead of a terminal interface (for scripts and logs)
    #[arg(long)]
    pub no_tui: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Scenarios to run (all when none are named)
    #[arg(value_name = "SCENARIO")]
    pub scenarios: Vec<String>,
    /// One JSON object a line: scenario, value, unit, baseline, ratio
    #[arg(long)]
    pub json: bool,
    /// Repetitions of each measurement; the median is reported
    #[arg(long, default_value_t = 5)]
    pub repetitions: usize,
    /// Work per repetition as a fraction of the full size (quick checks)
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Run the event store's scenarios on this PostgreSQL server
    /// (postgres://user@host/database), each in a scratch database it
    /// creates and drops; the user needs CREATEDB
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "In a terminal, without --yes, --template or --set, it asks for what is not given.\n\
                        Otherwise it never asks: NAME is needed and parameters take their defaults."
)]
pub struct NewArgs {
    /// The project's name, and the directory made for it here
    pub name: Option<String>,
    /// The template to start from (`wbx new --list` shows them)
    #[arg(long, short)]
    pub template: Option<String>,
    /// A template parameter, KEY=VALUE (repeat for several)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Ask nothing: defaults for everything not given
    #[arg(long, short)]
    pub yes: bool,
    /// Write into a directory that is not empty (files of the same name are replaced)
    #[arg(long)]
    pub force: bool,
    /// List the templates and their parameters
    #[arg(long, exclusive = true)]
    pub list: bool,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The kind of module: command, projector, effect, service, actor, source, processor or sink
    pub kind: String,
    /// The module's name: its crate and directory
    pub name: String,
    /// Only write the files; do not build
    #[arg(long)]
    pub no_build: bool,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Only scenarios whose file, module or name contains this text
    pub filter: Option<String>,
    /// One JSON object a scenario: file, line, scenario, module, passed, diff, error
    #[arg(long)]
    pub json: bool,
    /// Test what is built already instead of building first
    #[arg(long)]
    pub no_build: bool,
}
