//! Guest output, kept per module: `log` host calls and every line a guest
//! writes to stdout or stderr.
//!
//! Each line goes to three places: a bounded in-memory ring per module (what
//! views show first), `.wbx/logs/<module>.log` (what survives the engine), and
//! the observation stream (what views follow live).

use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::SystemTime;

use serde::Serialize;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

use crate::observe::{Observation, Observer};

/// Lines kept in memory per module.
pub const RING_CAPACITY: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Where a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogSource {
    /// The `wbx:guest/log` import.
    Log,
    Stdout,
    Stderr,
}

#[derive(Debug, Clone, Serialize)]
pub struct LogLine {
    pub module: String,
    #[serde(with = "humantime_serde_ms")]
    pub at: SystemTime,
    pub level: Level,
    pub source: LogSource,
    pub text: String,
}

impl LogLine {
    /// The line as written to the module's log file.
    pub fn to_file_line(&self) -> String {
        format!(
            "{} {:<5} [{}] {}\n",
            humantime::format_rfc3339_millis(self.at),
            self.level.as_str(),
            match self.source {
                LogSource::Log => "log",
                LogSource::Stdout => "stdout",
                LogSource::Stderr => "stderr",
            },
            self.text
        )
    }
}

mod humantime_serde_ms {
    use std::time::SystemTime;

    pub fn serialize<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_rfc3339_millis(*t))
    }
}

/// The engine's log sink, shared by every store.
#[derive(Debug)]
pub struct Logs {
    dir: Option<PathBuf>,
    observer: Observer,
    modules: Mutex<HashMap<String, ModuleLog>>,
}

#[derive(Debug, Default)]
struct ModuleLog {
    ring: VecDeque<LogLine>,
    file: Option<File>,
    file_failed: bool,
}

impl Logs {
    /// `dir` is where `<module>.log` files go; `None` keeps logs in memory only.
    pub fn new(dir: Option<PathBuf>, observer: Observer) -> Self {
        Logs {
            dir,
            observer,
            modules: Mutex::default(),
        }
    }

    pub fn push(&self, module: &str, level: Level, source: LogSource, text: String) {
        let line = LogLine {
            module: module.to_owned(),
            at: SystemTime::now(),
            level,
            source,
            text,
        };
        {
            let mut modules = crate::sync::lock(&self.modules);
            let log = modules.entry(module.to_owned()).or_default();
            self.append_to_file(module, log, &line);
            if log.ring.len() == RING_CAPACITY {
                log.ring.pop_front();
            }
            log.ring.push_back(line.clone());
        }
        self.observer.publish(Observation::Log(line));
    }

    fn append_to_file(&self, module: &str, log: &mut ModuleLog, line: &LogLine) {
        let Some(dir) = &self.dir else { return };
        if log.file.is_none() && !log.file_failed {
            let path = dir.join(format!("{module}.log"));
            match OpenOptions::new().create(true).append(true).open(&path) {
                Ok(file) => log.file = Some(file),
                Err(e) => {
                    // Said once, in the ring and on the stream; the ring keeps working.
                    log.file_failed = true;
                    let warning = format!("cannot write {}: {e}", path.display());
                    log.ring.push_back(LogLine {
                        text: warning,
                        level: Level::Warn,
                        source: LogSource::Log,
                        ..line.clone()
                    });
                }
            }
        }
        if let Some(file) = &mut log.file
            && file.write_all(line.to_file_line().as_bytes()).is_err()
        {
            log.file = None;
            log.file_failed = true;
        }
    }

    /// The last lines of a module, oldest first.
    pub fn recent(&self, module: &str) -> Vec<LogLine> {
        let modules = crate::sync::lock(&self.modules);
        modules
            .get(module)
            .map(|log| log.ring.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// A guest's stdout or stderr: splits what it writes into lines for [`Logs`].
///
/// Stderr lines are also kept in `tail`, the store's own short memory, so a
/// trap after a panic can quote the panic message.
#[derive(Clone)]
pub(crate) struct GuestOutput {
    pub(crate) module: Arc<str>,
    pub(crate) source: LogSource,
    pub(crate) logs: Arc<Logs>,
    pub(crate) tail: Option<Arc<Mutex<VecDeque<String>>>>,
}

/// Stderr lines a store keeps for error messages.
pub(crate) const STDERR_TAIL: usize = 8;

impl GuestOutput {
    fn emit(&self, line: &[u8]) {
        let text = String::from_utf8_lossy(line)
            .trim_end_matches('\r')
            .to_owned();
        let level = match self.source {
            LogSource::Stderr => Level::Warn,
            _ => Level::Info,
        };
        if let Some(tail) = &self.tail {
            let mut tail = crate::sync::lock(tail);
            if tail.len() == STDERR_TAIL {
                tail.pop_front();
            }
            tail.push_back(text.clone());
        }
        self.logs.push(&self.module, level, self.source, text);
    }
}

/// One open stream of a [`GuestOutput`], holding a partial last line.
struct LineWriter {
    output: GuestOutput,
    partial: Vec<u8>,
}

impl LineWriter {
    fn write_bytes(&mut self, mut bytes: &[u8]) {
        while let Some(end) = bytes.iter().position(|&b| b == b'\n') {
            if self.partial.is_empty() {
                self.output.emit(&bytes[..end]);
            } else {
                self.partial.extend_from_slice(&bytes[..end]);
                let line = std::mem::take(&mut self.partial);
                self.output.emit(&line);
            }
            bytes = &bytes[end + 1..];
        }
        self.partial.extend_from_slice(bytes);
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.output.emit(&line);
        }
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(LineWriter {
            output: self.clone(),
            partial: Vec::new(),
        })
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(LineWriter {
            output: self.clone(),
            partial: Vec::new(),
        })
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for LineWriter {
    async fn ready(&mut self) {}
}

impl OutputStream for LineWriter {
    fn write(&mut self, bytes: bytes::Bytes) -> Result<(), StreamError> {
        self.write_bytes(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(64 * 1024)
    }
}

impl tokio::io::AsyncWrite for LineWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.get_mut().write_bytes(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
