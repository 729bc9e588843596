//! `wbx-pipelines`: the pipelines model.
