//! # rnn-py — the Python package `rflo`
//!
//! PyO3 bindings of the rflo-rs workspace, built by maturin from
//! `pyproject.toml` (`pip install ./crates/rnn-py`). The Python API is
//! documented in `python/rflo/__init__.py` and the stub `__init__.pyi`.
//!
//! The crate has two layers:
//!
//! - [`spec`], plain Rust: run descriptions, rules and tasks given as JSON or
//!   TOML text (what Python dicts become), the registries listed for Python,
//!   and grids run exactly as `cargo xtask sweep run` runs them. It is tested
//!   by `cargo test` like any other crate.
//! - `python` (behind the `python` feature, which maturin turns on): the
//!   extension module `rflo._native`. A plain `cargo build/test --workspace`
//!   leaves the feature off, so the workspace never links against libpython.

pub mod spec;

#[cfg(feature = "python")]
mod python;
