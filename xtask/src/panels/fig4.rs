//! (being ported)

use rnn_experiment::GridFile;

use super::{Panel, PanelRun, Scale};
use crate::Res;

/// fig4a (being ported to the run-spec engine).
pub const FIG4A: Panel = Panel {
    id: "fig4a",
    title: "fig4a",
    claim: "(not yet ported)",
    grids: fig4a_grids,
    evaluate: fig4a,
};

fn fig4a_grids(_: &Scale) -> Res<GridFile> {
    Ok(GridFile::default())
}

fn fig4a(_: &mut PanelRun<'_>) -> Res<()> {
    Err("fig4a is not yet ported".into())
}

/// fig4c (being ported to the run-spec engine).
pub const FIG4C: Panel = Panel {
    id: "fig4c",
    title: "fig4c",
    claim: "(not yet ported)",
    grids: fig4c_grids,
    evaluate: fig4c,
};

fn fig4c_grids(_: &Scale) -> Res<GridFile> {
    Ok(GridFile::default())
}

fn fig4c(_: &mut PanelRun<'_>) -> Res<()> {
    Err("fig4c is not yet ported".into())
}
