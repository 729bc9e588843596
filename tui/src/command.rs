//! Command mode: the lines `:` takes, parsed into what they ask for.

use crate::app::PaneId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Quit,
    Help,
    Pane(PaneId),
    Exec {
        command: String,
        input: String,
    },
    Rebuild(String),
    RebuildReadModel(String),
    Goto(u64),
    Filter(String),
    Replay {
        projector: String,
        position: Option<u64>,
    },
}

/// What `:` understands, for the help overlay and for errors.
pub const USAGE: &[(&str, &str)] = &[
    (
        "exec COMMAND [JSON]",
        "execute a command (JSON input, default {})",
    ),
    ("rebuild MODULE", "rebuild a module and swap it in"),
    (
        "rebuild-read-model PROJECTOR",
        "rebuild a projector's read model from the log (asks first)",
    ),
    ("goto POSITION", "show the event at a position"),
    (
        "replay PROJECTOR [POSITION]",
        "step a projector through the log, to a position (default: the end)",
    ),
    ("filter TEXT", "filter the current pane"),
    ("modules|events|logs|replay", "switch pane"),
    ("help", "this help"),
    ("quit", "quit wbx dev"),
];

pub fn parse(text: &str) -> Result<Line, String> {
    let text = text.trim();
    let (word, rest) = match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (text, ""),
    };
    let argument = |what: &str| {
        if rest.is_empty() {
            Err(format!("'{word}' needs {what}"))
        } else {
            Ok(rest.to_owned())
        }
    };
    Ok(match word {
        "q" | "quit" => Line::Quit,
        "help" | "?" => Line::Help,
        "pane" => {
            Line::Pane(PaneId::from_name(rest).ok_or_else(|| {
                format!("no pane named '{rest}': modules, events, logs or replay")
            })?)
        }
        "exec" | "x" => {
            let (command, input) = match rest.split_once(char::is_whitespace) {
                Some((command, input)) => (command, input.trim()),
                None => (rest, "{}"),
            };
            if command.is_empty() {
                return Err("'exec' needs a command name, then its JSON input".to_owned());
            }
            if let Err(e) = serde_json::from_str::<serde_json::Value>(input) {
                return Err(format!("the input of '{command}' is not JSON: {e}"));
            }
            Line::Exec {
                command: command.to_owned(),
                input: input.to_owned(),
            }
        }
        "rebuild" => Line::Rebuild(argument("a module name")?),
        "rebuild-read-model" => Line::RebuildReadModel(argument("a projector name")?),
        "goto" | "g" => Line::Goto(
            rest.parse()
                .map_err(|_| format!("'{rest}' is not a position (a whole number)"))?,
        ),
        "filter" => Line::Filter(rest.to_owned()),
        "replay" => {
            let mut words = rest.split_whitespace();
            let projector = words
                .next()
                .ok_or_else(|| "'replay' needs a projector name, then a position".to_owned())?;
            let position = match words.next() {
                Some(p) => Some(
                    p.parse()
                        .map_err(|_| format!("'{p}' is not a position (a whole number)"))?,
                ),
                None => None,
            };
            Line::Replay {
                projector: projector.to_owned(),
                position,
            }
        }
        "" => return Err("type a command; :help lists them".to_owned()),
        other => match PaneId::from_name(other) {
            Some(pane) => Line::Pane(pane),
            None => {
                return Err(format!(
                    "unknown command '{other}'; commands: exec, rebuild, rebuild-read-model, \
                     goto, replay, filter, modules, events, logs, help, quit"
                ));
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_command() {
        assert_eq!(
            parse("exec lend-book {\"book_id\": \"dune\"}"),
            Ok(Line::Exec {
                command: "lend-book".into(),
                input: "{\"book_id\": \"dune\"}".into()
            })
        );
        assert_eq!(
            parse("exec ping"),
            Ok(Line::Exec {
                command: "ping".into(),
                input: "{}".into()
            })
        );
        assert_eq!(parse("goto 42"), Ok(Line::Goto(42)));
        assert_eq!(parse("logs"), Ok(Line::Pane(PaneId::Logs)));
        assert_eq!(parse(" pane events "), Ok(Line::Pane(PaneId::Events)));
        assert_eq!(
            parse("rebuild-read-model catalog"),
            Ok(Line::RebuildReadModel("catalog".into()))
        );
        assert_eq!(parse("q"), Ok(Line::Quit));
        assert_eq!(
            parse("replay catalog 12"),
            Ok(Line::Replay {
                projector: "catalog".into(),
                position: Some(12)
            })
        );
        assert!(parse("replay").unwrap_err().contains("needs a projector"));
    }

    #[test]
    fn errors_say_what_was_wrong() {
        assert!(parse("exec add {oops").unwrap_err().contains("not JSON"));
        assert!(
            parse("goto x")
                .unwrap_err()
                .contains("'x' is not a position")
        );
        assert!(
            parse("rebuild")
                .unwrap_err()
                .contains("needs a module name")
        );
        assert!(
            parse("frobnicate")
                .unwrap_err()
                .contains("unknown command 'frobnicate'")
        );
        assert!(
            parse("pane nope")
                .unwrap_err()
                .contains("no pane named 'nope'")
        );
    }
}
