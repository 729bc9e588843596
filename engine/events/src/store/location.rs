//! [`StoreLocation`]: which backend holds a project's events, and where.
//!
//! ```toml
//! [store]
//! url = "postgres://wbx@db.example.org/wbx"   # absent: .wbx/events.sqlite
//! ```
//!
//! `WBX_STORE_URL`, when set, wins over `wbx.toml`, so one command can name
//! another store (`WBX_STORE_URL=postgres://… wbx import history.jsonl`).

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;
use wbx_core::project::{Manifest, ManifestError, StateLayout};

use crate::layout::EventsLayout;

/// The variable that names the store, over `wbx.toml`.
pub const STORE_URL_VAR: &str = "WBX_STORE_URL";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// The embedded default: one file.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by its connection URL.
    Postgres(String),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    pub url: Option<Spanned<String>>,
}

impl StoreLocation {
    /// The project's store: `WBX_STORE_URL`, else `[store] url`, else the
    /// SQLite file in `state`.
    pub fn of_project(manifest: &Manifest, state: &StateLayout) -> Result<Self, ManifestError> {
        Ok(StoreLocation::configured(manifest)?
            .unwrap_or_else(|| StoreLocation::Sqlite(state.events_db())))
    }

    /// The store `WBX_STORE_URL` or `[store] url` names, if either does.
    pub fn configured(manifest: &Manifest) -> Result<Option<Self>, ManifestError> {
        let section: StoreSection = manifest.section("store")?;
        if let Ok(url) = std::env::var(STORE_URL_VAR)
            && !url.trim().is_empty()
        {
            return StoreLocation::parse(&url)
                .map(Some)
                .map_err(|e| ManifestError {
                    path: manifest.path().to_owned(),
                    position: None,
                    message: format!("{STORE_URL_VAR} (which wins over [store] url): {e}"),
                });
        }
        section
            .url
            .map(|url| {
                StoreLocation::parse(url.get_ref())
                    .map_err(|e| manifest.error_at(url.span(), format!("[store] url: {e}")))
            })
            .transpose()
    }

    /// A `postgres://` or `postgresql://` URL.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            url.parse::<tokio_postgres::Config>()
                .map_err(|e| format!("{} is not a PostgreSQL URL wbx can use: {e}", redact(url)))?;
            Ok(StoreLocation::Postgres(url.to_owned()))
        } else {
            Err(format!(
                "{} is not a store URL: wbx keeps events in .wbx/events.sqlite unless \
                 given a postgres://user@host/database URL",
                redact(url)
            ))
        }
    }

    /// The backend's name, as `wbx doctor` and the docs say it.
    pub fn backend(&self) -> &'static str {
        match self {
            StoreLocation::Sqlite(_) => "sqlite",
            StoreLocation::Postgres(_) => "postgres",
        }
    }
}

/// Shown without a password.
impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreLocation::Sqlite(path) => write!(f, "{}", path.display()),
            StoreLocation::Postgres(url) => write!(f, "{}", redact(url)),
        }
    }
}

/// `url` with the password between `:` and `@` replaced.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].find(':') {
            Some(colon) => format!("{scheme}://{}:***{}", &rest[..colon], &rest[at..]),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redact("postgres://u:secret@h:5/db"),
            "postgres://u:***@h:5/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("postgres://h/db?x=@"), "postgres://h/db?x=@");
    }

    #[test]
    fn only_postgres_urls_name_a_store() {
        assert!(StoreLocation::parse("postgresql://u@localhost/db").is_ok());
        let error = StoreLocation::parse("mysql://u:pw@h/db").unwrap_err();
        assert!(
            error.contains("mysql://u:***@h/db is not a store URL"),
            "{error}"
        );
    }
}
