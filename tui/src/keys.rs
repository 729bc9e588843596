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

use crate::app::{PaneId, pane_list};
use crate::model::{Scope, UiSpec};

/// Everything a key can ask for outside text input: the core's commands,
/// showing a pane, and a model's actions (by name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Command {
    Quit,
    Help,
    CommandMode,
    Filter,
    NextPane,
    PrevPane,
    Pane(PaneId),
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    Rebuild,
    Level,
    ModuleFilter,
    /// An action a model declared in its [`crate::model::UiSpec`].
    Model(&'static str),
}

/// The core's commands: each with its name in `tui.toml`, what it does,
/// its default keys and where it works. Panes and models add theirs.
const CORE: &[(Command, &str, &str, &[&str], Scope)] = &[
    (
        Command::Quit,
        "quit",
        "quit wbx dev",
        &["q", "ctrl-c"],
        Scope::Everywhere,
    ),
    (
        Command::Help,
        "help",
        "show or hide this help",
        &["?"],
        Scope::Everywhere,
    ),
    (
        Command::CommandMode,
        "command",
        "command mode (exec, rebuild, goto…)",
        &[":"],
        Scope::Everywhere,
    ),
    (
        Command::Filter,
        "filter",
        "filter the pane (type:, tag:, module:, level:, text)",
        &["/"],
        Scope::Everywhere,
    ),
    (
        Command::NextPane,
        "next-pane",
        "next pane",
        &["tab"],
        Scope::Everywhere,
    ),
    (
        Command::PrevPane,
        "prev-pane",
        "previous pane",
        &["backtab"],
        Scope::Everywhere,
    ),
];

/// The core's moves and its own panes' actions, after the panes.
const CORE_AFTER_PANES: &[(Command, &str, &str, &[&str], Scope)] = &[
    (
        Command::Up,
        "up",
        "move up (pauses following)",
        &["up", "k"],
        Scope::Everywhere,
    ),
    (
        Command::Down,
        "down",
        "move down",
        &["down", "j"],
        Scope::Everywhere,
    ),
    (
        Command::PageUp,
        "page-up",
        "a page up",
        &["pageup", "ctrl-u"],
        Scope::Everywhere,
    ),
    (
        Command::PageDown,
        "page-down",
        "a page down",
        &["pagedown", "ctrl-d"],
        Scope::Everywhere,
    ),
    (
        Command::Top,
        "top",
        "the first line",
        &["home", "g"],
        Scope::Everywhere,
    ),
    (
        Command::Bottom,
        "bottom",
        "the last line, and follow new ones",
        &["end", "G"],
        Scope::Everywhere,
    ),
    (
        Command::Open,
        "open",
        "open the selected row: a module, an event, a call, a process",
        &["enter"],
        Scope::Everywhere,
    ),
    (
        Command::Back,
        "back",
        "close a detail view, clear a filter",
        &["esc"],
        Scope::Everywhere,
    ),
    (
        Command::Rebuild,
        "rebuild",
        "modules: rebuild the selected module and swap it in",
        &["r"],
        Scope::Pane(PaneId::MODULES),
    ),
    (
        Command::Level,
        "level",
        "logs: cycle the lowest level shown",
        &["l"],
        Scope::Pane(PaneId::LOGS),
    ),
    (
        Command::ModuleFilter,
        "module",
        "logs: cycle the module shown",
        &["m"],
        Scope::Pane(PaneId::LOGS),
    ),
];

/// A command a key can be bound to: its name, what it does, its default
/// keys, where it works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub command: Command,
    pub name: &'static str,
    pub describe: String,
    pub defaults: Vec<String>,
    pub scope: Scope,
}

/// Every command: the core's, one per pane, and the models' actions.
fn specs(models: &[&UiSpec]) -> Vec<Spec> {
    let entry = |(command, name, describe, keys, scope): &(
        Command,
        &'static str,
        &'static str,
        &[&str],
        Scope,
    )| Spec {
        command: *command,
        name,
        describe: (*describe).to_owned(),
        defaults: keys.iter().map(|k| (*k).to_owned()).collect(),
        scope: *scope,
    };
    let panes = pane_list(models)
        .into_iter()
        .enumerate()
        .map(|(n, pane)| Spec {
            command: Command::Pane(pane.id),
            name: pane.action,
            describe: format!("the {} pane", pane.title),
            defaults: if n < 9 {
                vec![(n + 1).to_string()]
            } else {
                Vec::new()
            },
            scope: Scope::Everywhere,
        });
    let actions = models.iter().flat_map(|m| m.actions).map(|a| Spec {
        command: Command::Model(a.name),
        name: a.name,
        describe: a.describe.to_owned(),
        defaults: a.keys.iter().map(|k| (*k).to_owned()).collect(),
        scope: a.scope,
    });
    CORE.iter()
        .map(entry)
        .chain(panes)
        .chain(CORE_AFTER_PANES.iter().map(entry))
        .chain(actions)
        .collect()
}

/// Whether two scopes share a pane: a key may not mean two things there.
fn overlap(a: Scope, b: Scope) -> bool {
    match (a, b) {
        (Scope::Pane(a), Scope::Pane(b)) => a == b,
        _ => true,
    }
}

/// What a key means in a pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Found(Command),
    /// Bound, but to a command of another pane.
    Elsewhere(Command, PaneId),
    Unbound,
}

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
    specs: Vec<Spec>,
    bindings: Vec<(Key, Command)>,
}

/// The keys of the registered models, as the app starts with them.
impl Default for KeyMap {
    fn default() -> Self {
        KeyMap::new(crate::models::SPECS)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    keys: BTreeMap<String, Vec<String>>,
}

impl KeyMap {
    /// The default keys of the core and of `models`.
    pub fn new(models: &[&UiSpec]) -> KeyMap {
        let specs = specs(models);
        let bindings = specs
            .iter()
            .flat_map(|spec| {
                spec.defaults
                    .iter()
                    .map(|k| (Key::parse(k).expect("default keys parse"), spec.command))
            })
            .collect();
        KeyMap { specs, bindings }
    }

    fn spec(&self, command: Command) -> Option<&Spec> {
        self.specs.iter().find(|s| s.command == command)
    }

    fn scope(&self, command: Command) -> Scope {
        self.spec(command).map_or(Scope::Everywhere, |s| s.scope)
    }

    /// Every command, in the help's order.
    pub fn specs(&self) -> &[Spec] {
        &self.specs
    }

    /// What `event` means in `pane`: a key of that pane's own wins over
    /// the same key everywhere (`p` pauses a flow in the Flows pane and
    /// jumps to an event position in the others).
    pub fn lookup(&self, event: &KeyEvent, pane: PaneId) -> Lookup {
        let Some(key) = Key::from_event(event) else {
            return Lookup::Unbound;
        };
        let (mut everywhere, mut elsewhere) = (None, Lookup::Unbound);
        for (_, command) in self.bindings.iter().filter(|(k, _)| *k == key) {
            match self.scope(*command) {
                Scope::Pane(p) if p == pane => return Lookup::Found(*command),
                Scope::Everywhere => everywhere = everywhere.or(Some(*command)),
                Scope::Pane(p) => elsewhere = Lookup::Elsewhere(*command, p),
            }
        }
        everywhere.map_or(elsewhere, Lookup::Found)
    }

    /// The command `event` means wherever it works (overlays, which take
    /// keys in any pane, ask this).
    pub fn command(&self, event: &KeyEvent) -> Option<Command> {
        let key = Key::from_event(event)?;
        self.bindings
            .iter()
            .find(|(k, c)| *k == key && self.scope(*c) == Scope::Everywhere)
            .map(|(_, c)| *c)
    }

    pub fn keys_of(&self, command: Command) -> Vec<Key> {
        self.bindings
            .iter()
            .filter(|(_, c)| *c == command)
            .map(|(k, _)| *k)
            .collect()
    }

    pub fn hint(&self, command: Command) -> String {
        self.keys_of(command)
            .first()
            .map_or_else(|| "(unbound)".to_owned(), ToString::to_string)
    }

    /// The registered models' keys, remapped by `text` (a `tui.toml`).
    pub fn from_toml(text: &str, origin: &Path) -> Result<KeyMap> {
        KeyMap::default().remapped(text, origin)
    }

    /// These keys, remapped by `text` (a `tui.toml` read from `origin`).
    pub fn remapped(mut self, text: &str, origin: &Path) -> Result<KeyMap> {
        let config: ConfigFile = toml::from_str(text)
            .map_err(|e| anyhow::anyhow!("{}: {}", origin.display(), e.to_string().trim_end()))?;
        let mut bound: Vec<(Key, Command)> = Vec::new();
        for (name, keys) in &config.keys {
            let Some(spec) = self.specs.iter().find(|s| s.name == name) else {
                bail!(
                    "{}: [keys] has no action '{name}'; actions: {}",
                    origin.display(),
                    self.specs
                        .iter()
                        .map(|s| s.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            };
            let (command, scope) = (spec.command, spec.scope);
            self.bindings.retain(|(_, c)| *c != command);
            for text in keys {
                let key = Key::parse(text)
                    .map_err(|e| anyhow::anyhow!("{}: [keys] {name}: {e}", origin.display()))?;
                let clash = bound
                    .iter()
                    .find(|(k, c)| *k == key && *c != command && overlap(self.scope(*c), scope));
                if let Some((_, other)) = clash {
                    let other = self.spec(*other).map_or("?", |s| s.name);
                    bail!(
                        "{}: [keys] binds '{key}' to both '{other}' and '{name}'",
                        origin.display(),
                    );
                }
                bound.push((key, command));
            }
        }
        // A remapped key leaves the defaults it would clash with.
        let scope_of = |c: Command| self.scope(c);
        let kept: Vec<(Key, Command)> = self
            .bindings
            .iter()
            .filter(|(k, c)| {
                !bound
                    .iter()
                    .any(|(b, bc)| b == k && overlap(scope_of(*bc), scope_of(*c)))
            })
            .copied()
            .collect();
        self.bindings = kept;
        self.bindings.extend(bound);
        Ok(self)
    }

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
    fn a_key_scoped_to_a_pane_may_mean_something_else_in_another() {
        use crate::panes::events::{EVENTS, REPLAY};
        let m = key(KeyCode::Char('m'), KeyModifiers::NONE);
        let map =
            KeyMap::from_toml("[keys]\nstep-back = [\"m\"]\n", Path::new("tui.toml")).unwrap();
        assert_eq!(
            map.lookup(&m, PaneId::LOGS),
            Lookup::Found(Command::ModuleFilter)
        );
        assert_eq!(
            map.lookup(&m, REPLAY),
            Lookup::Found(Command::Model("step-back"))
        );
        assert!(
            matches!(map.lookup(&m, EVENTS), Lookup::Elsewhere(..)),
            "in a third pane the key means neither, and says where it works"
        );
        // A key that works everywhere cannot also mean something in one pane.
        let clash = KeyMap::from_toml(
            "[keys]\nstep-back = [\"q\"]\nquit = [\"q\"]\n",
            Path::new("tui.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(clash.contains("binds 'q' to both"), "{clash}");
    }

    #[test]
    fn a_key_of_the_pane_shown_wins_over_the_same_key_everywhere() {
        use crate::panes::events::EVENTS;
        use crate::panes::flows::FLOWS;
        let p = key(KeyCode::Char('p'), KeyModifiers::NONE);
        let map = KeyMap::default();
        assert_eq!(
            map.lookup(&p, FLOWS),
            Lookup::Found(Command::Model("pause-flow"))
        );
        assert_eq!(
            map.lookup(&p, EVENTS),
            Lookup::Found(Command::Model("goto"))
        );
        assert_eq!(
            map.lookup(&p, PaneId::LOGS),
            Lookup::Found(Command::Model("goto"))
        );
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
