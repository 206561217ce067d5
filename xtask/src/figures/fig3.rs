//! Fig 3: Ready–Set–Go.
use super::{Ctx, Res};
use crate::report::Section;
pub fn fig3b(_ctx: &Ctx) -> Res<Section> { Err("fig3b not implemented yet".into()) }
pub fn fig3c(_ctx: &Ctx) -> Res<Section> { Err("fig3c not implemented yet".into()) }
