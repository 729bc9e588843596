//! A toy model, added through the registration point.
