//! `wbx doctor`'s check of a project's event store: where it is, that it
//! opens (connecting, on PostgreSQL, and creating wbx's tables if they are
//! missing), and that what it holds is sound, with the fix for each failure.

use wbx_core::doctor::Check;
use wbx_core::project::{Manifest, StateLayout};

use super::{EventStore, StoreLocation};

const NAME: &str = "event store";
const INDEX: &str = "search index";

/// The store's check, and its text index's where it keeps one.
pub fn checks(manifest: &Manifest, state: &StateLayout) -> Vec<Check> {
    let (store, opened) = check(manifest, state);
    let mut checks = vec![store];
    if let Some(store) = opened {
        checks.extend(text_index(&store));
    }
    checks
}

/// The SQLite store's text index: open, or why not. Search works either
/// way, by scanning the log when the index is missing.
fn text_index(store: &EventStore) -> Option<Check> {
    let StoreLocation::Sqlite(path) = store.location() else {
        return None;
    };
    let index = super::search::index_path(path);
    Some(match store.text_index_problem() {
        None => Check::pass(INDEX, index.display().to_string()),
        Some(problem) => Check::fail(
            INDEX,
            format!("{problem}: search scans the log instead, slowly on a long one"),
            format!(
                "move {} aside and check that its directory is writable: the index is a \
                 cache, made again from the log at the next start",
                index.display()
            ),
        ),
    })
}

fn check(manifest: &Manifest, state: &StateLayout) -> (Check, Option<EventStore>) {
    let location = match StoreLocation::of_project(manifest, state) {
        Ok(location) => location,
        Err(e) => {
            let fix = "give [store] url (or WBX_STORE_URL) a postgres://user@host/database URL, \
                       or remove it for the SQLite file in .wbx/";
            return (Check::fail(NAME, e.to_string(), fix), None);
        }
    };
    let backend = location.backend();
    let store = match EventStore::connect_existing(&location) {
        Ok(Some(store)) => store,
        Ok(None) => {
            let created = format!("{backend}: {location} (not created yet)");
            return (Check::pass(NAME, created), None);
        }
        Err(e) => {
            let error = format!("{e:#}");
            let fix = fix_for(&location, &error);
            return (Check::fail(NAME, format!("{backend}: {error}"), fix), None);
        }
    };
    let check = match store.integrity_check() {
        Ok(verdict) if verdict == "ok" => Check::pass(
            NAME,
            format!("{backend}: {location} ({} events)", store.head()),
        ),
        Ok(problem) => Check::fail(
            NAME,
            format!("{backend}: {location}: {problem}"),
            "export what reads (`wbx export`) and import it into a new store (`wbx import`); \
             see docs/store.md",
        ),
        Err(e) => Check::fail(
            NAME,
            format!("{backend}: {location}: cannot check it: {e:#}"),
            fix_for(&location, &format!("{e:#}")),
        ),
    };
    (check, Some(store))
}

/// How to fix `error`, by what it says.
fn fix_for(location: &StoreLocation, error: &str) -> String {
    let StoreLocation::Postgres(_) = location else {
        return "check that .wbx/ is writable and the file is a wbx event store \
                (move it aside to start a new one)"
            .to_owned();
    };
    let error = error.to_lowercase();
    if error.contains("password authentication failed") || error.contains("role") {
        "check the user and password in the URL (postgres://user:password@host/database)".to_owned()
    } else if error.contains("database") && error.contains("does not exist") {
        "create the database on that server (`createdb NAME`), or correct its name in the URL"
            .to_owned()
    } else if error.contains("permission denied") || error.contains("create wbx's tables") {
        "let the user create tables in that database (GRANT CREATE ON DATABASE … TO …), \
         or have its owner run wbx once"
            .to_owned()
    } else if error.contains("refused") || error.contains("timed out") || error.contains("resolve")
    {
        "start PostgreSQL at that host and port, or correct them in [store] url / WBX_STORE_URL"
            .to_owned()
    } else {
        "check the URL in [store] url / WBX_STORE_URL and that the server accepts it \
         (docs/store.md)"
            .to_owned()
    }
}
