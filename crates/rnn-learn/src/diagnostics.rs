//! Diagnostics of docs/spec/MODEL.md §9: readout–feedback and gradient alignment, and
//! the comparison of every rule's update on one trajectory.

use faer::Mat;
use rnn_core::{Network, State, Trial};

use crate::error::Result;
use crate::registry::RuleSpec;
use crate::rule::LearningRule;
use crate::rules::bptt::{Bptt, BpttState};
use crate::update::{LearningRates, WeightUpdate, cosine, frobenius_dot};

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
    ///
    /// It runs `rule` with `rule_state`, which a random rule (UORO, KF-RTRL,
    /// REINFORCE) or FORCE advances; the [`Trainer`](crate::Trainer) passes
    /// a separate state loaded with the training state's memory, so the
    /// measurement sees the training trial's own draws and does not change
    /// the run.
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

    /// `‖∂L/∂W‖_F`, the Frobenius norm of the exact recurrent gradient of the
    /// last [`measure`](Self::measure) (BPTT at unit rate gives `-∂L/∂W`):
    /// the quantity to watch for exploding gradients at long `T`.
    pub fn exact_gradient_norm(&self) -> f64 {
        self.exact_update.recurrent.norm_l2()
    }
}

/// Gradient alignment (docs/spec/MODEL.md §9) of the **mean** of several
/// rules' trial-end `dW` on one network, trial and start state: the cosine
/// between `sum_k dW_k` and the exact `dW` (BPTT, `F = W_out^T`), each rule
/// run with a fresh working state (a random rule: its first draw with its
/// spec's `seed`). The sum is `K` times the mean when the specs share their
/// rates, and a cosine does not depend on a positive factor, so with `K`
/// specs of one random rule that differ only in `seed` this is the alignment
/// of the `K`-draw Monte Carlo mean, which tends to the alignment of the
/// rule's expectation (1 for the unbiased UORO and KF-RTRL, §12–§13) as `K`
/// grows. With one spec it is that rule's gradient alignment
/// ([`GradientAlignment`]). 0 if either sum is zero.
pub fn mean_gradient_alignment(
    net: &Network,
    trial: &Trial,
    start: &State,
    specs: &[RuleSpec],
) -> Result<f64> {
    let mut sum = WeightUpdate::zeros(net);
    for spec in specs {
        let rule = spec.build()?;
        rule.check_fits(net)?;
        let mut state = rule.new_state(net);
        rule.accumulate(net, trial, start, &mut state, &mut sum)?;
    }
    let exact = Bptt::new(LearningRates::uniform(1.0))?;
    let (mut exact_state, mut exact_update) = (exact.new_state(net), WeightUpdate::zeros(net));
    exact.accumulate(net, trial, start, &mut exact_state, &mut exact_update)?;
    Ok(cosine(
        sum.recurrent.as_ref(),
        exact_update.recurrent.as_ref(),
    ))
}

/// Every rule's trial-end update on one network, trial and start state, and
/// the matrix of their pairwise cosines: [`compare_rules`].
#[derive(Debug, Clone)]
pub struct RuleComparison {
    /// The rules' labels ([`RuleSpec::label`]), in the order given.
    pub labels: Vec<&'static str>,
    /// Each rule's trial-end update (a fresh working state each: for a
    /// random rule, its first draw with its seed).
    pub updates: Vec<WeightUpdate>,
    /// `cosine[(i, j)]`: cosine between the updates of rules `i` and `j`,
    /// `(dW, dW_in)` taken as one vector (0 if either is zero, e.g. FORCE,
    /// which changes only `W_out`).
    pub cosine: Mat<f64>,
}

/// Runs every rule of `specs` on the same network, trial and start state
/// (weights fixed) and returns the updates and their pairwise cosines — the
/// comparison of rules on one trajectory (e.g. `RuleSpec::every_form`).
pub fn compare_rules(
    net: &Network,
    trial: &Trial,
    start: &State,
    specs: &[RuleSpec],
) -> Result<RuleComparison> {
    let mut labels = Vec::with_capacity(specs.len());
    let mut updates = Vec::with_capacity(specs.len());
    for spec in specs {
        let rule = spec.build()?;
        rule.check_fits(net)?;
        let mut state = rule.new_state(net);
        let mut update = WeightUpdate::zeros(net);
        rule.accumulate(net, trial, start, &mut state, &mut update)?;
        labels.push(spec.label());
        updates.push(update);
    }
    let dot = |a: &WeightUpdate, b: &WeightUpdate| {
        frobenius_dot(a.recurrent.as_ref(), b.recurrent.as_ref())
            + frobenius_dot(a.input.as_ref(), b.input.as_ref())
    };
    let norms: Vec<f64> = updates.iter().map(|u| dot(u, u).sqrt()).collect();
    let cosine = Mat::from_fn(updates.len(), updates.len(), |i, j| {
        let scale = norms[i] * norms[j];
        if scale == 0.0 {
            0.0
        } else {
            dot(&updates[i], &updates[j]) / scale
        }
    });
    Ok(RuleComparison {
        labels,
        updates,
        cosine,
    })
}
