//! The actors model's tests.
