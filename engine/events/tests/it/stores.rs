//! The two backends of the event store, which the store, command,
//! projector and effect tests each run against: [`on_both!`] makes
//! `sqlite::NAME` and `postgres::NAME` of a test written as a function of
//! its [`Backend`].

use wbx_events::{EventStore, StoreLocation};

use crate::postgres_support;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Where a world's store is: `None` for SQLite, in the world's own
    /// directory; a new database of the tests' server for PostgreSQL.
    pub fn world_store(self) -> Option<StoreLocation> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres => Some(StoreLocation::Postgres(postgres_support::database())),
        }
    }

    pub fn other(self) -> Backend {
        match self {
            Backend::Sqlite => Backend::Postgres,
            Backend::Postgres => Backend::Sqlite,
        }
    }
}

/// A new, empty store of a backend, and where it is (a SQLite file in a
/// directory of its own, or a database of its own on the tests' server).
pub struct Fresh {
    pub location: StoreLocation,
    _dir: Option<tempfile::TempDir>,
}

impl Fresh {
    pub fn new(backend: Backend) -> Fresh {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                Fresh {
                    location: StoreLocation::Sqlite(dir.path().join("events.sqlite")),
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => Fresh {
                location: StoreLocation::Postgres(postgres_support::database()),
                _dir: None,
            },
        }
    }

    /// A connection to the store: on PostgreSQL, a second one is what a
    /// second engine has.
    pub fn open(&self) -> EventStore {
        EventStore::connect(&self.location).unwrap()
    }
}

/// Runs each named test, a function of a [`Backend`], once per backend:
/// `sqlite::NAME` and `postgres::NAME`. Async tests are given with their
/// `tokio::test` attribute.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $name() { super::$name($crate::stores::Backend::Sqlite) })*
        }
        mod postgres {
            $(#[test] fn $name() { super::$name($crate::stores::Backend::Postgres) })*
        }
    };
    ($(#[$test:meta] async $name:ident),* $(,)?) => {
        mod sqlite {
            $(#[$test] async fn $name() { super::$name($crate::stores::Backend::Sqlite).await })*
        }
        mod postgres {
            $(#[$test] async fn $name() { super::$name($crate::stores::Backend::Postgres).await })*
        }
    };
}
