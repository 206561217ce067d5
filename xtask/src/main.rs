//! `cargo xtask`: project automation. It only orchestrates; the maths lives in the crates.
fn main() {}
