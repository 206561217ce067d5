//! The learning rules, one per file.

pub mod bptt;
pub mod local_symmetric;
pub mod rflo;
