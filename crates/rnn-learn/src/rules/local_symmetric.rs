//! `LocalSymmetric`: RFLO's local traces with symmetric feedback (docs/spec/MODEL.md §6; Fig 2d, magenta).
//!
//! The traces and updates of RFLO (docs/spec/MODEL.md §5),
//!
//! ```text
//! p_ab(t) = (1-alpha) p_ab(t-1) + alpha phi'(u_a(t)) h_b(t-1)
//! dW_ab(t) = eta2 [W_out^T e(t)]_a p_ab(t)
//! ```
//!
//! but the error is projected with the *current* readout, `F = W_out^T`
//! (online: the `W_out` that produced `y(t)`), instead of the random `B`.
//! It isolates the cost of the local approximation. With `W = 0` it equals
//! RTRL. Cost: O(N²) per step, like RFLO.

use rnn_core::{Network, State, Trial};

use crate::constraints::Constraints;
use crate::error::Result;
use crate::rule::{LearningRule, Projection, TrialOutcome};
use crate::rules::rflo::{OnlineForm, Rflo, RfloState, TrialEndForm};
use crate::update::{LearningRates, WeightUpdate};

/// RFLO traces with `F = W_out^T`.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalSymmetric {
    inner: Rflo,
}

impl LocalSymmetric {
    /// With the given rates (validated).
    pub fn new(rates: LearningRates) -> Result<Self> {
        Ok(Self {
            inner: Rflo::with_projection(rates, Projection::Readout)?,
        })
    }

    /// Chooses the form used for trial-end updates (equal up to rounding).
    pub fn with_trial_end_form(self, form: TrialEndForm) -> Self {
        Self {
            inner: self.inner.with_trial_end_form(form),
        }
    }

    /// The trial-end form.
    pub fn trial_end_form(&self) -> TrialEndForm {
        self.inner.trial_end_form()
    }

    /// The online form.
    pub fn online_form(&self) -> OnlineForm {
        self.inner.online_form()
    }

    /// Chooses the form used on the online schedule (equal up to rounding).
    pub fn with_online_form(self, online_form: OnlineForm) -> Self {
        Self {
            inner: self.inner.with_online_form(online_form),
        }
    }
}

impl LearningRule for LocalSymmetric {
    type State = RfloState;

    fn name(&self) -> &'static str {
        "LocalSymmetric"
    }

    fn rates(&self) -> LearningRates {
        self.inner.rates()
    }

    fn check_fits(&self, net: &Network) -> Result<()> {
        self.inner.check_fits(net)
    }

    fn new_state(&self, net: &Network) -> RfloState {
        self.inner.new_state(net)
    }

    fn accumulate(
        &self,
        net: &Network,
        trial: &Trial,
        start: &State,
        state: &mut RfloState,
        update: &mut WeightUpdate,
    ) -> Result<TrialOutcome> {
        self.inner.accumulate(net, trial, start, state, update)
    }

    fn prepare_batch(
        &self,
        net: &Network,
        trials: &[&Trial],
        starts: &[State],
        state: &mut RfloState,
    ) -> bool {
        self.inner.prepare_batch(net, trials, starts, state)
    }

    fn accumulate_prepared(
        &self,
        net: &Network,
        index: usize,
        trial: &Trial,
        start: &State,
        state: &mut RfloState,
        update: &mut WeightUpdate,
    ) -> Result<TrialOutcome> {
        self.inner
            .accumulate_prepared(net, index, trial, start, state, update)
    }

    fn run_online(
        &self,
        net: &mut Network,
        trial: &Trial,
        start: &State,
        state: &mut RfloState,
        constraints: &Constraints,
    ) -> Result<TrialOutcome> {
        self.inner.run_online(net, trial, start, state, constraints)
    }
}
