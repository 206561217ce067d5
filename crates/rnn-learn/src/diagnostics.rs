//! Diagnostics of docs/spec/MODEL.md §9: readout–feedback and gradient alignment.

use rnn_core::{Network, State, Trial};

use crate::error::Result;
use crate::rule::LearningRule;
use crate::rules::bptt::{Bptt, BpttState};
use crate::update::{LearningRates, WeightUpdate, cosine};

/// Readout–feedback alignment `A = Tr(W_out B) / (|W_out|_F |B|_F)` in `[-1, 1]`
/// (Fig 2c); for `N_y = 1` the cosine between `w_out` and `b`. 0 if either is zero.
pub fn feedback_alignment(net: &Network) -> f64 {
    cosine(net.readout(), net.feedback().transpose())
}

/// Computes the cosine between a rule's `dW` and the exact `dW` (BPTT with
/// `F = W_out^T`) on the same trial, start state and weights.
///
/// Owns the buffers it needs so that repeated calls do not allocate.
#[derive(Debug, Clone)]
pub struct GradientAlignment {
    exact: Bptt,
    exact_state: BpttState,
    exact_update: WeightUpdate,
    rule_update: WeightUpdate,
}

impl GradientAlignment {
    /// Buffers sized for `net`.
    pub fn new(net: &Network) -> Self {
        // Unit rates: cosines do not depend on the (positive) scale.
        let exact = Bptt::new(LearningRates::uniform(1.0)).expect("unit rates are valid");
        Self {
            exact_state: exact.new_state(net),
            exact,
            exact_update: WeightUpdate::zeros(net),
            rule_update: WeightUpdate::zeros(net),
        }
    }

    /// Cosine between `rule`'s trial-end `dW` and the exact one on `trial` from `start`.
    pub fn measure<R: LearningRule>(
        &mut self,
        rule: &R,
        rule_state: &mut R::State,
        net: &Network,
        trial: &Trial,
        start: &State,
    ) -> Result<f64> {
        self.exact_update.set_zero();
        self.rule_update.set_zero();
        self.exact.accumulate(
            net,
            trial,
            start,
            &mut self.exact_state,
            &mut self.exact_update,
        )?;
        rule.accumulate(net, trial, start, rule_state, &mut self.rule_update)?;
        Ok(cosine(
            self.rule_update.recurrent.as_ref(),
            self.exact_update.recurrent.as_ref(),
        ))
    }
}
