//! Network hyperparameters (docs/spec/MODEL.md §1, §8) and their validation.

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

/// The most weights a network may have, `2^28` (2 GiB of `f64`): `W`,
/// `W_in`, `W_out` and `B` together, each column counted as stored (its
/// length rounded up to a multiple of 8, one 64-byte line). Larger sizes are
/// refused by [`NetworkConfig::validate`] instead of overflowing or aborting
/// on allocation.
pub const MAX_WEIGHTS: u64 = 1 << 28;

/// How the readout `W_out` is initialised (docs/spec/MODEL.md §8).
///
/// The paper's text and its example code disagree; both are expressible.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum ReadoutInit {
    /// The paper's text: `W_out ~ U[-1/N, 1/N]`.
    PaperText,
    /// The paper's example code: `W_out ~ 0.1 * U[-1, 1] / sqrt(N)`.
    ExampleCode,
    /// `W_out ~ U[-half_width, half_width]`.
    Uniform {
        /// Half the width of the uniform interval; `>= 0`.
        half_width: f64,
    },
}

impl ReadoutInit {
    /// Half-width of the uniform interval for a network of `n` units.
    pub fn half_width(self, n: usize) -> f64 {
        match self {
            ReadoutInit::PaperText => 1.0 / n as f64,
            ReadoutInit::ExampleCode => 0.1 / (n as f64).sqrt(),
            ReadoutInit::Uniform { half_width } => half_width,
        }
    }
}

/// Hyperparameters of a network: sizes, time constant and initial scales.
///
/// Defaults are the paper's (docs/spec/MODEL.md §8): `tau = 10`, `g = 1.5`,
/// `W_in ~ U[-1, 1]`, `W_out ~ U[-1/N, 1/N]`, `B ~ N(0, 1)`.
/// Build one with [`NetworkConfig::new`] and adjust fields, then
/// [`validate`](NetworkConfig::validate) (construction of a network validates too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkConfig {
    /// Number of recurrent units `N`; `>= 1`.
    pub n_units: usize,
    /// Number of inputs `N_x`; may be 0.
    pub n_inputs: usize,
    /// Number of outputs `N_y`; `>= 1`.
    pub n_outputs: usize,
    /// Time constant `tau` in time steps; finite and `>= 1` (so `alpha = 1/tau` is in (0, 1]).
    pub tau: f64,
    /// Gain `g` of the recurrent weights: `W ~ N(0, g^2 / N)`; finite, `>= 0`.
    pub gain: f64,
    /// Half-width of the input weights: `W_in ~ U[-s, s]`; finite, `>= 0`. Paper: 1.
    pub input_scale: f64,
    /// Readout initialisation.
    pub readout_init: ReadoutInit,
    /// Standard deviation of the fixed feedback matrix: `B ~ N(0, s^2)`; finite, `>= 0`. Paper: 1.
    pub feedback_scale: f64,
    /// Readout-feedback mode (docs/spec/MODEL.md §6): add `B y(t-1)` to the input current.
    pub readout_feedback: bool,
}

impl NetworkConfig {
    /// The paper's defaults for the given sizes.
    pub fn new(n_units: usize, n_inputs: usize, n_outputs: usize) -> Self {
        Self {
            n_units,
            n_inputs,
            n_outputs,
            tau: 10.0,
            gain: 1.5,
            input_scale: 1.0,
            readout_init: ReadoutInit::PaperText,
            feedback_scale: 1.0,
            readout_feedback: false,
        }
    }

    /// Sets `tau` (builder style).
    pub fn with_tau(mut self, tau: f64) -> Self {
        self.tau = tau;
        self
    }

    /// Sets the recurrent gain `g` (builder style).
    pub fn with_gain(mut self, gain: f64) -> Self {
        self.gain = gain;
        self
    }

    /// Sets the readout initialisation (builder style).
    pub fn with_readout_init(mut self, readout_init: ReadoutInit) -> Self {
        self.readout_init = readout_init;
        self
    }

    /// Turns readout-feedback mode on or off (builder style).
    pub fn with_readout_feedback(mut self, on: bool) -> Self {
        self.readout_feedback = on;
        self
    }

    /// `alpha = 1 / tau`.
    pub fn alpha(&self) -> f64 {
        1.0 / self.tau
    }

    /// Checks every field; returns the first violation as [`CoreError::InvalidConfig`].
    pub fn validate(&self) -> Result<()> {
        if self.n_units == 0 {
            return Err(invalid("n_units", self.n_units, "must be at least 1"));
        }
        if self.n_outputs == 0 {
            return Err(invalid("n_outputs", self.n_outputs, "must be at least 1"));
        }
        if self.weight_count() > u128::from(MAX_WEIGHTS) {
            return Err(invalid(
                "n_units, n_inputs, n_outputs",
                (self.n_units, self.n_inputs, self.n_outputs),
                "too large: more than 2^28 weights in W, W_in, W_out and B",
            ));
        }
        if !self.tau.is_finite() || self.tau < 1.0 {
            return Err(invalid(
                "tau",
                self.tau,
                "must be finite and >= 1 time step (alpha = 1/tau in (0, 1])",
            ));
        }
        non_negative("gain", self.gain)?;
        non_negative("input_scale", self.input_scale)?;
        non_negative("feedback_scale", self.feedback_scale)?;
        if let ReadoutInit::Uniform { half_width } = self.readout_init {
            non_negative("readout_init.half_width", half_width)?;
        }
        Ok(())
    }
}

impl NetworkConfig {
    /// Entries of `W` (`N×N`), `W_in` (`N×N_x`), `W_out` (`N_y×N`) and `B`
    /// (`N×N_y`) with each column's length rounded up to a multiple of 8
    /// (as faer stores it), without overflow.
    fn weight_count(&self) -> u128 {
        let (n, nx, ny) = (
            self.n_units as u128,
            self.n_inputs as u128,
            self.n_outputs as u128,
        );
        let padded = |rows: u128| rows.div_ceil(8) * 8;
        // Each product is below 2^128; saturate the sums.
        (padded(n) * n)
            .saturating_add(padded(n) * nx)
            .saturating_add(padded(ny) * n)
            .saturating_add(padded(n) * ny)
    }
}

fn non_negative(field: &'static str, value: f64) -> Result<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(invalid(field, value, "must be finite and >= 0"))
    }
}

pub(crate) fn invalid(
    field: &'static str,
    value: impl std::fmt::Debug,
    reason: &'static str,
) -> CoreError {
    CoreError::InvalidConfig {
        field,
        value: format!("{value:?}"),
        reason,
    }
}
