"""Fig 2c from Python: the readout aligns with the random feedback during RFLO
training (docs/spec/FIGURES.md, panel 2c).

    python crates/rnn-py/examples/fig2c.py [--trials 2000] [--networks 5]

Prints the readout-feedback alignment at the start and end of training for
each network; draws the curves with matplotlib if it is installed
(fig2c.png beside the current folder).
"""

import argparse

import numpy as np

import rflo


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--networks", type=int, default=5)
    parser.add_argument("--out", default="fig2c.png")
    args = parser.parse_args()

    curves = []
    for seed in range(args.networks):
        net = rflo.Network(30, 0, 1, seed=seed)
        history = rflo.train(
            net, rflo.rules.RFLO(0.03), rflo.tasks.Periodic(period=200),
            trials=args.trials, seed=seed, progress=False,
        )
        a = history.feedback_alignment
        print(f"network {seed}: alignment {a[0]:+.3f} -> {a[-1]:+.3f}, "
              f"loss {history.loss[0]:.4f} -> {history.loss[-1]:.4f}")
        curves.append(a)
    curves = np.array(curves)
    print(f"median final alignment over {args.networks} networks: {np.median(curves[:, -1]):.3f}")

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot")
        return
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for curve in curves:
        ax.plot(curve, color="tab:blue", alpha=0.4, lw=1)
    ax.plot(np.median(curves, axis=0), color="tab:blue", lw=2, label="median")
    ax.set_xlabel("trial")
    ax.set_ylabel("readout-feedback alignment")
    ax.set_ylim(-1, 1)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
