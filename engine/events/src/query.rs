//! DCB queries and append conditions, and their translation to SQL.
//!
//! An event matches an item when its type is one of the item's types (none
//! = any type) and its tags include all of the item's tags (none = any
//! tags). Items are OR-ed; a query without items matches every event.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Query {
    #[serde(default)]
    pub items: Vec<QueryItem>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryItem {
    #[serde(default)]
    pub types: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// `read` options: `from` is inclusive, in the direction of reading.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadOptions {
    pub from: Option<u64>,
    #[serde(default)]
    pub backwards: bool,
    pub limit: Option<u64>,
}

impl ReadOptions {
    /// At most `limit` events from position `from` on.
    pub fn forward(from: u64, limit: u64) -> Self {
        ReadOptions {
            from: Some(from),
            backwards: false,
            limit: Some(limit),
        }
    }

    /// At most `limit` events from position `from` (the head when `None`) back.
    pub fn backward(from: Option<u64>, limit: u64) -> Self {
        ReadOptions {
            from,
            backwards: true,
            limit: Some(limit),
        }
    }
}

/// What a person browsing the log looks for: a DCB query (types, tags) and,
/// optionally, a text that must occur in the event's type, tags, data or ids
/// (case-insensitive for ASCII). Text matching scans, so it is for views,
/// never for decisions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Browse {
    pub query: Query,
    pub text: Option<String>,
}

/// The append fails iff an event matching `fail_if_events_match` has a
/// position greater than `after` (any position when `after` is `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AppendCondition {
    pub fail_if_events_match: Query,
    pub after: Option<u64>,
}

impl Query {
    pub fn all() -> Self {
        Query::default()
    }

    pub fn new(items: Vec<QueryItem>) -> Self {
        Query { items }
    }

    /// Items must each name a type or a tag (as the DCB reference store requires).
    pub fn validate(&self) -> Result<(), String> {
        match self
            .items
            .iter()
            .position(|i| i.types.is_empty() && i.tags.is_empty())
        {
            Some(n) => Err(format!(
                "query item {n} names no type and no tag; an item must name at least one"
            )),
            None => Ok(()),
        }
    }

    /// Whether `event` matches, as the store's SQL would decide it (for
    /// histories read from files rather than the store).
    pub fn matches(&self, event_type: &str, tags: &[String]) -> bool {
        self.items.is_empty()
            || self.items.iter().any(|item| {
                (item.types.is_empty() || item.types.iter().any(|t| t == event_type))
                    && item.tags.iter().all(|t| tags.contains(t))
            })
    }

    /// A SQL boolean over the `events` table aliased `e`, limited to the
    /// positions `bound` allows, its parameters kept by `sql`.
    ///
    /// An item with tags is driven from the `(tag, position)` index, bounded
    /// there too (its type is not looked up in the type index, which would
    /// walk every event of the type from the bound on): a command's read and
    /// its append condition stay proportional to the events of its tags,
    /// not of its types.
    pub(crate) fn to_sql(&self, bound: Option<Bound>, sql: &mut SqlParams) -> String {
        let mut text = if self.items.is_empty() {
            "TRUE".to_owned()
        } else {
            let items: Vec<String> = self
                .items
                .iter()
                .map(|item| item.to_sql(bound, sql))
                .collect();
            format!("({})", items.join(" OR "))
        };
        if let Some(bound) = bound {
            text.push_str(&format!(
                " AND e.position {} {}",
                bound.op,
                sql.position(bound.position)
            ));
        }
        text
    }
}

/// The two SQL dialects of the store's backends: they differ in how a
/// parameter is written and in one planner hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// `?` parameters.
    Sqlite,
    /// `$1`, `$2`… parameters.
    Postgres,
}

/// A parameter of a query's SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Param {
    Text(String),
    Position(i64),
}

/// The parameters of one SQL text being written, in order, and how each
/// is written in the text.
#[derive(Debug)]
pub(crate) struct SqlParams {
    pub(crate) dialect: Dialect,
    pub(crate) params: Vec<Param>,
}

impl SqlParams {
    pub(crate) fn new(dialect: Dialect) -> Self {
        SqlParams {
            dialect,
            params: Vec::new(),
        }
    }

    /// Adds `param`, returning its place in the text.
    pub(crate) fn push(&mut self, param: Param) -> String {
        self.params.push(param);
        match self.dialect {
            Dialect::Sqlite => "?".to_owned(),
            Dialect::Postgres => format!("${}", self.params.len()),
        }
    }

    pub(crate) fn text(&mut self, text: &str) -> String {
        self.push(Param::Text(text.to_owned()))
    }

    /// A position; those past the largest a store holds (`u64::MAX` as
    /// "the end") become that largest, never a negative number.
    pub(crate) fn position(&mut self, position: u64) -> String {
        self.push(Param::Position(i64::try_from(position).unwrap_or(i64::MAX)))
    }
}

/// The positions a read or a condition looks at: `position <op> ?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bound {
    op: &'static str,
    position: u64,
}

impl Bound {
    /// Positions after `position` (an append condition's `after`).
    pub(crate) fn after(position: u64) -> Self {
        Bound { op: ">", position }
    }

    /// The positions from `options.from` on, in the direction of reading.
    pub(crate) fn of(options: &ReadOptions) -> Option<Self> {
        let op = if options.backwards { "<=" } else { ">=" };
        options.from.map(|position| Bound { op, position })
    }
}

impl QueryItem {
    fn to_sql(&self, bound: Option<Bound>, sql: &mut SqlParams) -> String {
        let mut parts = Vec::new();
        if !self.types.is_empty() {
            let marks: Vec<String> = self.types.iter().map(|t| sql.text(t)).collect();
            // With tags, the type is checked on the rows the tags found,
            // never looked up in the type index (an expression of the
            // column cannot use it): `+e.type` on SQLite, `e.type || ''`
            // on PostgreSQL.
            let column = match sql.dialect {
                _ if self.tags.is_empty() => "e.type",
                Dialect::Sqlite => "+e.type",
                Dialect::Postgres => "(e.type || '')",
            };
            parts.push(format!("{column} IN ({})", marks.join(",")));
        }
        for tag in &self.tags {
            let mut positions = format!(
                "SELECT position FROM event_tags WHERE tag = {}",
                sql.text(tag)
            );
            if let Some(bound) = bound {
                positions.push_str(&format!(
                    " AND position {} {}",
                    bound.op,
                    sql.position(bound.position)
                ));
            }
            // PostgreSQL looks positions gathered once up in the events'
            // primary key; given `IN`, its planner walks all the events
            // while the tables have no statistics.
            parts.push(match sql.dialect {
                Dialect::Sqlite => format!("e.position IN ({positions})"),
                Dialect::Postgres => format!("e.position = ANY (ARRAY({positions}))"),
            });
        }
        format!("({})", parts.join(" AND "))
    }

    pub fn types<I: IntoIterator<Item = S>, S: Into<String>>(types: I) -> Self {
        QueryItem {
            types: types.into_iter().map(Into::into).collect(),
            tags: Vec::new(),
        }
    }

    pub fn tags<I: IntoIterator<Item = S>, S: Into<String>>(tags: I) -> Self {
        QueryItem {
            types: Vec::new(),
            tags: tags.into_iter().map(Into::into).collect(),
        }
    }

    pub fn with_tags<I: IntoIterator<Item = S>, S: Into<String>>(mut self, tags: I) -> Self {
        self.tags.extend(tags.into_iter().map(Into::into));
        self
    }
}
