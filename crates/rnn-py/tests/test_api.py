"""Round trips, determinism, tasks written in Python, and errors."""

import copy
import itertools
import pickle
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import rflo
from conftest import make_trial

REPO = Path(__file__).resolve().parents[3]


def test_weights_in_and_out_are_bit_identical(tmp_path):
    rng = np.random.default_rng(0)
    W, W_in, W_out, B = rng.normal(size=(6, 6)), rng.normal(size=(6, 2)), rng.normal(size=(1, 6)), rng.normal(size=(6, 1))
    net = rflo.Network.from_weights(W, W_in, W_out, B, tau=3.0)
    for got, want in [(net.W, W), (net.W_in, W_in), (net.W_out, W_out), (net.B, B)]:
        assert got.dtype == np.float64 and np.array_equal(got, want)
    net.save(tmp_path / "net.bin")
    assert rflo.Network.load(tmp_path / "net.bin") == net
    net.export_npy(tmp_path / "npy")
    assert np.array_equal(np.load(tmp_path / "npy" / "W.npy"), W)
    assert rflo.Network.from_npy(tmp_path / "npy") == net
    assert pickle.loads(pickle.dumps(net)) == net
    assert copy.deepcopy(net) == net
    # A copy out is a copy: writing to it leaves the network alone.
    w = net.W
    w[0, 0] += 1.0
    assert np.array_equal(net.W, W)


def test_float32_and_strided_arrays_are_converted():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(5, 10))[:, ::2]  # strided view
    net = rflo.Network.from_weights(W.astype(np.float32), np.zeros((5, 0)), np.ones((1, 5)), np.ones((5, 1)))
    assert np.array_equal(net.W, W.astype(np.float32).astype(np.float64))
    trial = rflo.Trial(None, np.sin(np.arange(10.0)).astype(np.float32).tolist())
    assert trial.y_target.shape == (10, 1) and trial.x.shape == (10, 0)


def test_same_seed_same_arrays_and_thread_count_does_not_matter():
    def one(seed):
        net = rflo.Network(20, 0, 1, seed=seed)
        h = rflo.train(net, rflo.rules.RFLO(0.03), rflo.tasks.Periodic(period=40), trials=50, seed=seed, progress=False)
        return net.W, h.loss

    sequential = [one(s) for s in [1, 2, 1]]
    assert np.array_equal(sequential[0][0], sequential[2][0])
    assert np.array_equal(sequential[0][1], sequential[2][1])
    assert not np.array_equal(sequential[0][0], sequential[1][0])
    with ThreadPoolExecutor(max_workers=2) as pool:
        threaded = list(pool.map(one, [1, 2, 1]))
    for (w1, l1), (w2, l2) in zip(sequential, threaded):
        assert np.array_equal(w1, w2) and np.array_equal(l1, l2)


def test_python_objects_and_run_spec_give_the_same_run():
    """`rflo.train` on objects equals the engine's run of the same description."""
    spec = {
        "seed": 0,
        "network": {"n_units": 16},
        "task": {"name": "periodic", "period": 30},
        "rule": {"name": "rflo", "rates": 0.03},
        "training": {"n_trials": 40, "seed": 5},
    }
    result = rflo.run(spec)
    assert result.completed and result.final_loss < result.initial_loss
    # Re-running is deterministic and bit-identical.
    again = rflo.run(spec)
    assert again.key == result.key and np.array_equal(again.history.loss, result.history.loss)
    assert again.network == result.network


def test_python_grid_run_equals_the_rust_sweep_byte_for_byte(tmp_path):
    """The same grid file through `rflo.run` and through `cargo xtask sweep run`."""
    if shutil.which("cargo") is None:
        pytest.skip("cargo is not installed")
    grid = """
[[grid]]
name = "g"
[grid.base]
network = { n_units = 12 }
task = { name = "periodic", period = 25 }
rule = { name = "rflo", rates = 0.03 }
training = { n_trials = 30 }
[[grid.axis]]
"rule.rates" = [0.01, 0.1]
[[grid.axis]]
seed = [0, 1]
"""
    path = tmp_path / "grid.toml"
    path.write_text(grid)
    out = tmp_path / "sweep"
    subprocess.run(
        ["cargo", "xtask", "sweep", "run", str(path), "--out", str(out), "--threads", "1"],
        cwd=REPO, check=True, capture_output=True,
    )
    rust_csv = (out / "shard-1-of-1.csv").read_text()
    result = rflo.run(grid, threads=2)
    assert result.table_csv == rust_csv
    assert len(result) == 4 and {r.coords["rule.rates"] for r in result} == {0.01, 0.1}


def test_run_accepts_a_store_and_reuses_it(tmp_path):
    spec = 'seed = 2\nnetwork = { n_units = 10 }\ntask = { name = "periodic", period = 20 }\nrule = { name = "bptt", rates = 0.01 }\ntraining = { n_trials = 10 }\n'
    first = rflo.run(spec, store=tmp_path)
    assert any((tmp_path / "runs").iterdir())
    second = rflo.run(spec, store=tmp_path)
    assert np.array_equal(first.history.loss, second.history.loss)


def sine_trial(rng):
    """A Python task: a sine of period 25 steps, random phase, from the given generator."""
    t = np.arange(50)
    phase = rng.uniform(0, 2 * np.pi)
    x = np.stack([np.sin(phase) * np.ones(50), np.cos(phase) * np.ones(50)], axis=1) * (t[:, None] < 5)
    return rflo.Trial(x, 0.5 * np.sin(2 * np.pi * t / 25 + phase), h0=0.0)


PERIODIC_TARGET = rflo.tasks.Periodic(period=200).trials(1)[0].y_target


def noisy_periodic_trial(rng):
    """A Python task: the paper's periodic target plus fresh target noise each trial."""
    return rflo.Trial(None, PERIODIC_TARGET + 0.01 * rng.normal(size=PERIODIC_TARGET.shape), h0=0.1)


def test_a_python_task_trains():
    """The loss falls at least tenfold (the built-in periodic task: ~40x in 2,000 trials)."""
    net = rflo.Network(30, 0, 1, seed=1)
    history = rflo.train(net, rflo.rules.RFLO(0.03), noisy_periodic_trial, trials=1500, seed=1, progress=False)
    first, last = history.loss[:20].mean(), history.loss[-20:].mean()
    assert last < 0.1 * first, (first, last)


def test_python_task_forms_are_equivalent():
    rng = np.random.default_rng(2)
    trials = [make_trial(rng, n_x=1, n_y=1, masked=False) for _ in range(3)]

    def trained(task):
        net = rflo.Network(8, 1, 1, seed=7)
        rflo.train(net, rflo.rules.RFLO(0.01), task, trials=7, progress=False)
        return net.W

    as_list = trained(trials)
    as_iter = trained(itertools.cycle(trials))
    as_tuples = trained([(t.x, t.y_target, None, 0.1) for t in trials])
    counter = itertools.count()
    as_callable = trained(lambda: trials[next(counter) % 3])
    assert np.array_equal(as_list, as_iter) and np.array_equal(as_list, as_tuples)
    assert np.array_equal(as_list, as_callable)


def test_the_same_seed_gives_a_python_task_the_same_trials():
    def run(seed):
        net = rflo.Network(10, 2, 1, seed=0)
        return rflo.train(net, rflo.rules.RFLO(0.01), sine_trial, trials=5, seed=seed, progress=False).loss

    assert np.array_equal(run(3), run(3)) and not np.array_equal(run(3), run(4))


def test_an_exhausted_iterator_says_so():
    trials = iter([make_trial(np.random.default_rng(0), n_x=1, n_y=1)] * 2)
    with pytest.raises(ValueError, match="ran out of trials after 2"):
        rflo.train(rflo.Network(5, 1, 1, seed=0), rflo.rules.RFLO(0.01), trials, trials=3, progress=False)


def test_a_failing_python_task_raises_its_own_exception():
    def broken(rng):
        raise ZeroDivisionError("my task broke")

    with pytest.raises(ZeroDivisionError, match="my task broke"):
        rflo.train(rflo.Network(5, 0, 1, seed=0), rflo.rules.RFLO(0.01), broken, trials=3, progress=False)


def test_ctrl_c_stops_cleanly_with_the_partial_history():
    """A KeyboardInterrupt at trial 5 returns 5 trials, and the network equals a 5-trial run's."""
    rng = np.random.default_rng(0)
    trials = [make_trial(rng, n_x=1, n_y=1) for _ in range(10)]
    calls = itertools.count()

    def interrupting():
        k = next(calls)
        if k == 5:
            raise KeyboardInterrupt
        return trials[k]

    net = rflo.Network(8, 1, 1, seed=1)
    with pytest.warns(rflo.TrainingInterrupted):
        history = rflo.train(net, rflo.rules.RFLO(0.01), interrupting, trials=10, schedule={"every_k": 3}, progress=False)
    assert history.interrupted and len(history) == 5
    reference = rflo.Network(8, 1, 1, seed=1)
    rflo.train(reference, rflo.rules.RFLO(0.01), trials[:5], trials=5, schedule={"every_k": 3}, progress=False)
    assert net == reference


def test_divergence_raises_with_trial_and_history():
    net = rflo.Network(20, 0, 1, seed=0)
    with pytest.raises(rflo.DivergedError) as caught:
        rflo.train(net, rflo.rules.BPTT(1e4), rflo.tasks.Periodic(period=40), trials=100, progress=False)
    error = caught.value
    assert len(error.history.loss) == error.trial + 1
    assert "trial" in str(error)


def test_progress_line_without_tqdm(capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    rflo.train(rflo.Network(5, 0, 1, seed=0), rflo.rules.RFLO(0.01), rflo.tasks.Periodic(period=10), trials=20)
    assert "trial 20/20" in capsys.readouterr().err


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: rflo.Network(5, 0, 1, seed=0, tau=0.0), ValueError, "tau"),
        (lambda: rflo.Network(5, 0, 1, seed=0, tau=-1.0), ValueError, "tau"),
        (lambda: rflo.Network(0, 0, 1, seed=0), ValueError, "n_units"),
        (lambda: rflo.Network(5, 0, 1, seed=0, readout_init="Nope"), ValueError, "readout_init"),
        (lambda: rflo.Network.from_weights(np.ones((3, 4)), np.zeros((3, 0)), np.ones((1, 3))), ValueError, "W"),
        (lambda: rflo.Network.from_weights(np.full((3, 3), np.nan), np.zeros((3, 0)), np.ones((1, 3))), ValueError, "non-finite"),
        (lambda: rflo.Network.from_weights(np.ones(3), np.zeros((3, 0)), np.ones((1, 3))), ValueError, "2-D"),
        (lambda: rflo.Network.from_weights(np.ones((3, 3), dtype=complex), np.zeros((3, 0)), np.ones((1, 3))), TypeError, "real numbers"),
        (lambda: rflo.Network.from_weights([["a"]], np.zeros((1, 0)), np.ones((1, 1))), TypeError, "real numbers"),
        (lambda: rflo.Trial(None, np.zeros((0, 1))), ValueError, "empty trial"),
        (lambda: rflo.Trial(np.zeros((4, 1)), np.zeros((5, 1))), ValueError, "time steps"),
        (lambda: rflo.Trial(np.array([[np.inf]]), np.zeros((1, 1))), ValueError, "non-finite"),
        (lambda: rflo.Trial(None, np.zeros(3), mask=[1, 0.5, 1]), ValueError, "mask"),
        (lambda: rflo.Trial(None, np.zeros(3), h0="carry"), ValueError, "carry_over"),
        (lambda: rflo.rules.RFLO(-0.1), ValueError, "must be finite and >= 0"),
        (lambda: rflo.rules.RFLO(0.1, projeciton="readout"), ValueError, "projeciton"),
        (lambda: rflo.rules.RFLO(), TypeError, "required"),
        (lambda: rflo.tasks.Periodic(period=0), ValueError, "period"),
        (lambda: rflo.tasks.Periodic(perod=10), ValueError, "perod"),
        (lambda: rflo.run({"seed": 1, "task": {"name": "nope"}}), ValueError, "nope"),
        (lambda: rflo.run("not = [toml"), ValueError, "run spec"),
    ],
)
def test_bad_input_raises_a_clear_error(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_bad_training_input_raises(rng):
    net = rflo.Network(5, 2, 2, seed=0)
    wrong_size = make_trial(rng, n_x=3)
    with pytest.raises(ValueError, match="shape"):
        net.run(wrong_size)
    with pytest.raises(ValueError, match="CarryOver"):
        net.run(rflo.Trial(np.zeros((3, 2)), np.zeros((3, 2)), h0="carry_over"))
    with pytest.raises(ValueError, match="online"):
        rflo.train(net, rflo.rules.BPTT(0.1), make_trial(rng), trials=2, schedule="online", progress=False)
    with pytest.raises(ValueError, match="n_trials"):
        rflo.train(net, rflo.rules.RFLO(0.1), make_trial(rng), trials=0, progress=False)
    with pytest.raises(TypeError, match="Trial"):
        rflo.train(net, rflo.rules.RFLO(0.1), [1, 2], trials=2, progress=False)
    with pytest.raises(OSError):
        rflo.Network.load("/nonexistent/net.bin")


def test_carry_over_continues_from_the_previous_trajectory(rng):
    net = rflo.Network(5, 2, 2, seed=0)
    first = net.run(make_trial(rng, masked=False))
    follow = make_trial(rng, masked=False, h0="carry_over")
    continued = net.run(follow, previous=first)
    np.testing.assert_array_equal(continued.h0, first.h[-1])


def test_neurogym_and_psychrnn_batches_become_trials():
    T, batch, n_in = 15, 4, 3
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(T, batch, n_in)).astype(np.float32)  # neurogym Dataset: (T, batch, N_x)
    labels = rng.integers(0, 3, size=(T, batch))  # (T, batch) class labels, 0 = fixation
    trials = rflo.tasks.from_neurogym(inputs, labels)
    assert len(trials) == batch and len(trials[0]) == T
    assert trials[1].n_outputs == 3
    np.testing.assert_array_equal(trials[1].y_target.argmax(axis=1), labels[:, 1])
    np.testing.assert_array_equal(trials[2].x, inputs[:, 2, :].astype(np.float64))
    x, y = rng.normal(size=(batch, T, n_in)), rng.normal(size=(batch, T, 2))
    mask = np.ones((batch, T, 2))
    mask[:, :3, :] = 0
    trials = rflo.tasks.from_psychrnn(x, y, mask)
    np.testing.assert_array_equal(trials[0].mask, mask[0, :, 0])
    mask[0, 5, 1] = 0
    with pytest.raises(ValueError, match="differs between outputs"):
        rflo.tasks.from_psychrnn(x, y, mask)
    net = rflo.Network(10, n_in, 2, seed=0)
    history = rflo.train(net, rflo.rules.RFLO(0.01), trials[1:], trials=6, progress=False)
    assert len(history) == 6


def test_the_stub_lists_every_registered_rule_and_task():
    stub = (Path(rflo.__file__).parent / "__init__.pyi").read_text() + (Path(rflo.__file__).parent / "rules.pyi").read_text() + (Path(rflo.__file__).parent / "tasks.pyi").read_text()
    for _, label in rflo.rules.registry():
        assert f"def {rflo.rules.python_name(label)}(" in stub, label
    for name in rflo.tasks.registry():
        assert f"def {''.join(p.capitalize() for p in name.split('_'))}(" in stub, name


def test_the_readme_python_example_runs_as_written():
    """The first Python block of the repository's README, executed verbatim."""
    readme = (REPO / "README.md").read_text()
    block = readme.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(block.strip().splitlines()) <= 10
    namespace = {}
    exec(compile(block, "README.md", "exec"), namespace)
    history = namespace["history"]
    assert history.loss[-1] < 0.1 * history.loss[0]


def test_a_real_ctrl_c_during_rust_training_returns_the_partial_history():
    """SIGINT's Python-level effect (`_thread.interrupt_main`) while Rust trains a
    built-in task: the run stops within a chunk and keeps what it did."""
    import _thread
    import signal
    import threading

    # A process started in the background by a non-interactive shell inherits
    # SIGINT ignored, and then `interrupt_main` does nothing (the run would
    # train all 10**7 trials): Python's own handler for the test's duration.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    net = rflo.Network(30, 0, 1, seed=0)
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.warns(rflo.TrainingInterrupted):
            history = rflo.train(net, rflo.rules.RFLO(0.01), rflo.tasks.Periodic(period=200), trials=10**7, progress=False)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert history.interrupted and 0 < len(history) < 10**7
    assert np.all(np.isfinite(history.loss))


def test_constraints_schedules_and_gradient_alignment_from_python(rng):
    trial = make_trial(rng, n_x=2, n_y=1, masked=False)
    net = rflo.Network(10, 2, 1, seed=0)
    W_out = net.W_out
    history = rflo.train(
        net, rflo.rules.RFLO(0.05), trial, trials=12, schedule={"every_k": 4},
        constraints={"frozen": {"readout": True}, "dale": {"excitatory_fraction": 0.8}},
        gradient_alignment_every=5, progress=False,
    )
    assert np.array_equal(net.W_out, W_out)  # frozen, bit for bit
    signs = np.where(np.arange(10) < 8, 1.0, -1.0)
    assert np.all(net.W * signs[None, :] >= 0)  # Dale: column j carries unit j's sign
    assert list(history.gradient_alignment_trial) == [0, 5, 10]
    assert np.all(np.abs(history.gradient_alignment) <= 1)
    online = rflo.Network(10, 2, 1, seed=0)
    rflo.train(online, rflo.rules.RTRL(0.05), trial, trials=3, schedule="online", progress=False)
    assert not np.array_equal(online.W, rflo.Network(10, 2, 1, seed=0).W)


def test_task_trials_are_the_trials_training_sees():
    """`task.trials(n, seed=s)` on a fresh task = the first n trials of `train(..., seed=s)`."""
    shown = rflo.tasks.ReadySetGo().trials(4, seed=9)
    net_a, net_b = rflo.Network(12, 1, 1, seed=0), rflo.Network(12, 1, 1, seed=0)
    rflo.train(net_a, rflo.rules.BPTT(0.01), rflo.tasks.ReadySetGo(), trials=4, seed=9, progress=False)
    rflo.train(net_b, rflo.rules.BPTT(0.01), shown, trials=4, progress=False)
    assert net_a == net_b
