//! Network parameters and their seeded initialisation (docs/spec/MODEL.md §1, §8).

use faer::{Mat, MatRef};
use rand::RngExt;
use rand_distr::{Distribution, Normal};

use crate::config::NetworkConfig;
use crate::error::{CoreError, Result};
use crate::rng::SeededRng;

/// A rate RNN: its configuration and its four weight matrices.
///
/// Shapes (docs/spec/MODEL.md §1): `W` is `N×N`, `W_in` is `N×N_x`, `W_out` is `N_y×N`
/// and the fixed feedback `B` is `N×N_y`. `B` is drawn with the network so
/// that one seed fixes one realisation; it is the random feedback of RFLO and
/// the readout-feedback matrix of docs/spec/MODEL.md §6.
///
/// The fields are private so that shapes and finiteness always hold; learning
/// rules change weights through [`Network::weights_mut`].
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    config: NetworkConfig,
    weights: Weights,
}

/// The four weight matrices of a network.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// Recurrent weights `W` (`N×N`), row = postsynaptic unit.
    pub recurrent: Mat<f64>,
    /// Input weights `W_in` (`N×N_x`).
    pub input: Mat<f64>,
    /// Readout weights `W_out` (`N_y×N`).
    pub readout: Mat<f64>,
    /// Fixed random feedback `B` (`N×N_y`).
    pub feedback: Mat<f64>,
}

impl Network {
    /// Draws a network from `config` with the generator `rng` (docs/spec/MODEL.md §8).
    ///
    /// Draw order, fixed so that a seed always gives the same network:
    /// `W ~ N(0, g²/N)` column by column, then `W_in ~ U[-s, s]`, then
    /// `W_out ~ U[-w, w]` with `w` from [`crate::ReadoutInit`], then `B ~ N(0, σ_B²)`.
    ///
    /// A draw that overflows to infinity (scales near `f64::MAX`) is
    /// [`CoreError::NonFinite`].
    pub fn random(config: &NetworkConfig, rng: &mut SeededRng) -> Result<Self> {
        config.validate()?;
        let (n, nx, ny) = (config.n_units, config.n_inputs, config.n_outputs);
        let recurrent = normal_matrix(n, n, config.gain / (n as f64).sqrt(), rng);
        let input = uniform_matrix(n, nx, config.input_scale, rng);
        let readout = uniform_matrix(ny, n, config.readout_init.half_width(n), rng);
        let feedback = normal_matrix(n, ny, config.feedback_scale, rng);
        let weights = Weights {
            recurrent,
            input,
            readout,
            feedback,
        };
        // Scales near f64::MAX are valid but can draw an infinite weight.
        check_weights(config, &weights)?;
        Ok(Self {
            config: config.clone(),
            weights,
        })
    }

    /// Builds a network from given matrices, checking shapes against `config`
    /// and that every entry is finite.
    pub fn from_weights(config: &NetworkConfig, weights: Weights) -> Result<Self> {
        config.validate()?;
        check_weights(config, &weights)?;
        Ok(Self {
            config: config.clone(),
            weights,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &NetworkConfig {
        &self.config
    }

    /// All four matrices.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// Mutable access for learning rules. Callers keep the shapes; use
    /// [`Network::check_finite`] after updates to catch divergence.
    pub fn weights_mut(&mut self) -> &mut Weights {
        &mut self.weights
    }

    /// Consumes the network, returning its config and weights.
    pub fn into_parts(self) -> (NetworkConfig, Weights) {
        (self.config, self.weights)
    }

    /// `W`.
    pub fn recurrent(&self) -> MatRef<'_, f64> {
        self.weights.recurrent.as_ref()
    }

    /// `W_in`.
    pub fn input(&self) -> MatRef<'_, f64> {
        self.weights.input.as_ref()
    }

    /// `W_out`.
    pub fn readout(&self) -> MatRef<'_, f64> {
        self.weights.readout.as_ref()
    }

    /// `B`.
    pub fn feedback(&self) -> MatRef<'_, f64> {
        self.weights.feedback.as_ref()
    }

    /// `N`.
    pub fn n_units(&self) -> usize {
        self.config.n_units
    }

    /// `N_x`.
    pub fn n_inputs(&self) -> usize {
        self.config.n_inputs
    }

    /// `N_y`.
    pub fn n_outputs(&self) -> usize {
        self.config.n_outputs
    }

    /// `alpha = 1/tau`.
    pub fn alpha(&self) -> f64 {
        self.config.alpha()
    }

    /// Checks that every weight is finite (e.g. after a learning step).
    pub fn check_finite(&self) -> Result<()> {
        check_weights(&self.config, &self.weights)
    }
}

fn check_weights(config: &NetworkConfig, w: &Weights) -> Result<()> {
    let (n, nx, ny) = (config.n_units, config.n_inputs, config.n_outputs);
    check_matrix("W", w.recurrent.as_ref(), n, n)?;
    check_matrix("W_in", w.input.as_ref(), n, nx)?;
    check_matrix("W_out", w.readout.as_ref(), ny, n)?;
    check_matrix("B", w.feedback.as_ref(), n, ny)
}

/// Checks that `m` is `rows×cols` with only finite entries.
pub fn check_matrix(
    what: &'static str,
    m: MatRef<'_, f64>,
    rows: usize,
    cols: usize,
) -> Result<()> {
    if m.nrows() != rows || m.ncols() != cols {
        return Err(CoreError::ShapeMismatch {
            what,
            expected_rows: rows,
            expected_cols: cols,
            rows: m.nrows(),
            cols: m.ncols(),
        });
    }
    for col in 0..cols {
        for row in 0..rows {
            if !m[(row, col)].is_finite() {
                return Err(CoreError::NonFinite { what, row, col });
            }
        }
    }
    Ok(())
}

fn normal_matrix(rows: usize, cols: usize, std_dev: f64, rng: &mut SeededRng) -> Mat<f64> {
    // std_dev is validated finite and >= 0, so Normal::new cannot fail.
    let normal = Normal::new(0.0, std_dev).expect("validated standard deviation");
    let mut m = Mat::zeros(rows, cols);
    for col in 0..cols {
        for row in 0..rows {
            m[(row, col)] = normal.sample(rng);
        }
    }
    m
}

fn uniform_matrix(rows: usize, cols: usize, half_width: f64, rng: &mut SeededRng) -> Mat<f64> {
    let mut m = Mat::zeros(rows, cols);
    for col in 0..cols {
        for row in 0..rows {
            // U[-w, w] from U[0, 1): no empty-range panic when w = 0.
            m[(row, col)] = half_width * (2.0 * rng.random::<f64>() - 1.0);
        }
    }
    m
}
