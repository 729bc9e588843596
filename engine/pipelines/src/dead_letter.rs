//! A flow's dead letters: the elements that failed every attempt, one JSON
//! line each in `.wbx/flows/<flow>/dead-letter.jsonl`, kept until a redrive
//! takes them (so nothing is lost, even across restarts of the engine).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use wbx_core::project::StateLayout;
use wbx_core::sync::lock;

use crate::info::DeadLetter;

pub struct DeadLetterFile {
    path: PathBuf,
    /// Appends and the taking of the file, one at a time.
    write: Mutex<()>,
    /// One redrive at a time: two would send the same letters.
    redrive: tokio::sync::Mutex<()>,
}

impl DeadLetterFile {
    pub fn new(state: &StateLayout, flow: &str) -> DeadLetterFile {
        DeadLetterFile {
            path: state
                .dir()
                .join("flows")
                .join(flow)
                .join("dead-letter.jsonl"),
            write: Mutex::new(()),
            redrive: tokio::sync::Mutex::new(()),
        }
    }

    pub fn append(&self, letter: &DeadLetter) -> Result<()> {
        let _one = lock(&self.write);
        let dir = self.path.parent().expect("the file is in a folder");
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .with_context(|| format!("cannot open {}", self.path.display()))?;
        let mut line = serde_json::to_vec(letter)?;
        line.push(b'\n');
        file.write_all(&line)
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    /// Every dead letter, oldest first.
    pub fn read(&self) -> Result<Vec<DeadLetter>> {
        read_letters(&self.path)
    }

    /// Takes every dead letter out of the file, for a redrive. The file is
    /// renamed aside first and removed only once `send` has them all, so a
    /// failure keeps them (and the next redrive sends those first).
    pub async fn take<F, Fut>(&self, send: F) -> Result<usize>
    where
        F: FnOnce(Vec<DeadLetter>) -> Fut,
        Fut: Future<Output = Result<()>>,
    {
        let _one = self.redrive.lock().await;
        let taken = self.path.with_extension("jsonl.redriving");
        {
            let _one = lock(&self.write);
            if !taken.exists() {
                match fs::rename(&self.path, &taken) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
                    Err(e) => {
                        return Err(e)
                            .with_context(|| format!("cannot move {}", self.path.display()));
                    }
                }
            }
        }
        let letters = read_letters(&taken)?;
        let count = letters.len();
        send(letters).await?;
        fs::remove_file(&taken).with_context(|| format!("cannot remove {}", taken.display()))?;
        Ok(count)
    }
}

/// The dead letters of the file at `path`, oldest first (none when there
/// is no file).
fn read_letters(path: &Path) -> Result<Vec<DeadLetter>> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line)
                .with_context(|| format!("{}:{}: not a dead letter", path.display(), i + 1))
        })
        .collect()
}
