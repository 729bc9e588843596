//! Command mode: the lines `:` takes. The core reads its own words (panes,
//! rebuild, filter, help, quit); any other word goes to the models, each of
//! which takes its own (`exec`, `goto`, `replay`, …).

/// A line of the core's, or one for the models.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Quit,
    Help,
    /// `:NAME` or `:pane NAME`: show that pane.
    Pane(String),
    Rebuild(String),
    Filter(String),
    /// Not the core's: `WORD REST`, for the models.
    Other {
        word: String,
        rest: String,
    },
}

/// What the core's `:` understands, for the help overlay.
pub const USAGE: &[(&str, &str)] = &[
    ("rebuild MODULE", "rebuild a module and swap it in"),
    ("filter TEXT", "filter the current pane"),
    ("help", "this help"),
    ("quit", "quit wbx dev"),
];

pub fn parse(text: &str) -> Result<Line, String> {
    let text = text.trim();
    let (word, rest) = match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (text, ""),
    };
    Ok(match word {
        "q" | "quit" => Line::Quit,
        "help" | "?" => Line::Help,
        "pane" => Line::Pane(rest.to_owned()),
        "rebuild" if rest.is_empty() => return Err("'rebuild' needs a module name".to_owned()),
        "rebuild" => Line::Rebuild(rest.to_owned()),
        "filter" => Line::Filter(rest.to_owned()),
        "" => return Err("type a command; :help lists them".to_owned()),
        other => Line::Other {
            word: other.to_owned(),
            rest: rest.to_owned(),
        },
    })
}

/// The first word of each usage line: the commands there are.
pub fn words<'a>(usage: impl IntoIterator<Item = &'a (&'a str, &'a str)>) -> Vec<&'a str> {
    usage
        .into_iter()
        .filter_map(|(usage, _)| usage.split_whitespace().next())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_core_words_and_hands_on_the_rest() {
        assert_eq!(parse("q"), Ok(Line::Quit));
        assert_eq!(parse(" pane events "), Ok(Line::Pane("events".into())));
        assert_eq!(
            parse("rebuild add-book"),
            Ok(Line::Rebuild("add-book".into()))
        );
        assert_eq!(parse("filter type:A"), Ok(Line::Filter("type:A".into())));
        assert_eq!(
            parse("exec lend-book {\"book_id\": \"dune\"}"),
            Ok(Line::Other {
                word: "exec".into(),
                rest: "lend-book {\"book_id\": \"dune\"}".into()
            })
        );
        assert_eq!(
            parse("logs"),
            Ok(Line::Other {
                word: "logs".into(),
                rest: String::new()
            })
        );
    }

    #[test]
    fn errors_say_what_was_wrong() {
        assert!(
            parse("rebuild")
                .unwrap_err()
                .contains("needs a module name")
        );
        assert!(parse("  ").unwrap_err().contains(":help lists them"));
        assert_eq!(words(USAGE), ["rebuild", "filter", "help", "quit"]);
    }
}
