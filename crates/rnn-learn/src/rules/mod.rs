//! The learning rules, one per file.

pub mod bptt;
pub mod eprop;
pub mod force;
pub mod kf_rtrl;
pub mod local_symmetric;
pub mod nonlocal_random;
pub mod reinforce;
pub mod rflo;
pub mod rtrl;
pub mod snap1;
pub mod uoro;
