//! Trial-end updates as matrix products over the stored trajectory.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};

use rnn_core::{Trajectory, Trial};

use crate::update::WeightUpdate;

/// Adds, with `T` the trial length and `D` the `N×T` learning signal,
///
/// ```text
/// dW     += recurrent_scale * D [h(0) .. h(T-1)]^T
/// dW_in  += input_scale     * D [x(1) .. x(T)]^T
/// dW_out += readout_scale   * [e(1) .. e(T)] [h(1) .. h(T)]^T
/// ```
pub(crate) fn add_trial_products(
    trajectory: &Trajectory,
    trial: &Trial,
    signal: MatRef<'_, f64>,
    recurrent_scale: f64,
    input_scale: f64,
    readout_scale: f64,
    update: &mut WeightUpdate,
) {
    let len = trajectory.len();
    let h_prev = trajectory.h.as_ref().subcols(0, len);
    let h_post = trajectory.h.as_ref().subcols(1, len);
    matmul(
        update.recurrent.as_mut(),
        Accum::Add,
        signal,
        h_prev.transpose(),
        recurrent_scale,
        Par::Seq,
    );
    if trial.n_inputs() > 0 {
        matmul(
            update.input.as_mut(),
            Accum::Add,
            signal,
            trial.inputs_by_step().transpose(),
            input_scale,
            Par::Seq,
        );
    }
    matmul(
        update.readout.as_mut(),
        Accum::Add,
        trajectory.error.as_ref(),
        h_post.transpose(),
        readout_scale,
        Par::Seq,
    );
}

/// Resizes `m` to `rows×cols` if it has another shape (outside step loops).
pub(crate) fn ensure_shape(m: &mut Mat<f64>, rows: usize, cols: usize) {
    if m.nrows() != rows || m.ncols() != cols {
        *m = Mat::zeros(rows, cols);
    }
}
