//! (being ported)

use rnn_experiment::GridFile;

use super::{Panel, PanelRun, Scale};
use crate::Res;

/// cost (being ported to the run-spec engine).
pub const COST: Panel = Panel {
    id: "cost",
    title: "cost",
    claim: "(not yet ported)",
    grids: cost_grids,
    evaluate: cost,
};

fn cost_grids(_: &Scale) -> Res<GridFile> {
    Ok(GridFile::default())
}

fn cost(_: &mut PanelRun<'_>) -> Res<()> {
    Err("cost is not yet ported".into())
}
