//! (being ported)

use rnn_experiment::GridFile;

use super::{Panel, PanelRun, Scale};
use crate::Res;

/// fig2b_grid (being ported to the run-spec engine).
pub const FIG2B_GRID: Panel = Panel {
    id: "fig2b_grid",
    title: "fig2b_grid",
    claim: "(not yet ported)",
    grids: fig2b_grid_grids,
    evaluate: fig2b_grid,
};

fn fig2b_grid_grids(_: &Scale) -> Res<GridFile> {
    Ok(GridFile::default())
}

fn fig2b_grid(_: &mut PanelRun<'_>) -> Res<()> {
    Err("fig2b_grid is not yet ported".into())
}
