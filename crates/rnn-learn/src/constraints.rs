//! What may change and how: frozen weight groups and Dale's law (docs/spec/MODEL.md §6).

use serde::{Deserialize, Serialize};

use rnn_core::Network;

use crate::error::{Result, invalid};
use crate::update::WeightUpdate;

/// Which weight groups are frozen (never changed, bit for bit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Frozen {
    /// Freeze `W`.
    pub recurrent: bool,
    /// Freeze `W_in`.
    pub input: bool,
    /// Freeze `W_out`.
    pub readout: bool,
}

impl Frozen {
    /// Readout-only training (Fig 2–S2): `W` and `W_in` frozen.
    pub fn readout_only() -> Self {
        Self {
            recurrent: true,
            input: true,
            readout: false,
        }
    }

    /// Recurrent-only training (Fig 2–S2): `W_out` frozen.
    pub fn recurrent_only() -> Self {
        Self {
            recurrent: false,
            input: false,
            readout: true,
        }
    }
}

/// Dale's law (docs/spec/MODEL.md §6): unit `j` has sign `xi_j`; the first
/// `round(f_E N)` units are excitatory (`+1`), the rest inhibitory (`-1`).
///
/// A presynaptic unit's outgoing weights (column `j` of `W`) all carry its
/// sign. At initialisation `W_ij <- xi_j |W_ij|`; after every applied update
/// `W_ij <- xi_j max(0, xi_j W_ij)`: a weight is clipped to zero, never flips.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DaleLaw {
    /// Fraction `f_E` of excitatory units, in `[0, 1]`; default 0.5.
    pub excitatory_fraction: f64,
}

impl Default for DaleLaw {
    fn default() -> Self {
        Self {
            excitatory_fraction: 0.5,
        }
    }
}

impl DaleLaw {
    /// `f_E` must lie in `[0, 1]`.
    pub fn validate(&self) -> Result<()> {
        let f = self.excitatory_fraction;
        if f.is_finite() && (0.0..=1.0).contains(&f) {
            Ok(())
        } else {
            Err(invalid("dale.excitatory_fraction", f, "must lie in [0, 1]"))
        }
    }

    /// Number of excitatory units among `n`: `round(f_E n)`.
    pub fn n_excitatory(&self, n: usize) -> usize {
        (self.excitatory_fraction * n as f64).round() as usize
    }

    /// The sign `xi_j` of unit `j` in a network of `n` units.
    pub fn sign(&self, j: usize, n: usize) -> f64 {
        if j < self.n_excitatory(n) { 1.0 } else { -1.0 }
    }

    /// `W_ij <- xi_j |W_ij|` (idempotent on a network that already obeys the law).
    pub fn initialise(&self, net: &mut Network) {
        let n = net.n_units();
        let w = &mut net.weights_mut().recurrent;
        for j in 0..n {
            let sign = self.sign(j, n);
            for value in w.col_as_slice_mut(j) {
                *value = sign * value.abs();
            }
        }
    }

    /// `W_ij <- xi_j max(0, xi_j W_ij)`.
    pub fn clip(&self, net: &mut Network) {
        let n = net.n_units();
        let w = &mut net.weights_mut().recurrent;
        for j in 0..n {
            let sign = self.sign(j, n);
            for value in w.col_as_slice_mut(j) {
                *value = sign * (sign * *value).max(0.0);
            }
        }
    }

    /// True when every `W_ij` has sign `xi_j` or is zero.
    pub fn holds(&self, net: &Network) -> bool {
        let n = net.n_units();
        (0..n).all(|j| {
            let sign = self.sign(j, n);
            net.weights()
                .recurrent
                .col_as_slice(j)
                .iter()
                .all(|&w| sign * w >= 0.0)
        })
    }
}

/// All constraints on applied updates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Constraints {
    /// Frozen groups.
    pub frozen: Frozen,
    /// Dale's law on `W`, if any.
    pub dale: Option<DaleLaw>,
}

impl Constraints {
    /// Validates the Dale fraction, if any.
    pub fn validate(&self) -> Result<()> {
        self.dale.as_ref().map_or(Ok(()), DaleLaw::validate)
    }

    /// Brings a fresh network into the constrained set (Dale's sign flip at
    /// initialisation). Idempotent.
    pub fn prepare(&self, net: &mut Network) {
        if let Some(dale) = &self.dale {
            dale.initialise(net);
        }
    }

    /// Adds `update` to the non-frozen groups of `net`, then clips for Dale's law.
    pub fn apply(&self, net: &mut Network, update: &WeightUpdate) {
        let frozen = self.frozen;
        let weights = net.weights_mut();
        if !frozen.recurrent {
            weights.recurrent += &update.recurrent;
        }
        if !frozen.input {
            weights.input += &update.input;
        }
        if !frozen.readout {
            weights.readout += &update.readout;
        }
        if let (Some(dale), false) = (&self.dale, frozen.recurrent) {
            dale.clip(net);
        }
    }
}
