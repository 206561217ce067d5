"""What Python costs: `rflo.train` against the same training in Rust, and the
per-trial cost of a task written in Python. Not a test: a measurement, run
by hand on an otherwise idle machine (numbers go to the README).

    pip install ./crates/rnn-py            # release build of the extension
    python crates/rnn-py/bench/overhead.py [--trials 2000] [--repeats 9]

Runs, in one sitting: the Rust-native baseline (`cargo run --release -p
rnn-py --example native_train`), `rflo.train` on the built-in periodic task,
and `rflo.train` on a Python callable returning the same trial, interleaved;
then two seeds trained one after the other against two threads of a
`ThreadPoolExecutor` (the GIL is released while Rust trains). Prints medians
with the interquartile range of the repeats.
"""

import argparse
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

import rflo

REPO = Path(__file__).resolve().parents[3]


def summary(seconds):
    q1, median, q3 = np.percentile(seconds, [25, 50, 75])
    return median, q1, q3


def time_python(trials, task):
    net = rflo.Network(30, 0, 1, seed=1)
    started = time.perf_counter()
    rflo.train(net, rflo.rules.RFLO(0.03), task, trials=trials, progress=False)
    return time.perf_counter() - started


def time_native(trials):
    out = subprocess.run(
        ["cargo", "run", "--release", "--quiet", "-p", "rnn-py", "--example", "native_train", "--",
         str(trials), "1"],
        cwd=REPO, check=True, capture_output=True, text=True,
    ).stdout
    return float(out.split()[0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()

    trial = rflo.tasks.Periodic(period=200).trials(1)[0]
    native, builtin, callable_task = [], [], []
    time_native(10)  # build once, outside the measurement
    # Interleaved, so that a change in the machine's load affects all three alike.
    for _ in range(args.repeats):
        native.append(time_native(args.trials))
        builtin.append(time_python(args.trials, rflo.tasks.Periodic(period=200)))
        callable_task.append(time_python(args.trials, lambda: trial))

    n, b, c = summary(native), summary(builtin), summary(callable_task)
    print(f"N = 30, periodic task (T = 200), RFLO per-trial, {args.trials} trials, {args.repeats} repeats;")
    print("wall time per run, median [interquartile range]:")
    print(f"  Rust native                      {n[0]*1e3:8.1f} ms [{n[1]*1e3:.1f}, {n[2]*1e3:.1f}]")
    print(f"  rflo.train, built-in task        {b[0]*1e3:8.1f} ms [{b[1]*1e3:.1f}, {b[2]*1e3:.1f}]"
          f"   ratio to native {b[0]/n[0]:.3f}")
    print(f"  rflo.train, Python callable task {c[0]*1e3:8.1f} ms [{c[1]*1e3:.1f}, {c[2]*1e3:.1f}]"
          f"   ratio to native {c[0]/n[0]:.3f}")
    per_trial = (c[0] - b[0]) / args.trials * 1e6
    print(f"  per-trial cost of the Python task: {per_trial:.1f} us "
          f"({per_trial / (b[0] / args.trials * 1e6) * 100:.0f}% of a {b[0] / args.trials * 1e6:.0f} us trial)")


    def two_seeds(pool):
        started = time.perf_counter()
        list(pool.map(lambda seed: time_python(args.trials, rflo.tasks.Periodic(period=200)), [0, 1]))
        return time.perf_counter() - started

    sequential, threaded = [], []
    with ThreadPoolExecutor(max_workers=1) as one, ThreadPoolExecutor(max_workers=2) as two:
        for _ in range(max(3, args.repeats // 2)):
            sequential.append(two_seeds(one))
            threaded.append(two_seeds(two))
    s1, s2 = summary(sequential), summary(threaded)
    print(f"two seeds, 1 thread  {s1[0]*1e3:8.1f} ms [{s1[1]*1e3:.1f}, {s1[2]*1e3:.1f}]")
    print(f"two seeds, 2 threads {s2[0]*1e3:8.1f} ms [{s2[1]*1e3:.1f}, {s2[2]*1e3:.1f}]"
          f"   speed-up {s1[0]/s2[0]:.2f}x")


if __name__ == "__main__":
    main()
