"""numpy and JAX baselines against this project, measured in one sitting.

    pip install ./crates/rnn-py numpy "jax[cpu]"      # what this script needs (it installs nothing)
    python benches/baselines/run.py [--sizes 30,100,256,1024] [--repeats 7] [--skip-jax] [--skip-cargo]

1. Builds the criterion benchmark's workload in Python (the same network,
   `rflo.Network(N, 1, 1, seed=1)`, and the same trial: T = 200, a 10-step
   input pulse, a sine target, h(0) = 0).
2. Checks every baseline's update against the project's (`rflo.rules....update`)
   at N = 30 and refuses to time an implementation that disagrees by more
   than 1e-10 relative to the update's largest entry.
3. Times the baselines (numpy and XLA single-threaded, float64): medians and
   interquartile ranges over the repeats, per time step.
4. Runs the project's criterion benches for the same groups and sizes
   (`cargo bench -p rnn-bench --bench scaling`) and reads every sample.
5. Prints one table (µs per time step) and the ratios baseline / ours.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

# One thread for every library, as in the project's benches (one trial per thread).
for var in ["OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"]:
    os.environ[var] = "1"
os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import numpy as np  # noqa: E402

import rflo  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import numpy_rules  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
T = 200
ETA = 1e-4  # rnn_bench::ETA


def workload(n):
    net = rflo.Network(n, 1, 1, seed=1)
    x = (np.arange(T) < 10).astype(float)[:, None]
    y = np.sin(np.arange(T) / T * 2 * np.pi)[:, None]
    trial = rflo.Trial(x, y, h0=0.0)
    return net, trial, x, y


def baselines(skip_jax):
    """name -> (function of (net, x, y) giving (dW, dW_in, dW_out), the project's rule)."""
    out = {}

    def args(net, x, y, F):
        return (net.W, net.W_in, net.W_out, F, x, y, np.zeros(net.n_units), net.alpha, ETA)

    out["numpy RFLO traces"] = (
        lambda net, x, y: numpy_rules.rflo_traces(*args(net, x, y, net.B)),
        rflo.rules.RFLO(ETA, trial_end_form="traces"),
    )
    out["numpy RFLO fast"] = (
        lambda net, x, y: numpy_rules.rflo_fast(*args(net, x, y, net.B)),
        rflo.rules.RFLO(ETA),
    )
    out["numpy BPTT"] = (
        lambda net, x, y: numpy_rules.bptt(*args(net, x, y, net.W_out.T)),
        rflo.rules.BPTT(ETA),
    )
    if not skip_jax:
        import jax_rules

        out["JAX BPTT"] = (
            lambda net, x, y: jax_rules.bptt(net.W, net.W_in, net.W_out, x, y, np.zeros(net.n_units), net.alpha, ETA),
            rflo.rules.BPTT(ETA),
        )
    return out


def check(impls):
    net, trial, x, y = workload(30)
    for name, (fn, rule) in impls.items():
        ours = rule.update(net, trial)
        theirs = fn(net, x, y)
        for block, a, b in zip(["dW", "dW_in", "dW_out"], ours, theirs):
            scale = max(np.abs(a).max(), 1e-300)
            err = np.abs(a - b).max() / scale
            if not err <= 1e-10:
                sys.exit(f"{name}: {block} differs from the project's by {err:.3g} (relative); not timing it")
        print(f"checked {name}: equal to the project's update (to 1e-10)", file=sys.stderr)


def time_it(fn, repeats):
    fn()  # warm-up (and JAX's compilation)
    started = time.perf_counter()
    fn()
    once = time.perf_counter() - started
    calls = max(1, int(0.2 / max(once, 1e-9)))
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - started) / calls)
    return np.array(samples) / T * 1e6  # µs per step


OURS = {
    "ours: forward": "forward",
    "ours: RFLO online": "rflo_online",
    "ours: RFLO batched": "rflo_batched",
    "ours: RFLO traces": "rflo_traces",
    "ours: BPTT": "bptt",
}


def criterion(sizes, skip_cargo):
    groups = "|".join(OURS.values())
    sizes_re = "|".join(str(n) for n in sizes)
    if not skip_cargo:
        subprocess.run(
            ["cargo", "bench", "--locked", "-p", "rnn-bench", "--bench", "scaling", "--", f"^({groups})/({sizes_re})$"],
            cwd=REPO, check=True,
        )
    out = {}
    for label, group in OURS.items():
        for n in sizes:
            path = REPO / "target" / "criterion" / group / str(n) / "new" / "sample.json"
            if path.exists():
                s = json.loads(path.read_text())
                out[(label, n)] = np.array(s["times"]) / np.array(s["iters"]) / T / 1e3  # µs per step
    return out


def cell(samples):
    q1, m, q3 = np.percentile(samples, [25, 50, 75])
    return f"{m:.3g} [{q1:.3g}–{q3:.3g}]"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="30,100,256,1024")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--skip-jax", action="store_true")
    parser.add_argument("--skip-cargo", action="store_true", help="read the last criterion run instead")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    impls = baselines(args.skip_jax)
    check(impls)
    theirs = {}
    for n in sizes:
        net, _, x, y = workload(n)
        for name, (fn, _) in impls.items():
            theirs[(name, n)] = time_it(lambda: fn(net, x, y), args.repeats)
            print(f"timed {name} at N = {n}", file=sys.stderr)
    ours = criterion(sizes, args.skip_cargo)

    columns = list(impls) + list(OURS)
    results = {**theirs, **ours}
    print(f"\nµs per time step, median [interquartile range] (T = {T}, N_x = N_y = 1, one thread)\n")
    print("| N | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for n in sizes:
        print(f"| {n} | " + " | ".join(cell(results[(c, n)]) if (c, n) in results else "–" for c in columns) + " |")
    pairs = [
        ("numpy RFLO traces", "ours: RFLO traces"),
        ("numpy RFLO fast", "ours: RFLO batched"),
        ("numpy BPTT", "ours: BPTT"),
        ("JAX BPTT", "ours: BPTT"),
    ]
    print("\nspeed-up of ours (baseline median / our median)\n")
    print("| N | " + " | ".join(f"{a} / {b}" for a, b in pairs) + " |")
    print("|---|" + "---|" * len(pairs))
    for n in sizes:
        row = []
        for a, b in pairs:
            if (a, n) in results and (b, n) in results:
                row.append(f"{np.median(results[(a, n)]) / np.median(results[(b, n)]):.2f}×")
            else:
                row.append("–")
        print(f"| {n} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
