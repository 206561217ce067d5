//! e-prop (Bellec et al., Nat. Commun. 2020) for these leaky rate units: a
//! name for rules the crate already has (docs/spec/MODEL.md §11).
//!
//! e-prop's eligibility trace is `dh_a(t)/dW_ab` with the recurrent input
//! `sum_k W_ak h_k(t-1)` held fixed, propagated by the unit's own internal
//! dynamics only. For `h_a(t) = (1-alpha) h_a(t-1) + alpha phi(u_a(t))` the
//! internal dynamics is the leak `1 - alpha`, so
//!
//! ```text
//! e_ab(t) = (1-alpha) e_ab(t-1) + alpha phi'(u_a(t)) h_b(t-1)      (x_b(t) for W_in)
//! dW_ab   = (eta2/T) sum_t L_a(t) e_ab(t),     L(t) = F e(t)   (the learning signal)
//! ```
//!
//! — exactly RFLO's trace `p_ab` (§5). With random feedback (`F = B`) e-prop
//! **is** [`Rflo`](crate::Rflo); with symmetric feedback (`F = W_out^T`) it
//! **is** [`LocalSymmetric`](crate::LocalSymmetric). The registry offers the
//! name (`name = "eprop"`, [`EpropFeedback`]) and builds those rules; there
//! is no second implementation. The identity is tested against the
//! definition (finite differences of one step with `h(t-1)` held fixed).

use serde::{Deserialize, Serialize};

/// e-prop's learning-signal feedback: which existing rule it is. Serialised
/// as `"random"` or `"symmetric"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpropFeedback {
    /// `L(t) = B e(t)`: RFLO.
    #[default]
    Random,
    /// `L(t) = W_out^T e(t)`: `LocalSymmetric`.
    Symmetric,
}
