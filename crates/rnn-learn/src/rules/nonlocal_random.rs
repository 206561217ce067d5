//! `NonlocalRandom`: exact sensitivities, random feedback (docs/spec/MODEL.md §6; Fig 2d, cyan).
//!
//! RTRL's exact sensitivities (docs/spec/MODEL.md §3) with the error projected by the
//! network's fixed random feedback, `F = B`, instead of `W_out^T`:
//!
//! ```text
//! dW_ab    = (eta2 / T) sum_t sum_j [B e(t)]_j P[j][a][b](t)
//! dW_in_ab = (eta3 / T) sum_t sum_j [B e(t)]_j Q[j][a][b](t)
//! dW_out   = (eta1 / T) sum_t e(t) h(t)^T
//! ```
//!
//! It isolates the cost of random feedback from that of the local
//! approximation. For trial-end updates (weights fixed within the trial) the
//! same update is BPTT with `F = B` (docs/spec/MODEL.md §4): O(N²) per step instead of
//! O(N⁴), and the default ([`NonlocalForm::Bptt`]). The two forms agree to
//! rounding (tested). The online schedule needs the causal form and always
//! uses RTRL with `F = B`.

use serde::{Deserialize, Serialize};

use rnn_core::{Network, State, Trial};

use crate::constraints::Constraints;
use crate::error::Result;
use crate::rule::{LearningRule, Projection, TrialOutcome};
use crate::rules::bptt::{Bptt, BpttState};
use crate::rules::rtrl::{Rtrl, RtrlState};
use crate::update::{LearningRates, WeightUpdate};

/// Which computation [`LearningRule::accumulate`] uses for a trial-end
/// update. Serialised as `"bptt"` or `"rtrl"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NonlocalForm {
    /// BPTT with `F = B`: O(N²) work per step, O(N T) memory.
    #[default]
    Bptt,
    /// RTRL with `F = B`: O(N⁴) work per step, O(N³) memory (the definition).
    Rtrl,
}

/// Exact sensitivities projected with `F = B`; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct NonlocalRandom {
    rtrl: Rtrl,
    bptt: Bptt,
    form: NonlocalForm,
}

impl NonlocalRandom {
    /// With the given rates (validated); trial-end updates by the BPTT form.
    pub fn new(rates: LearningRates) -> Result<Self> {
        Ok(Self {
            rtrl: Rtrl::with_projection(rates, Projection::Feedback)?,
            bptt: Bptt::with_projection(rates, Projection::Feedback)?,
            form: NonlocalForm::default(),
        })
    }

    /// Chooses the form used for trial-end updates (both are exact).
    pub fn with_form(mut self, form: NonlocalForm) -> Self {
        self.form = form;
        self
    }

    /// The trial-end form.
    pub fn form(&self) -> NonlocalForm {
        self.form
    }
}

/// Working memory of [`NonlocalRandom`]: only the chosen form's state is
/// allocated by [`LearningRule::new_state`]; the RTRL state is allocated on
/// the first online trial if the BPTT form was chosen (once, outside any
/// step loop).
#[derive(Debug, Clone, Default)]
pub struct NonlocalRandomState {
    rtrl: Option<RtrlState>,
    bptt: Option<BpttState>,
}

impl NonlocalRandom {
    fn rtrl_state<'a>(
        &self,
        net: &Network,
        state: &'a mut NonlocalRandomState,
    ) -> &'a mut RtrlState {
        state.rtrl.get_or_insert_with(|| self.rtrl.new_state(net))
    }
}

impl LearningRule for NonlocalRandom {
    type State = NonlocalRandomState;

    fn name(&self) -> &'static str {
        "NonlocalRandom"
    }

    fn rates(&self) -> LearningRates {
        self.rtrl.rates()
    }

    fn check_fits(&self, net: &Network) -> Result<()> {
        self.rtrl.check_fits(net)
    }

    fn new_state(&self, net: &Network) -> NonlocalRandomState {
        match self.form {
            NonlocalForm::Bptt => NonlocalRandomState {
                rtrl: None,
                bptt: Some(self.bptt.new_state(net)),
            },
            NonlocalForm::Rtrl => NonlocalRandomState {
                rtrl: Some(self.rtrl.new_state(net)),
                bptt: None,
            },
        }
    }

    fn accumulate(
        &self,
        net: &Network,
        trial: &Trial,
        start: &State,
        state: &mut NonlocalRandomState,
        update: &mut WeightUpdate,
    ) -> Result<TrialOutcome> {
        match self.form {
            NonlocalForm::Bptt => {
                let inner = state.bptt.get_or_insert_with(|| self.bptt.new_state(net));
                self.bptt.accumulate(net, trial, start, inner, update)
            }
            NonlocalForm::Rtrl => {
                let inner = self.rtrl_state(net, state);
                self.rtrl.accumulate(net, trial, start, inner, update)
            }
        }
    }

    fn prepare_batch(
        &self,
        net: &Network,
        trials: &[&Trial],
        starts: &[State],
        state: &mut NonlocalRandomState,
    ) -> bool {
        match self.form {
            NonlocalForm::Bptt => {
                let inner = state.bptt.get_or_insert_with(|| self.bptt.new_state(net));
                self.bptt.prepare_batch(net, trials, starts, inner)
            }
            NonlocalForm::Rtrl => false,
        }
    }

    fn accumulate_prepared(
        &self,
        net: &Network,
        index: usize,
        trial: &Trial,
        start: &State,
        state: &mut NonlocalRandomState,
        update: &mut WeightUpdate,
    ) -> Result<TrialOutcome> {
        match self.form {
            NonlocalForm::Bptt => {
                let inner = state.bptt.get_or_insert_with(|| self.bptt.new_state(net));
                self.bptt
                    .accumulate_prepared(net, index, trial, start, inner, update)
            }
            NonlocalForm::Rtrl => self.accumulate(net, trial, start, state, update),
        }
    }

    fn run_online(
        &self,
        net: &mut Network,
        trial: &Trial,
        start: &State,
        state: &mut NonlocalRandomState,
        constraints: &Constraints,
    ) -> Result<TrialOutcome> {
        let inner = self.rtrl_state(net, state);
        self.rtrl.run_online(net, trial, start, inner, constraints)
    }
}
