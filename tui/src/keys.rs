//! Key bindings: what each key does outside text input, the defaults, and
//! the `[keys]` table of the user's `tui.toml` that remaps them.
//!
//! A remapped action's keys replace its defaults; a key bound to two
//! actions is refused with both named, so a typo never silently shadows a
//! binding.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

/// Everything a key can ask for outside text input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Command {
    Quit,
    Help,
    CommandMode,
    Filter,
    NextPane,
    PrevPane,
    Modules,
    Events,
    Logs,
    ReplayPane,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    Goto,
    Rebuild,
    RebuildReadModel,
    Level,
    ModuleFilter,
    Replay,
    StepBack,
    StepForward,
}

/// Each command: its name in `tui.toml`, what it does, its default keys.
const TABLE: &[(Command, &str, &str, &[&str])] = &[
    (Command::Quit, "quit", "quit wbx dev", &["q", "ctrl-c"]),
    (Command::Help, "help", "show or hide this help", &["?"]),
    (
        Command::CommandMode,
        "command",
        "command mode (exec, rebuild, goto…)",
        &[":"],
    ),
    (
        Command::Filter,
        "filter",
        "filter the pane (type:, tag:, module:, level:, text)",
        &["/"],
    ),
    (Command::NextPane, "next-pane", "next pane", &["tab"]),
    (
        Command::PrevPane,
        "prev-pane",
        "previous pane",
        &["backtab"],
    ),
    (Command::Modules, "modules", "the Modules pane", &["1"]),
    (Command::Events, "events", "the Events pane", &["2"]),
    (Command::Logs, "logs", "the Logs pane", &["3"]),
    (
        Command::ReplayPane,
        "replay-pane",
        "the Replay pane",
        &["4"],
    ),
    (
        Command::Up,
        "up",
        "move up (pauses following)",
        &["up", "k"],
    ),
    (Command::Down, "down", "move down", &["down", "j"]),
    (
        Command::PageUp,
        "page-up",
        "a page up",
        &["pageup", "ctrl-u"],
    ),
    (
        Command::PageDown,
        "page-down",
        "a page down",
        &["pagedown", "ctrl-d"],
    ),
    (Command::Top, "top", "the first line", &["home", "g"]),
    (
        Command::Bottom,
        "bottom",
        "the last line, and follow new ones",
        &["end", "G"],
    ),
    (
        Command::Open,
        "open",
        "open the selected module or event",
        &["enter"],
    ),
    (
        Command::Back,
        "back",
        "close a detail view, clear a filter",
        &["esc"],
    ),
    (Command::Goto, "goto", "jump to an event position", &["p"]),
    (
        Command::Rebuild,
        "rebuild",
        "rebuild the selected module and swap it in",
        &["r"],
    ),
    (
        Command::RebuildReadModel,
        "rebuild-read-model",
        "rebuild the selected projector's read model (asks first)",
        &["R"],
    ),
    (
        Command::Level,
        "level",
        "logs: cycle the lowest level shown",
        &["l"],
    ),
    (
        Command::ModuleFilter,
        "module",
        "logs: cycle the module shown",
        &["m"],
    ),
    (
        Command::Replay,
        "replay",
        "step a projector through the log from the selected event",
        &["s"],
    ),
    (
        Command::StepBack,
        "step-back",
        "replay: one event back",
        &["left", ","],
    ),
    (
        Command::StepForward,
        "step-forward",
        "replay: one event forward",
        &["right", "."],
    ),
];

impl Command {
    pub fn name(self) -> &'static str {
        entry(self).1
    }

    pub fn describe(self) -> &'static str {
        entry(self).2
    }

    pub fn all() -> impl Iterator<Item = Command> {
        TABLE.iter().map(|e| e.0)
    }
}

fn entry(
    command: Command,
) -> &'static (Command, &'static str, &'static str, &'static [&'static str]) {
    TABLE
        .iter()
        .find(|e| e.0 == command)
        .expect("every command is in the table")
}

/// A key with its modifiers, as bindings name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    code: KeyCodeOrd,
    ctrl: bool,
    alt: bool,
}

/// `KeyCode` without `Ord`; only the codes bindings can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum KeyCodeOrd {
    Char(char),
    F(u8),
    Named(&'static str),
}

const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("space", KeyCode::Char(' ')),
];

impl Key {
    /// The key of a terminal key event, or `None` for keys bindings cannot name.
    pub fn from_event(event: &KeyEvent) -> Option<Key> {
        let code = match event.code {
            KeyCode::Char(' ') => KeyCodeOrd::Named("space"),
            KeyCode::Char(c) => KeyCodeOrd::Char(c),
            KeyCode::F(n) => KeyCodeOrd::F(n),
            code => KeyCodeOrd::Named(NAMED.iter().find(|(_, c)| *c == code)?.0),
        };
        Some(Key {
            code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
            alt: event.modifiers.contains(KeyModifiers::ALT),
        })
    }

    /// Parses `q`, `G`, `?`, `enter`, `ctrl-u`, `alt-x`, `f5`, `space`.
    pub fn parse(text: &str) -> Result<Key, String> {
        let mut rest = text;
        let (mut ctrl, mut alt) = (false, false);
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-").filter(|r| !r.is_empty()) {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-").filter(|r| !r.is_empty()) {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCodeOrd::Char(c),
            _ => {
                let lower = rest.to_ascii_lowercase();
                if let Some((name, _)) = NAMED.iter().find(|(n, _)| *n == lower) {
                    KeyCodeOrd::Named(name)
                } else if let Some(n) = lower
                    .strip_prefix('f')
                    .and_then(|n| n.parse::<u8>().ok())
                    .filter(|n| (1..=12).contains(n))
                {
                    KeyCodeOrd::F(n)
                } else {
                    return Err(format!(
                        "'{text}' is not a key: use a character, f1…f12, or one of {}, \
                         optionally after ctrl- or alt-",
                        NAMED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                    ));
                }
            }
        };
        Ok(Key { code, ctrl, alt })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCodeOrd::Char(c) => write!(f, "{c}"),
            KeyCodeOrd::F(n) => write!(f, "f{n}"),
            KeyCodeOrd::Named(name) => f.write_str(name),
        }
    }
}

/// Which command each key runs, in the order the bindings were given (the
/// first key of a command is the one hints show).
#[derive(Debug, Clone)]
pub struct KeyMap {
    bindings: Vec<(Key, Command)>,
}

impl Default for KeyMap {
    fn default() -> Self {
        let bindings = TABLE
            .iter()
            .flat_map(|(command, _, _, keys)| {
                keys.iter()
                    .map(move |k| (Key::parse(k).expect("default keys parse"), *command))
            })
            .collect();
        KeyMap { bindings }
    }
}

/// The user's `tui.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    keys: BTreeMap<String, Vec<String>>,
}

impl KeyMap {
    pub fn command(&self, event: &KeyEvent) -> Option<Command> {
        let key = Key::from_event(event)?;
        self.bindings
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, c)| *c)
    }

    /// The keys bound to `command`, in the order they were given.
    pub fn keys_of(&self, command: Command) -> Vec<Key> {
        self.bindings
            .iter()
            .filter(|(_, c)| *c == command)
            .map(|(k, _)| *k)
            .collect()
    }

    /// The first key of `command` as text, for hints.
    pub fn hint(&self, command: Command) -> String {
        self.keys_of(command)
            .first()
            .map_or_else(|| "(unbound)".to_owned(), ToString::to_string)
    }

    /// The defaults with `text`'s `[keys]` applied; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &Path) -> Result<KeyMap> {
        let config: ConfigFile = toml::from_str(text)
            .map_err(|e| anyhow::anyhow!("{}: {}", origin.display(), e.to_string().trim_end()))?;
        let mut map = KeyMap::default();
        // Keys this file binds: one may take over a default of an action the
        // file leaves alone, but not a key the file gives another action.
        let mut bound: Vec<(Key, Command)> = Vec::new();
        for (name, keys) in &config.keys {
            let Some(&(command, ..)) = TABLE.iter().find(|e| e.1 == name) else {
                bail!(
                    "{}: [keys] has no action '{name}'; actions: {}",
                    origin.display(),
                    TABLE.iter().map(|e| e.1).collect::<Vec<_>>().join(", ")
                );
            };
            map.bindings.retain(|(_, c)| *c != command);
            for text in keys {
                let key = Key::parse(text)
                    .map_err(|e| anyhow::anyhow!("{}: [keys] {name}: {e}", origin.display()))?;
                if let Some((_, other)) = bound.iter().find(|(k, c)| *k == key && *c != command) {
                    bail!(
                        "{}: [keys] binds '{key}' to both '{}' and '{name}'",
                        origin.display(),
                        other.name()
                    );
                }
                bound.push((key, command));
            }
        }
        // The file's keys take over defaults of actions it leaves alone.
        map.bindings
            .retain(|(k, _)| !bound.iter().any(|(b, _)| b == k));
        map.bindings.extend(bound);
        Ok(map)
    }

    /// The user's key map: `tui.toml` in the wbx config directory when it
    /// exists, the defaults otherwise.
    pub fn load() -> Result<KeyMap> {
        let Some(path) = config_file() else {
            return Ok(KeyMap::default());
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => KeyMap::from_toml(&text, &path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(KeyMap::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }
}

/// `$WBX_CONFIG_DIR/tui.toml`, else `$XDG_CONFIG_HOME/wbx/tui.toml`, else
/// `~/.config/wbx/tui.toml`.
pub fn config_file() -> Option<PathBuf> {
    let env = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let dir = env("WBX_CONFIG_DIR")
        .or_else(|| env("XDG_CONFIG_HOME").map(|d| d.join("wbx")))
        .or_else(|| env("HOME").map(|d| d.join(".config").join("wbx")))?;
    Some(dir.join("tui.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn defaults_bind_the_usual_keys() {
        let map = KeyMap::default();
        let none = KeyModifiers::NONE;
        assert_eq!(
            map.command(&key(KeyCode::Char('q'), none)),
            Some(Command::Quit)
        );
        assert_eq!(
            map.command(&key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Command::Quit)
        );
        assert_eq!(
            map.command(&key(KeyCode::Char('?'), none)),
            Some(Command::Help)
        );
        assert_eq!(map.command(&key(KeyCode::Enter, none)), Some(Command::Open));
        assert_eq!(
            map.command(&key(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Command::Bottom)
        );
        assert_eq!(map.command(&key(KeyCode::Char('z'), none)), None);
    }

    #[test]
    fn a_remap_replaces_the_defaults_of_its_action() {
        let map = KeyMap::from_toml(
            "[keys]\nquit = [\"x\", \"ctrl-q\"]\n",
            Path::new("tui.toml"),
        )
        .unwrap();
        let none = KeyModifiers::NONE;
        assert_eq!(
            map.command(&key(KeyCode::Char('x'), none)),
            Some(Command::Quit)
        );
        assert_eq!(
            map.command(&key(KeyCode::Char('q'), KeyModifiers::CONTROL)),
            Some(Command::Quit)
        );
        assert_eq!(map.command(&key(KeyCode::Char('q'), none)), None);
        assert_eq!(map.hint(Command::Quit), "x");
    }

    #[test]
    fn bad_config_names_file_and_problem() {
        let bad_action = KeyMap::from_toml("[keys]\nquitt = [\"x\"]\n", Path::new("cfg/tui.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            bad_action.contains("cfg/tui.toml") && bad_action.contains("'quitt'"),
            "{bad_action}"
        );
        let bad_key = KeyMap::from_toml("[keys]\nquit = [\"hyper-x\"]\n", Path::new("tui.toml"))
            .unwrap_err()
            .to_string();
        assert!(bad_key.contains("'hyper-x' is not a key"), "{bad_key}");
        let twice = KeyMap::from_toml(
            "[keys]\nquit = [\"x\"]\nhelp = [\"x\"]\n",
            Path::new("tui.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            twice.contains("'x'") && twice.contains("help") && twice.contains("quit"),
            "{twice}"
        );
        let syntax = KeyMap::from_toml("[keys\n", Path::new("tui.toml"))
            .unwrap_err()
            .to_string();
        assert!(syntax.contains("line 1"), "{syntax}");
    }
}
