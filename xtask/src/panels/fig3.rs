//! (being ported)

use rnn_experiment::GridFile;

use super::{Panel, PanelRun, Scale};
use crate::Res;

/// fig3b (being ported to the run-spec engine).
pub const FIG3B: Panel = Panel {
    id: "fig3b",
    title: "fig3b",
    claim: "(not yet ported)",
    grids: fig3b_grids,
    evaluate: fig3b,
};

fn fig3b_grids(_: &Scale) -> Res<GridFile> {
    Ok(GridFile::default())
}

fn fig3b(_: &mut PanelRun<'_>) -> Res<()> {
    Err("fig3b is not yet ported".into())
}

/// fig3c (being ported to the run-spec engine).
pub const FIG3C: Panel = Panel {
    id: "fig3c",
    title: "fig3c",
    claim: "(not yet ported)",
    grids: fig3c_grids,
    evaluate: fig3c,
};

fn fig3c_grids(_: &Scale) -> Res<GridFile> {
    Ok(GridFile::default())
}

fn fig3c(_: &mut PanelRun<'_>) -> Res<()> {
    Err("fig3c is not yet ported".into())
}
