//! Fig 4.
use super::{Ctx, Res};
use crate::report::Section;
pub fn fig4a(_ctx: &Ctx) -> Res<Section> { Err("fig4a not implemented yet".into()) }
pub fn fig4c(_ctx: &Ctx) -> Res<Section> { Err("fig4c not implemented yet".into()) }
