//! Learning rates and weight updates `dTheta = (dW, dW_in, dW_out)`.

use faer::{Mat, MatRef};
use serde::{Deserialize, Serialize};

use rnn_core::Network;

use crate::error::{Result, invalid};

/// The three learning rates of docs/spec/MODEL.md: `eta1` (readout), `eta2`
/// (recurrent), `eta3` (input). The paper uses one `eta` for all three.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LearningRates {
    /// `eta1`, for `W_out`.
    pub readout: f64,
    /// `eta2`, for `W`.
    pub recurrent: f64,
    /// `eta3`, for `W_in`.
    pub input: f64,
}

impl LearningRates {
    /// `eta1 = eta2 = eta3 = eta`.
    pub fn uniform(eta: f64) -> Self {
        Self {
            readout: eta,
            recurrent: eta,
            input: eta,
        }
    }

    /// True when `eta1 = eta2 = eta3` (bit for bit).
    pub fn is_uniform(&self) -> bool {
        self.readout.to_bits() == self.recurrent.to_bits()
            && self.recurrent.to_bits() == self.input.to_bits()
    }

    /// Each rate must be finite and `>= 0`.
    pub fn validate(&self) -> Result<()> {
        for (field, value) in [
            ("eta1 (readout)", self.readout),
            ("eta2 (recurrent)", self.recurrent),
            ("eta3 (input)", self.input),
        ] {
            if !value.is_finite() || value < 0.0 {
                return Err(invalid(field, value, "must be finite and >= 0"));
            }
        }
        Ok(())
    }
}

impl From<f64> for LearningRates {
    /// [`LearningRates::uniform`].
    fn from(eta: f64) -> Self {
        Self::uniform(eta)
    }
}

/// An additive change to the trainable weights: every rule's output.
///
/// Rules *add* into it, so it doubles as the accumulator of the
/// every-K-trials schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightUpdate {
    /// `dW`, `N×N`.
    pub recurrent: Mat<f64>,
    /// `dW_in`, `N×N_x`.
    pub input: Mat<f64>,
    /// `dW_out`, `N_y×N`.
    pub readout: Mat<f64>,
}

impl WeightUpdate {
    /// A zero update shaped for `net`.
    pub fn zeros(net: &Network) -> Self {
        let (n, nx, ny) = (net.n_units(), net.n_inputs(), net.n_outputs());
        Self {
            recurrent: Mat::zeros(n, n),
            input: Mat::zeros(n, nx),
            readout: Mat::zeros(ny, n),
        }
    }

    /// Resets every entry to zero (no allocation).
    pub fn set_zero(&mut self) {
        self.recurrent.fill(0.0);
        self.input.fill(0.0);
        self.readout.fill(0.0);
    }

    /// True when every entry is finite.
    pub fn is_finite(&self) -> bool {
        [&self.recurrent, &self.input, &self.readout]
            .iter()
            .all(|m| all_finite(m.as_ref()))
    }
}

pub(crate) fn all_finite(m: MatRef<'_, f64>) -> bool {
    (0..m.ncols()).all(|j| (0..m.nrows()).all(|i| m[(i, j)].is_finite()))
}

/// Frobenius inner product `<a, b>`.
pub fn frobenius_dot(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> f64 {
    let mut sum = 0.0;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            sum += a[(i, j)] * b[(i, j)];
        }
    }
    sum
}

/// Cosine between two matrices seen as vectors; 0 when either is zero.
pub fn cosine(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> f64 {
    let norms = (frobenius_dot(a, a) * frobenius_dot(b, b)).sqrt();
    if norms == 0.0 {
        0.0
    } else {
        frobenius_dot(a, b) / norms
    }
}
