//! The mesh model's tests.
