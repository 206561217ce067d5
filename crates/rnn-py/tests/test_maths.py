"""The Python API against mathematics: the forward pass against the
equations of docs/spec/MODEL.md §1.3 in numpy, BPTT's update against central
finite differences of the loss, BPTT = RTRL, and the alignments."""

import numpy as np
import pytest

import rflo
from conftest import make_trial


def numpy_forward(W, W_in, W_out, x, h0, alpha):
    """u(t) = W h(t-1) + W_in x(t); h(t) = (1-alpha) h(t-1) + alpha tanh(u(t)); y = W_out h."""
    h = h0.copy()
    hs, us, ys = [], [], []
    for t in range(x.shape[0]):
        u = W @ h + W_in @ x[t]
        h = (1 - alpha) * h + alpha * np.tanh(u)
        hs.append(h)
        us.append(u)
        ys.append(W_out @ h)
    return np.array(hs), np.array(us), np.array(ys)


def test_forward_pass_is_the_spec_equations(rng, tau):
    net = rflo.Network(7, 2, 2, seed=3, tau=tau)
    trial = make_trial(rng)
    traj = net.run(trial)
    h, u, y = numpy_forward(net.W, net.W_in, net.W_out, trial.x, np.full(7, 0.1), 1 / tau)
    np.testing.assert_allclose(traj.h, h, rtol=0, atol=1e-13)
    np.testing.assert_allclose(traj.u, u, rtol=0, atol=1e-13)
    np.testing.assert_allclose(traj.y, y, rtol=0, atol=1e-13)
    e = trial.mask[:, None] * (trial.y_target - y)
    np.testing.assert_allclose(traj.error, e, rtol=0, atol=1e-13)
    assert traj.loss == pytest.approx((e**2).sum() / (2 * len(trial)), rel=1e-13)
    np.testing.assert_array_equal(traj.h0, np.full(7, 0.1))


def loss_with(net, trial, which, i, j, delta):
    weights = {"W": net.W, "W_in": net.W_in, "W_out": net.W_out}
    weights[which][i, j] += delta
    moved = rflo.Network.from_weights(
        weights["W"], weights["W_in"], weights["W_out"], net.B, tau=1 / net.alpha
    )
    return moved.run(trial).loss


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_bptt_update_is_minus_the_loss_gradient(rng, tau, masked):
    """dTheta = -eta dL/dTheta (gradient descent, MODEL.md §4), eta = 1."""
    net = rflo.Network(6, 2, 2, seed=5, tau=tau)
    trial = make_trial(rng, masked=masked)
    dW, dW_in, dW_out = rflo.rules.BPTT(1.0).update(net, trial)
    eps = 1e-6
    worst = 0.0
    for which, update in [("W", dW), ("W_in", dW_in), ("W_out", dW_out)]:
        for i in range(update.shape[0]):
            for j in range(update.shape[1]):
                fd = (loss_with(net, trial, which, i, j, eps) - loss_with(net, trial, which, i, j, -eps)) / (2 * eps)
                worst = max(worst, abs(-fd - update[i, j]))
    scale = max(np.abs(dW).max(), np.abs(dW_out).max())
    assert worst < 1e-7 * max(scale, 1e-3), (worst, scale)


def test_a_planted_sign_error_fails_the_finite_difference_check(rng):
    """The check above can fail: the ascent direction is far from -grad."""
    net = rflo.Network(6, 2, 2, seed=5, tau=2.0)
    trial = make_trial(rng)
    dW, _, _ = rflo.rules.BPTT(1.0).update(net, trial)
    eps = 1e-6
    fd = (loss_with(net, trial, "W", 0, 1, eps) - loss_with(net, trial, "W", 0, 1, -eps)) / (2 * eps)
    assert abs(fd - dW[0, 1]) > 1e-4  # +grad instead of -grad is caught


def test_bptt_equals_rtrl(rng, tau):
    net = rflo.Network(6, 2, 2, seed=9, tau=tau)
    trial = make_trial(rng)
    for a, b in zip(rflo.rules.BPTT(0.5).update(net, trial), rflo.rules.RTRL(0.5).update(net, trial)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-14)


def test_learning_rates_scale_each_block(rng):
    net = rflo.Network(5, 2, 2, seed=1)
    trial = make_trial(rng)
    unit = rflo.rules.RFLO(1.0).update(net, trial)
    rates = {"readout": 0.5, "recurrent": 0.25, "input": 2.0}
    scaled = rflo.rules.RFLO(rates=rates).update(net, trial)
    for u, s, k in zip(unit, scaled, [0.25, 2.0, 0.5]):
        np.testing.assert_allclose(s, k * u, rtol=1e-15, atol=0)


def test_alignments(rng):
    net = rflo.Network(8, 2, 1, seed=2)
    w, b = net.W_out.ravel(), net.B.ravel()
    assert rflo.feedback_alignment(net) == pytest.approx(w @ b / np.linalg.norm(w) / np.linalg.norm(b), rel=1e-12)
    trial = make_trial(rng, n_y=1)
    assert rflo.rules.BPTT(0.1).gradient_alignment(net, trial) == pytest.approx(1.0, abs=1e-12)
    dW_rflo = rflo.rules.RFLO(1.0).update(net, trial)[0]
    dW_exact = rflo.rules.BPTT(1.0).update(net, trial)[0]
    cosine = (dW_rflo * dW_exact).sum() / np.linalg.norm(dW_rflo) / np.linalg.norm(dW_exact)
    assert rflo.rules.RFLO(0.1).gradient_alignment(net, trial) == pytest.approx(cosine, abs=1e-12)


def test_every_registered_rule_runs_from_python(rng):
    net = rflo.Network(5, 2, 2, seed=4)
    trial = make_trial(rng)
    names = [name for name, _ in rflo.rules.registry()]
    assert {"rflo", "bptt", "rtrl", "local_symmetric", "nonlocal_random"} <= set(names)
    for name, label in rflo.rules.registry():
        rule = getattr(rflo.rules, rflo.rules.python_name(label))(0.01)
        assert rule.name == name and rule.label == label
        for block in rule.update(net, trial):
            assert np.all(np.isfinite(block))


def test_history_reports_the_exact_gradient_norm(rng):
    """history.exact_gradient_norm[0] (measured at trial 0, before any update)
    is the Frobenius norm of dL/dW by central finite differences."""
    trial = make_trial(rng, n_x=2, n_y=2, masked=False)
    net = rflo.Network(6, 2, 2, seed=5, tau=2.0)
    eps, fd = 1e-6, np.zeros((6, 6))
    for i in range(6):
        for j in range(6):
            fd[i, j] = (loss_with(net, trial, "W", i, j, eps) - loss_with(net, trial, "W", i, j, -eps)) / (2 * eps)
    history = rflo.train(net, rflo.rules.RFLO(0.05), trial, trials=4, gradient_alignment_every=2, progress=False)
    assert list(history.gradient_alignment_trial) == [0, 2]
    assert history.exact_gradient_norm.shape == (2,)
    assert history.exact_gradient_norm[0] == pytest.approx(np.linalg.norm(fd), rel=1e-7)


def test_the_periodic_task_draws_a_random_h0_once_per_network():
    """start = {"uniform": ...}: h(0) ~ U[-1, 1)^N drawn from the task's seed, the same every trial."""
    start = {"uniform": {"n_units": 400, "half_width": 1.0}}
    task = rflo.tasks.Periodic(period=20, start=start, seed=3)
    first, second = task.trials(2, seed=0)
    h0 = np.asarray(first.h0)
    assert h0.shape == (400,) and np.all((-1 <= h0) & (h0 < 1))
    np.testing.assert_array_equal(h0, second.h0)
    # Mean 0, variance 1/3: five standard errors (0.029 and 0.015 at n = 400).
    assert abs(h0.mean()) < 5 * np.sqrt(1 / 3 / 400)
    assert abs(h0.var() - 1 / 3) < 5 * np.sqrt(4 / 45 / 400)
    other = rflo.tasks.Periodic(period=20, start=start, seed=4).trials(1)[0]
    assert not np.array_equal(h0, other.h0)
    assert rflo.tasks.Periodic(period=20, start=0.25).trials(1)[0].h0 == 0.25
    assert rflo.tasks.Periodic(period=20, initial_value=0.25).trials(1)[0].h0 == 0.25
