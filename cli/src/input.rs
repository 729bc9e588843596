//! JSON the user gives on the command line (`wbx send`, `wbx push`): an
//! argument, a file (`@FILE`) or standard input, checked here first, so a
//! typo is shown where it is (line, column and the line itself) rather than
//! as the engine's refusal.

use std::io::Read;

use anyhow::{Context, Result, bail};
use serde::de::IgnoredAny;

/// `what`'s text (`the message`): the argument itself, a file's (`@FILE`)
/// or standard input's (`-`), checked to be one JSON value.
pub fn json(argument: &str, what: &str) -> Result<String> {
    let (text, origin) = if argument == "-" {
        (stdin(what)?, format!("{what} on standard input"))
    } else if let Some(path) = argument.strip_prefix('@') {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {what} from {path}"))?;
        (text, format!("{what} in {path}"))
    } else {
        (argument.to_owned(), what.to_owned())
    };
    if let Err(error) = serde_json::from_str::<IgnoredAny>(&text) {
        bail!("{}", not_json(&origin, &text, 1, &error));
    }
    Ok(text)
}

/// Standard input, whole.
pub fn stdin(what: &str) -> Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read {what} from standard input"))?;
    Ok(text)
}

/// The JSON values of `text`, one a line (JSON Lines), blank lines
/// skipped; the first line that is not one JSON value is an error that
/// names it (`origin`: where `text` came from).
pub fn json_lines<'a>(text: &'a str, origin: &str) -> Result<Vec<&'a str>> {
    let mut values = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let value = line.trim();
        if value.is_empty() {
            continue;
        }
        if let Err(error) = serde_json::from_str::<IgnoredAny>(line) {
            bail!("{}", not_json(origin, line, index + 1, &error));
        }
        values.push(value);
    }
    Ok(values)
}

/// Characters of a long line shown on each side of the error.
const CONTEXT: usize = 40;

/// Where `text` stops being JSON: the reason, its line and column, and the
/// line itself with a caret under the place. `text` begins at line
/// `first_line` of what the user gave.
fn not_json(origin: &str, text: &str, first_line: usize, error: &serde_json::Error) -> String {
    let (line, column) = (error.line(), error.column());
    let full = error.to_string();
    let reason = full
        .strip_suffix(&format!(" at line {line} column {column}"))
        .unwrap_or(&full);
    let source = text.lines().nth(line.saturating_sub(1));
    let line = first_line + line.saturating_sub(1);
    let mut said = format!("{origin} is not JSON at line {line}, column {column}: {reason}");
    let Some(source) = source else {
        return said;
    };
    // serde_json counts columns in bytes; the caret goes under characters.
    let before = source
        .char_indices()
        .take_while(|(i, _)| *i < column.saturating_sub(1))
        .count();
    let chars: Vec<char> = source
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect();
    let start = before.saturating_sub(CONTEXT);
    let end = (before + CONTEXT).min(chars.len());
    let mut shown: String = chars[start..end].iter().collect();
    let mut caret = before - start;
    if start > 0 {
        shown.insert(0, '…');
        caret += 1;
    }
    if end < chars.len() {
        shown.push('…');
    }
    let gutter = line.to_string();
    said += &format!(
        "\n  {gutter} | {shown}\n  {} | {}^",
        " ".repeat(gutter.len()),
        " ".repeat(caret)
    );
    said
}
