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
   (`cargo bench -p rnn-bench --bench scaling`), the batched-trials groups
   (K = 10 trials at fixed weights, batched and one at a time) and the
   streaming-read / matrix-vector pair at N = 1024, and reads every sample.
5. Prints one table (µs per time step), the ratios baseline / ours, and the
   performance bars of the project's issue #13, each with its measured
   ratio: median / median, with the range [q1 / q3, q3 / q1] of the
   interquartile ranges beside it.
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


# The batched-trials groups (rnn_bench::batch_rules) and their two ids.
BATCHED = {"batch_rflo": "RFLO batched form", "batch_bptt": "BPTT"}
BATCH_MODES = ["batched", "sequential"]
BATCH_K = 10  # rnn_bench::BATCH_K


def samples(path, per):
    """Every criterion sample of one bench, in µs per `per` (iterations' units)."""
    s = json.loads(path.read_text())
    return np.array(s["times"]) / np.array(s["iters"]) / per / 1e3


def criterion(sizes, skip_cargo):
    groups = "|".join(OURS.values())
    sizes_re = "|".join(str(n) for n in sizes)
    batch_re = "|".join(BATCHED)
    if not skip_cargo:
        subprocess.run(
            [
                "cargo", "bench", "--locked", "-p", "rnn-bench", "--bench", "scaling", "--",
                f"^(({groups})/({sizes_re})|({batch_re})/.*/({sizes_re})|stream/.*)$",
            ],
            cwd=REPO, check=True,
        )
    out = {}
    root = REPO / "target" / "criterion"
    for group in BATCHED:
        for mode in BATCH_MODES:
            for n in sizes:
                path = root / group / f"{mode}_K={BATCH_K}" / str(n) / "new" / "sample.json"
                if path.exists():
                    out[(f"{group}/{mode}", n)] = samples(path, BATCH_K * T)  # µs per step of one trial
    for name in ["read", "matvec"]:
        path = root / "stream" / name / "new" / "sample.json"
        if path.exists():
            out[(f"stream/{name}", 1024)] = samples(path, 1)  # µs per pass over W
    # K vectors per pass over packed W (criterion writes the id `matmat/K=10`
    # as the folder `matmat_K=10`): µs per vector.
    path = root / "stream" / f"matmat_K={BATCH_K}" / "new" / "sample.json"
    if path.exists():
        out[("stream/matmat", 1024)] = samples(path, BATCH_K)
    for label, group in OURS.items():
        for n in sizes:
            path = REPO / "target" / "criterion" / group / str(n) / "new" / "sample.json"
            if path.exists():
                out[(label, n)] = samples(path, T)  # µs per step
    return out


def ratio(results, slow, fast, n):
    """(median ratio, low, high) of `slow`'s time over `fast`'s at `n`, or None."""
    if (slow, n) not in results or (fast, n) not in results:
        return None
    a, b = results[(slow, n)], results[(fast, n)]
    qa, qb = np.percentile(a, [25, 50, 75]), np.percentile(b, [25, 50, 75])
    return qa[1] / qb[1], qa[0] / qb[2], qa[2] / qb[0]


# Issue #13's bars: (what, slower, faster, N, required ratio).
BARS = [
    ("RFLO online ≥ 50× numpy RFLO trace form", "numpy RFLO traces", "ours: RFLO online", 30, 50.0),
    ("RFLO online ≥ 5× JAX BPTT", "JAX BPTT", "ours: RFLO online", 30, 5.0),
    ("BPTT ≥ 2× JAX", "JAX BPTT", "ours: BPTT", 30, 2.0),
    ("BPTT ≥ 2× JAX", "JAX BPTT", "ours: BPTT", 100, 2.0),
    ("BPTT ≥ 1.3× JAX", "JAX BPTT", "ours: BPTT", 256, 1.3),
    ("BPTT ≥ parity with JAX", "JAX BPTT", "ours: BPTT", 1024, 1.0),
] + [
    (f"{label}: K = {BATCH_K} batched ≥ 3× sequential, per trial", f"{g}/sequential", f"{g}/batched", n, 3.0)
    for g, label in BATCHED.items()
    for n in [256, 1024]
] + [
    ("matvec ≥ 85 % of a streaming read of W (time ratio ≥ 0.85)", "stream/read", "stream/matvec", 1024, 0.85),
]


def batching_bound(results, n):
    """What batching can give (Amdahl), estimated from this sitting's medians
    (of different benches, so not a strict bound).
    A trial of the RFLO batched form is a forward pass plus work batching
    does not shrink (the backward filter and the (N×T)(T×N) product, whose
    N²T multiply-adds every trial needs). Batching makes the forward pass's
    product `matmat_speedup` times cheaper per vector (measured at N = 1024,
    `stream/matvec` over `stream/matmat` per vector), so even if all of the
    forward pass were that product, a trial takes at least
    `rflo - fwd + fwd / matmat_speedup`. For BPTT the backward pass's
    `W^T z` product batches too; taking it at the forward pass's cost (an
    estimate), `bptt - 2 fwd + 2 fwd / matmat_speedup` is left."""
    med = lambda k, m=n: np.median(results[(k, m)]) if (k, m) in results else None
    fwd, rflo, bptt = med("ours: forward"), med("ours: RFLO batched"), med("ours: BPTT")
    mv, mm = med("stream/matvec", 1024), med("stream/matmat", 1024)
    if not (fwd and mv and mm):
        return ""
    speedup = mv / mm
    out = [f"matmat is {speedup:.2f}× matvec per vector (N = 1024)"]
    if rflo and rflo > fwd:
        floor = rflo - fwd + fwd / speedup
        out.append(f"RFLO batched form ≈ {rflo / floor:.2f}× ({rflo:.3g} / ({rflo:.3g} − {fwd:.3g} + {fwd:.3g} / {speedup:.2f}))")
    if bptt and bptt > 2 * fwd:
        floor = bptt - 2 * fwd + 2 * fwd / speedup
        out.append(f"BPTT ≈ {bptt / floor:.2f}× (estimate: {bptt:.3g} / ({bptt:.3g} − 2 × {fwd:.3g} + 2 × {fwd:.3g} / {speedup:.2f}))")
    return "; ".join(out)


def bars(results):
    print("\nissue #13's bars: measured ratio median [q1/q3 – q3/q1]\n")
    print("| bar | N | required | measured | met |")
    print("|---|---|---|---|---|")
    for what, slow, fast, n, need in BARS:
        r = ratio(results, slow, fast, n)
        if r is None:
            print(f"| {what} | {n} | {need:g} | not measured | – |")
            continue
        met = "yes" if r[0] >= need else "no"
        print(f"| {what} | {n} | {need:g} | {r[0]:.2f} [{r[1]:.2f}–{r[2]:.2f}] | {met} |")
    print("\nestimates of the batched speed-up per trial (Amdahl, from this sitting's medians of different benches, µs per step):\n")
    for n in [256, 1024]:
        bound = batching_bound(results, n)
        if bound:
            print(f"- N = {n}: {bound}")


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
    print("\nbatched trials (K = 10 at fixed weights), µs per time step of one trial\n")
    print("| N | " + " | ".join(f"{label}: {mode}" for label in BATCHED.values() for mode in BATCH_MODES) + " |")
    print("|---|" + "---|" * (len(BATCHED) * len(BATCH_MODES)))
    for n in sizes:
        cells = [
            cell(results[(f"{g}/{m}", n)]) if (f"{g}/{m}", n) in results else "–" for g in BATCHED for m in BATCH_MODES
        ]
        print(f"| {n} | " + " | ".join(cells) + " |")
    if ("stream/read", 1024) in results:
        read = np.median(results[("stream/read", 1024)])
        print(f"\nstreaming read of W (N = 1024, 8 MiB): {cell(results[('stream/read', 1024)])} µs, "
              f"{8 * 1024 * 1024 / read / 1e3:.1f} GB/s; matvec: {cell(results.get(('stream/matvec', 1024), [np.nan]))} µs; "
              f"matmat (K = {BATCH_K}, packed W), per vector: {cell(results.get(('stream/matmat', 1024), [np.nan]))} µs")
    bars(results)


if __name__ == "__main__":
    main()
