//! The registry of learning rules: [`RuleSpec`], a serialisable description
//! of any rule with its settings, and [`AnyRule`], any rule behind one type.
//!
//! This module is **the** list of rules: the names used in TOML, CSV files,
//! reports and plots ([`RuleSpec::name`], [`RuleSpec::label`]) are defined
//! here and nowhere else, and every consumer that needs "all rules" (the
//! conformance suite, the benchmarks, the experiment layer) goes through
//! [`RuleSpec::every_form`] and [`RuleSpec::build`].
//!
//! In TOML (or JSON) a rule is a table tagged by `name`; `rates` is one
//! number (`eta1 = eta2 = eta3`) or a table `{ readout, recurrent, input }`;
//! every other field is optional and defaults to the rule's Rust default
//! (fields at their default are not written when serialising). Unknown
//! fields and names are errors.
//!
//! ```toml
//! [rule]
//! name = "rflo"                  # rflo | local_symmetric | bptt | rtrl | nonlocal_random | snap1 | uoro | kf_rtrl | reinforce | force | eprop
//! rates = 0.03                   # or { readout = 0.03, recurrent = 0.01, input = 0.01 }
//! projection = "feedback"        # rflo, bptt, rtrl, snap1, uoro, kf_rtrl: "readout" | "feedback" | { custom = [[..], ..] }
//! trial_end_form = "batched"     # rflo, local_symmetric, snap1, eprop: "batched" | "traces"
//! online_form = "auto"           # rflo, local_symmetric, eprop: "auto" | "trace" | "low_rank"
//! # feedback = "random"          # eprop: "random" (= rflo) | "symmetric" (= local_symmetric)
//! # form = "bptt"                # nonlocal_random: "bptt" | "rtrl"
//! # seed = 0                     # uoro, kf_rtrl, reinforce: seed of the rule's noise generator
//! # sigma = 0.01                 # reinforce: noise standard deviation
//! # baseline = { running_mean = 0.1 }  # reinforce: or "noise_free"
//! # learn_readout = true         # reinforce: W_out by §2 on the noisy trial, or not
//! # filtered = false             # reinforce: the low-pass-filtered (biased) variant
//! # delta = 1.0                  # force: P(0) = I / delta
//! ```
//!
//! ```
//! use rnn_learn::{LearningRule, RuleSpec};
//!
//! let spec: RuleSpec = toml::from_str(r#"name = "rflo"
//! rates = 0.03
//! trial_end_form = "traces""#).unwrap();
//! assert_eq!(spec.name(), "rflo");
//! let rule = spec.build()?;          // an `AnyRule`, validated
//! assert_eq!(rule.name(), "RFLO");
//! # Ok::<(), rnn_learn::LearnError>(())
//! ```
//!
//! **Registering a new rule** = its file under `rules/` + one entry here: a
//! [`RuleSpec`] variant (the compiler then points at each `match` that needs
//! its arm: name, label, rates, build, every form) and one line in the
//! `any_rule!` invocation, which generates the [`AnyRule`] and [`AnyState`]
//! variants and the dispatch.

use serde::{Deserialize, Serialize};

use rnn_core::{Network, State, Trial, TrialSource};

use crate::checkpoint::RuleMemory;
use crate::constraints::Constraints;
use crate::error::{Result, TrainError, invalid};
use crate::rule::{LearningRule, Projection, TrialOutcome};
use crate::rules::bptt::Bptt;
use crate::rules::eprop::EpropFeedback;
use crate::rules::force::Force;
use crate::rules::kf_rtrl::KfRtrl;
use crate::rules::local_symmetric::LocalSymmetric;
use crate::rules::nonlocal_random::{NonlocalForm, NonlocalRandom};
use crate::rules::reinforce::{Baseline, Reinforce};
use crate::rules::rflo::{OnlineForm, Rflo, TrialEndForm};
use crate::rules::rtrl::Rtrl;
use crate::rules::snap1::Snap1;
use crate::rules::uoro::Uoro;
use crate::train::{History, TrainingConfig};
use crate::update::{LearningRates, WeightUpdate, all_finite};

/// A learning rule with its settings, as data (serde, TOML/JSON); see the
/// [module docs](self) for the TOML form.
///
/// The variants' optional fields default to the rule's Rust defaults (the
/// constructors [`RuleSpec::rflo`], ... give exactly those).
/// [`RuleSpec::build`] validates and gives the rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum RuleSpec {
    /// [`Rflo`]: local traces, error projected by `F` (default the random feedback `B`).
    Rflo {
        /// Learning rates: one number or `{ readout, recurrent, input }`.
        #[serde(with = "rates_repr")]
        rates: LearningRates,
        /// The projection `F`; default [`Projection::Feedback`].
        #[serde(default = "feedback", skip_serializing_if = "is_feedback")]
        projection: Projection,
        /// Form of trial-end updates; default [`TrialEndForm::Batched`].
        #[serde(default, skip_serializing_if = "is_default")]
        trial_end_form: TrialEndForm,
        /// Form on the online schedule; default [`OnlineForm::Auto`].
        #[serde(default, skip_serializing_if = "is_default")]
        online_form: OnlineForm,
    },
    /// [`LocalSymmetric`]: RFLO's traces with `F = W_out^T`.
    LocalSymmetric {
        /// Learning rates: one number or `{ readout, recurrent, input }`.
        #[serde(with = "rates_repr")]
        rates: LearningRates,
        /// Form of trial-end updates; default [`TrialEndForm::Batched`].
        #[serde(default, skip_serializing_if = "is_default")]
        trial_end_form: TrialEndForm,
        /// Form on the online schedule; default [`OnlineForm::Auto`].
        #[serde(default, skip_serializing_if = "is_default")]
        online_form: OnlineForm,
    },
    /// [`Bptt`]: exact, acausal (refuses the online schedule).
    Bptt {
        /// Learning rates: one number or `{ readout, recurrent, input }`.
        #[serde(with = "rates_repr")]
        rates: LearningRates,
        /// The projection `F`; default [`Projection::Readout`] (the exact gradient).
        #[serde(default, skip_serializing_if = "is_default")]
        projection: Projection,
    },
    /// [`Rtrl`]: exact, online, O(N⁴) per step.
    Rtrl {
        /// Learning rates: one number or `{ readout, recurrent, input }`.
        #[serde(with = "rates_repr")]
        rates: LearningRates,
        /// The projection `F`; default [`Projection::Readout`] (the exact gradient).
        #[serde(default, skip_serializing_if = "is_default")]
        projection: Projection,
    },
    /// [`NonlocalRandom`]: exact sensitivities, `F = B`.
    NonlocalRandom {
        /// Learning rates: one number or `{ readout, recurrent, input }`.
        #[serde(with = "rates_repr")]
        rates: LearningRates,
        /// Form of trial-end updates; default [`NonlocalForm::Bptt`].
        #[serde(default, skip_serializing_if = "is_default")]
        form: NonlocalForm,
    },
    /// [`Uoro`]: unbiased rank-one estimate of RTRL, sign noise from its seed.
    Uoro {
        /// Learning rates: one number or `{ readout, recurrent, input }`.
        #[serde(with = "rates_repr")]
        rates: LearningRates,
        /// The projection `F`; default [`Projection::Readout`].
        #[serde(default, skip_serializing_if = "is_default")]
        projection: Projection,
        /// Seed of the rule's sign generator; default 0.
        #[serde(default, skip_serializing_if = "is_default")]
        seed: u64,
    },
    /// [`KfRtrl`]: unbiased Kronecker-factored estimate of RTRL, sign noise from its seed.
    KfRtrl {
        /// Learning rates: one number or `{ readout, recurrent, input }`.
        #[serde(with = "rates_repr")]
        rates: LearningRates,
        /// The projection `F`; default [`Projection::Readout`].
        #[serde(default, skip_serializing_if = "is_default")]
        projection: Projection,
        /// Seed of the rule's sign generator; default 0.
        #[serde(default, skip_serializing_if = "is_default")]
        seed: u64,
    },
    /// [`Reinforce`]: node perturbation, Gaussian current noise (refuses the online schedule).
    Reinforce {
        /// Learning rates: one number or `{ readout, recurrent, input }`.
        #[serde(with = "rates_repr")]
        rates: LearningRates,
        /// Noise standard deviation; default [`Reinforce::DEFAULT_SIGMA`].
        #[serde(default = "default_sigma", skip_serializing_if = "is_default_sigma")]
        sigma: f64,
        /// The baseline; default the running mean with `beta = 0.1`.
        #[serde(default, skip_serializing_if = "is_default")]
        baseline: Baseline,
        /// Whether `W_out` learns by §2 on the noisy trial; default true.
        #[serde(default = "yes", skip_serializing_if = "is_true")]
        learn_readout: bool,
        /// The low-pass-filtered (biased) variant; default false.
        #[serde(default, skip_serializing_if = "is_default")]
        filtered: bool,
        /// Seed of the rule's noise generator; default 0.
        #[serde(default, skip_serializing_if = "is_default")]
        seed: u64,
    },
    /// [`Force`]: recursive least squares on the readout (`W`, `W_in` unchanged).
    Force {
        /// Learning rates: one number or `{ readout, recurrent, input }`;
        /// only `eta1` is used (1 is FORCE proper).
        #[serde(with = "rates_repr")]
        rates: LearningRates,
        /// The regulariser, `P(0) = I / delta`; default 1.
        #[serde(default = "one", skip_serializing_if = "is_one")]
        delta: f64,
    },
    /// e-prop for leaky rate units: **is** [`Rflo`] (random feedback) or
    /// [`LocalSymmetric`] (symmetric feedback), and builds that rule
    /// (docs/spec/MODEL.md §11, [`crate::rules::eprop`]).
    Eprop {
        /// Learning rates: one number or `{ readout, recurrent, input }`.
        #[serde(with = "rates_repr")]
        rates: LearningRates,
        /// The learning signal's feedback; default [`EpropFeedback::Random`].
        #[serde(default, skip_serializing_if = "is_default")]
        feedback: EpropFeedback,
        /// Form of trial-end updates; default [`TrialEndForm::Batched`].
        #[serde(default, skip_serializing_if = "is_default")]
        trial_end_form: TrialEndForm,
        /// Form on the online schedule; default [`OnlineForm::Auto`].
        #[serde(default, skip_serializing_if = "is_default")]
        online_form: OnlineForm,
    },
    /// [`Snap1`]: SnAp-1, RTRL's sensitivities kept for each weight's own unit.
    Snap1 {
        /// Learning rates: one number or `{ readout, recurrent, input }`.
        #[serde(with = "rates_repr")]
        rates: LearningRates,
        /// The projection `F`; default [`Projection::Readout`].
        #[serde(default, skip_serializing_if = "is_default")]
        projection: Projection,
        /// Form of trial-end updates; default [`TrialEndForm::Batched`].
        #[serde(default, skip_serializing_if = "is_default")]
        trial_end_form: TrialEndForm,
    },
}

fn feedback() -> Projection {
    Projection::Feedback
}

fn is_feedback(projection: &Projection) -> bool {
    *projection == Projection::Feedback
}

fn default_sigma() -> f64 {
    Reinforce::DEFAULT_SIGMA
}

fn is_default_sigma(sigma: &f64) -> bool {
    sigma.to_bits() == Reinforce::DEFAULT_SIGMA.to_bits()
}

fn one() -> f64 {
    1.0
}

fn is_one(value: &f64) -> bool {
    value.to_bits() == 1.0_f64.to_bits()
}

fn yes() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

impl RuleSpec {
    /// RFLO (`F = B`) with default forms.
    pub fn rflo(rates: impl Into<LearningRates>) -> Self {
        Self::Rflo {
            rates: rates.into(),
            projection: Projection::Feedback,
            trial_end_form: TrialEndForm::default(),
            online_form: OnlineForm::default(),
        }
    }

    /// `LocalSymmetric` with default forms.
    pub fn local_symmetric(rates: impl Into<LearningRates>) -> Self {
        Self::LocalSymmetric {
            rates: rates.into(),
            trial_end_form: TrialEndForm::default(),
            online_form: OnlineForm::default(),
        }
    }

    /// Exact BPTT (`F = W_out^T`).
    pub fn bptt(rates: impl Into<LearningRates>) -> Self {
        Self::Bptt {
            rates: rates.into(),
            projection: Projection::Readout,
        }
    }

    /// Exact RTRL (`F = W_out^T`).
    pub fn rtrl(rates: impl Into<LearningRates>) -> Self {
        Self::Rtrl {
            rates: rates.into(),
            projection: Projection::Readout,
        }
    }

    /// `NonlocalRandom` with the default (BPTT) trial-end form.
    pub fn nonlocal_random(rates: impl Into<LearningRates>) -> Self {
        Self::NonlocalRandom {
            rates: rates.into(),
            form: NonlocalForm::default(),
        }
    }

    /// SnAp-1 (`F = W_out^T`) with the default (batched) trial-end form.
    pub fn snap1(rates: impl Into<LearningRates>) -> Self {
        Self::Snap1 {
            rates: rates.into(),
            projection: Projection::Readout,
            trial_end_form: TrialEndForm::default(),
        }
    }

    /// UORO (`F = W_out^T`, seed 0).
    pub fn uoro(rates: impl Into<LearningRates>) -> Self {
        Self::Uoro {
            rates: rates.into(),
            projection: Projection::Readout,
            seed: 0,
        }
    }

    /// KF-RTRL (`F = W_out^T`, seed 0).
    pub fn kf_rtrl(rates: impl Into<LearningRates>) -> Self {
        Self::KfRtrl {
            rates: rates.into(),
            projection: Projection::Readout,
            seed: 0,
        }
    }

    /// REINFORCE with its defaults (see [`Reinforce::new`]).
    pub fn reinforce(rates: impl Into<LearningRates>) -> Self {
        Self::Reinforce {
            rates: rates.into(),
            sigma: Reinforce::DEFAULT_SIGMA,
            baseline: Baseline::default(),
            learn_readout: true,
            filtered: false,
            seed: 0,
        }
    }

    /// FORCE with `delta = 1`.
    pub fn force(rates: impl Into<LearningRates>) -> Self {
        Self::Force {
            rates: rates.into(),
            delta: 1.0,
        }
    }

    /// e-prop with the given feedback (it builds [`Rflo`] or [`LocalSymmetric`]).
    pub fn eprop(rates: impl Into<LearningRates>, feedback: EpropFeedback) -> Self {
        Self::Eprop {
            rates: rates.into(),
            feedback,
            trial_end_form: TrialEndForm::default(),
            online_form: OnlineForm::default(),
        }
    }

    /// One spec per registered rule, at its default settings, in registry
    /// order: every rule of [`RuleSpec::every_form`] once, and `eprop`
    /// (which that list leaves out because it builds RFLO or
    /// `LocalSymmetric`). What a front end (the Python package) lists.
    pub fn every_rule(rates: LearningRates) -> Vec<RuleSpec> {
        let mut rules: Vec<RuleSpec> = Vec::new();
        for spec in Self::every_form(rates) {
            if rules.iter().all(|r| r.name() != spec.name()) {
                rules.push(spec);
            }
        }
        rules.push(Self::eprop(rates, EpropFeedback::default()));
        rules
    }

    /// Every rule in every alternative form, each form at least once:
    /// RFLO and `LocalSymmetric` as (batched, auto), (traces, trace) and
    /// (batched, low-rank) — a trial-end form only matters for trial-end
    /// updates and an online form only on the online schedule, so the two
    /// are paired rather than crossed —, BPTT, RTRL, and `NonlocalRandom`
    /// in its BPTT and RTRL forms, and SnAp-1 as (readout, batched),
    /// (readout, traces) and (feedback, batched), UORO, KF-RTRL, and REINFORCE at its defaults and
    /// as (filtered, noise-free baseline), and FORCE. Other projections are left
    /// at their defaults. `eprop` is not listed: it builds RFLO or
    /// `LocalSymmetric`, which are.
    pub fn every_form(rates: LearningRates) -> Vec<RuleSpec> {
        let forms = [
            (TrialEndForm::Batched, OnlineForm::Auto),
            (TrialEndForm::Traces, OnlineForm::Trace),
            (TrialEndForm::Batched, OnlineForm::LowRank),
        ];
        let mut specs = Vec::new();
        for (trial_end_form, online_form) in forms {
            specs.push(Self::Rflo {
                rates,
                projection: Projection::Feedback,
                trial_end_form,
                online_form,
            });
        }
        for (trial_end_form, online_form) in forms {
            specs.push(Self::LocalSymmetric {
                rates,
                trial_end_form,
                online_form,
            });
        }
        specs.push(Self::bptt(rates));
        specs.push(Self::rtrl(rates));
        for form in [NonlocalForm::Bptt, NonlocalForm::Rtrl] {
            specs.push(Self::NonlocalRandom { rates, form });
        }
        for (projection, trial_end_form) in [
            (Projection::Readout, TrialEndForm::Batched),
            (Projection::Readout, TrialEndForm::Traces),
            (Projection::Feedback, TrialEndForm::Batched),
        ] {
            specs.push(Self::Snap1 {
                rates,
                projection,
                trial_end_form,
            });
        }
        specs.push(Self::uoro(rates));
        specs.push(Self::kf_rtrl(rates));
        specs.push(Self::reinforce(rates));
        specs.push(Self::Reinforce {
            rates,
            sigma: Reinforce::DEFAULT_SIGMA,
            baseline: Baseline::NoiseFree,
            learn_readout: true,
            filtered: true,
            seed: 0,
        });
        specs.push(Self::force(rates));
        specs
    }

    /// The rule's name in TOML, CSV and file names: `"rflo"`,
    /// `"local_symmetric"`, `"bptt"`, `"rtrl"`, `"nonlocal_random"`, `"snap1"`, `"uoro"`, `"kf_rtrl"`, `"reinforce"`, `"force"`, `"eprop"` (the
    /// serde tag).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Rflo { .. } => "rflo",
            Self::LocalSymmetric { .. } => "local_symmetric",
            Self::Bptt { .. } => "bptt",
            Self::Rtrl { .. } => "rtrl",
            Self::NonlocalRandom { .. } => "nonlocal_random",
            Self::Snap1 { .. } => "snap1",
            Self::Eprop { .. } => "eprop",
            Self::Uoro { .. } => "uoro",
            Self::Reinforce { .. } => "reinforce",
            Self::Force { .. } => "force",
            Self::KfRtrl { .. } => "kf_rtrl",
        }
    }

    /// The rule's label in plots and reports: `"RFLO"`, `"LocalSymmetric"`,
    /// `"BPTT"`, `"RTRL"`, `"NonlocalRandom"`, `"SnAp-1"`, `"UORO"`, `"KF-RTRL"`, `"REINFORCE"`, `"FORCE"`, `"e-prop"` (whatever the settings; an
    /// `eprop` spec builds a rule whose [`LearningRule::name`] is `"RFLO"` or
    /// `"LocalSymmetric"`).
    pub fn label(&self) -> &'static str {
        match self {
            Self::Rflo { .. } => "RFLO",
            Self::LocalSymmetric { .. } => "LocalSymmetric",
            Self::Bptt { .. } => "BPTT",
            Self::Rtrl { .. } => "RTRL",
            Self::NonlocalRandom { .. } => "NonlocalRandom",
            Self::Snap1 { .. } => "SnAp-1",
            Self::Eprop { .. } => "e-prop",
            Self::Uoro { .. } => "UORO",
            Self::Reinforce { .. } => "REINFORCE",
            Self::Force { .. } => "FORCE",
            Self::KfRtrl { .. } => "KF-RTRL",
        }
    }

    /// The learning rates.
    pub fn rates(&self) -> LearningRates {
        match self {
            Self::Rflo { rates, .. }
            | Self::LocalSymmetric { rates, .. }
            | Self::Bptt { rates, .. }
            | Self::Rtrl { rates, .. }
            | Self::NonlocalRandom { rates, .. }
            | Self::Snap1 { rates, .. }
            | Self::Eprop { rates, .. }
            | Self::Uoro { rates, .. }
            | Self::KfRtrl { rates, .. }
            | Self::Reinforce { rates, .. }
            | Self::Force { rates, .. } => *rates,
        }
    }

    /// The same rule and settings with other learning rates.
    pub fn with_rates(mut self, new: LearningRates) -> Self {
        match &mut self {
            Self::Rflo { rates, .. }
            | Self::LocalSymmetric { rates, .. }
            | Self::Bptt { rates, .. }
            | Self::Rtrl { rates, .. }
            | Self::NonlocalRandom { rates, .. }
            | Self::Snap1 { rates, .. }
            | Self::Eprop { rates, .. }
            | Self::Uoro { rates, .. }
            | Self::KfRtrl { rates, .. }
            | Self::Reinforce { rates, .. }
            | Self::Force { rates, .. } => *rates = new,
        }
        self
    }

    /// The rule, validated (rates finite and `>= 0`, a custom projection
    /// finite). Whether a custom projection fits a network is checked when
    /// training starts ([`LearningRule::check_fits`]).
    pub fn build(&self) -> Result<AnyRule> {
        Ok(match self {
            Self::Rflo {
                rates,
                projection,
                trial_end_form,
                online_form,
            } => Rflo::with_projection(*rates, checked(projection)?)?
                .with_trial_end_form(*trial_end_form)
                .with_online_form(*online_form)
                .into(),
            Self::LocalSymmetric {
                rates,
                trial_end_form,
                online_form,
            } => LocalSymmetric::new(*rates)?
                .with_trial_end_form(*trial_end_form)
                .with_online_form(*online_form)
                .into(),
            Self::Bptt { rates, projection } => {
                Bptt::with_projection(*rates, checked(projection)?)?.into()
            }
            Self::Rtrl { rates, projection } => {
                Rtrl::with_projection(*rates, checked(projection)?)?.into()
            }
            Self::NonlocalRandom { rates, form } => {
                NonlocalRandom::new(*rates)?.with_form(*form).into()
            }
            Self::Uoro {
                rates,
                projection,
                seed,
            } => Uoro::with_projection(*rates, checked(projection)?)?
                .with_seed(*seed)
                .into(),
            Self::KfRtrl {
                rates,
                projection,
                seed,
            } => KfRtrl::with_projection(*rates, checked(projection)?)?
                .with_seed(*seed)
                .into(),
            Self::Reinforce {
                rates,
                sigma,
                baseline,
                learn_readout,
                filtered,
                seed,
            } => Reinforce::new(*rates)?
                .with_sigma(*sigma)?
                .with_baseline(*baseline)?
                .with_learn_readout(*learn_readout)
                .with_filtered(*filtered)
                .with_seed(*seed)
                .into(),
            Self::Force { rates, delta } => Force::new(*rates)?.with_delta(*delta)?.into(),
            Self::Eprop {
                rates,
                feedback: EpropFeedback::Random,
                trial_end_form,
                online_form,
            } => Rflo::new(*rates)?
                .with_trial_end_form(*trial_end_form)
                .with_online_form(*online_form)
                .into(),
            Self::Eprop {
                rates,
                feedback: EpropFeedback::Symmetric,
                trial_end_form,
                online_form,
            } => LocalSymmetric::new(*rates)?
                .with_trial_end_form(*trial_end_form)
                .with_online_form(*online_form)
                .into(),
            Self::Snap1 {
                rates,
                projection,
                trial_end_form,
            } => Snap1::with_projection(*rates, checked(projection)?)?
                .with_trial_end_form(*trial_end_form)
                .into(),
        })
    }

    /// Builds the rule and trains `net` with it ([`train()`](crate::train())):
    /// a whole run in one expression. An invalid spec gives a
    /// [`TrainError`] with an empty history.
    #[allow(clippy::result_large_err)] // returned once per run, holds the history by value
    pub fn train(
        &self,
        net: &mut Network,
        source: &mut dyn TrialSource,
        config: &TrainingConfig,
    ) -> std::result::Result<History, TrainError> {
        let rule = self.build().map_err(|source| TrainError {
            history: History::default(),
            source,
        })?;
        crate::train::train(net, rule, source, config)
    }
}

fn checked(projection: &Projection) -> Result<Projection> {
    if let Projection::Custom(f) = projection
        && !all_finite(f.as_ref())
    {
        return Err(invalid(
            "projection",
            "custom F with a non-finite entry",
            "every entry must be finite",
        ));
    }
    Ok(projection.clone())
}

/// Generates [`AnyRule`], [`AnyState`], the `From` conversions and the
/// [`LearningRule`] dispatch from one `Variant(RuleType)` list.
macro_rules! any_rule {
    ($($variant:ident($rule:ty)),* $(,)?) => {
        /// Any rule of the crate behind one type: built by [`RuleSpec::build`]
        /// (or `From` a concrete rule), it implements [`LearningRule`] by
        /// dispatching each call (once per trial, never per step) to the
        /// concrete rule, with identical results.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum AnyRule {
            $(
                #[doc = concat!("[`", stringify!($rule), "`].")]
                $variant($rule),
            )*
        }

        /// The working memory of an [`AnyRule`]: the concrete rule's state.
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        #[allow(clippy::large_enum_variant)] // one per run, allocated once
        pub enum AnyState {
            $(
                #[doc = concat!("The state of [`", stringify!($rule), "`].")]
                $variant(<$rule as LearningRule>::State),
            )*
        }

        $(
            impl From<$rule> for AnyRule {
                fn from(rule: $rule) -> Self {
                    AnyRule::$variant(rule)
                }
            }
        )*

        impl LearningRule for AnyRule {
            type State = AnyState;

            fn name(&self) -> &'static str {
                match self {
                    $(AnyRule::$variant(rule) => rule.name(),)*
                }
            }

            fn rates(&self) -> LearningRates {
                match self {
                    $(AnyRule::$variant(rule) => rule.rates(),)*
                }
            }

            fn check_fits(&self, net: &Network) -> Result<()> {
                match self {
                    $(AnyRule::$variant(rule) => rule.check_fits(net),)*
                }
            }

            fn new_state(&self, net: &Network) -> AnyState {
                match self {
                    $(AnyRule::$variant(rule) => AnyState::$variant(rule.new_state(net)),)*
                }
            }

            fn accumulate(
                &self,
                net: &Network,
                trial: &Trial,
                start: &State,
                state: &mut AnyState,
                update: &mut WeightUpdate,
            ) -> Result<TrialOutcome> {
                match self {
                    $(AnyRule::$variant(rule) => {
                        // A state made for another rule is replaced (never in `train`).
                        if !matches!(state, AnyState::$variant(_)) {
                            *state = AnyState::$variant(rule.new_state(net));
                        }
                        let AnyState::$variant(inner) = state else {
                            unreachable!("replaced just above")
                        };
                        rule.accumulate(net, trial, start, inner, update)
                    })*
                }
            }

            fn prepare_batch(
                &self,
                net: &Network,
                trials: &[&Trial],
                starts: &[State],
                state: &mut AnyState,
            ) -> bool {
                match self {
                    $(AnyRule::$variant(rule) => {
                        if !matches!(state, AnyState::$variant(_)) {
                            *state = AnyState::$variant(rule.new_state(net));
                        }
                        let AnyState::$variant(inner) = state else {
                            unreachable!("replaced just above")
                        };
                        rule.prepare_batch(net, trials, starts, inner)
                    })*
                }
            }

            fn accumulate_prepared(
                &self,
                net: &Network,
                index: usize,
                trial: &Trial,
                start: &State,
                state: &mut AnyState,
                update: &mut WeightUpdate,
            ) -> Result<TrialOutcome> {
                match self {
                    $(AnyRule::$variant(rule) => {
                        if !matches!(state, AnyState::$variant(_)) {
                            *state = AnyState::$variant(rule.new_state(net));
                        }
                        let AnyState::$variant(inner) = state else {
                            unreachable!("replaced just above")
                        };
                        rule.accumulate_prepared(net, index, trial, start, inner, update)
                    })*
                }
            }

            fn memory(&self, state: &AnyState) -> RuleMemory {
                match (self, state) {
                    $((AnyRule::$variant(rule), AnyState::$variant(inner)) => rule.memory(inner),)*
                    // A state made for another rule (never in `train`) holds nothing of this one.
                    _ => RuleMemory::default(),
                }
            }

            fn restore_memory(&self, state: &mut AnyState, memory: &RuleMemory) -> Result<()> {
                match (self, state) {
                    $((AnyRule::$variant(rule), AnyState::$variant(inner)) => {
                        rule.restore_memory(inner, memory)
                    })*
                    _ => Err(crate::error::LearnError::CheckpointMismatch {
                        what: "the rule state was made for another rule",
                    }),
                }
            }

            fn run_online(
                &self,
                net: &mut Network,
                trial: &Trial,
                start: &State,
                state: &mut AnyState,
                constraints: &Constraints,
            ) -> Result<TrialOutcome> {
                match self {
                    $(AnyRule::$variant(rule) => {
                        if !matches!(state, AnyState::$variant(_)) {
                            *state = AnyState::$variant(rule.new_state(net));
                        }
                        let AnyState::$variant(inner) = state else {
                            unreachable!("replaced just above")
                        };
                        rule.run_online(net, trial, start, inner, constraints)
                    })*
                }
            }
        }
    };
}

any_rule! {
    Rflo(Rflo),
    LocalSymmetric(LocalSymmetric),
    Bptt(Bptt),
    Rtrl(Rtrl),
    NonlocalRandom(NonlocalRandom),
    Snap1(Snap1),
    Uoro(Uoro),
    KfRtrl(KfRtrl),
    Reinforce(Reinforce),
    Force(Force),
}

/// Serde for a [`RuleSpec`]'s `rates`: one number when the three rates are
/// equal, else the table `{ readout, recurrent, input }`; reads either.
mod rates_repr {
    use std::fmt;

    use serde::de::{self, MapAccess, Visitor};
    use serde::{Deserializer, Serialize, Serializer};

    use crate::update::LearningRates;

    const FIELDS: &[&str] = &["readout", "recurrent", "input"];

    pub(super) fn serialize<S: Serializer>(
        rates: &LearningRates,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        if rates.is_uniform() {
            serializer.serialize_f64(rates.readout)
        } else {
            rates.serialize(serializer)
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<LearningRates, D::Error> {
        deserializer.deserialize_any(RatesVisitor)
    }

    struct RatesVisitor;

    impl<'de> Visitor<'de> for RatesVisitor {
        type Value = LearningRates;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(
                "learning rates: one number (eta1 = eta2 = eta3) \
                 or a table { readout, recurrent, input }",
            )
        }

        fn visit_f64<E: de::Error>(self, eta: f64) -> Result<LearningRates, E> {
            Ok(LearningRates::uniform(eta))
        }

        fn visit_i64<E: de::Error>(self, eta: i64) -> Result<LearningRates, E> {
            Ok(LearningRates::uniform(eta as f64))
        }

        fn visit_u64<E: de::Error>(self, eta: u64) -> Result<LearningRates, E> {
            Ok(LearningRates::uniform(eta as f64))
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LearningRates, A::Error> {
            let mut values: [Option<f64>; 3] = [None; 3];
            while let Some(key) = map.next_key::<String>()? {
                let Some(i) = FIELDS.iter().position(|field| *field == key) else {
                    return Err(de::Error::unknown_field(&key, FIELDS));
                };
                if values[i].is_some() {
                    return Err(de::Error::duplicate_field(FIELDS[i]));
                }
                values[i] = Some(map.next_value()?);
            }
            let get = |i: usize| values[i].ok_or_else(|| de::Error::missing_field(FIELDS[i]));
            Ok(LearningRates {
                readout: get(0)?,
                recurrent: get(1)?,
                input: get(2)?,
            })
        }
    }
}
