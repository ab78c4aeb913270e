"""One training epoch of the two-layer network vs the bare matrix products it needs.

Per batch: the forward product x W^T (B x N x K), the backward product G^T x (K x B x N) and two
matrix-vector products. The bare baseline runs exactly those on preallocated arrays; the ratio is
what activations, loss, and the Adam update add. Target: <= 1.5x.

The machine running this is often shared: the epoch and the baseline alternate, and both the ratio
of the best times and the median of the paired ratios are printed. ``--clock cpu`` counts only this
process's CPU time (steadier under load; meaningful with one BLAS thread, OMP_NUM_THREADS=1).
"""

from __future__ import annotations

import argparse

import numpy as np

from bench.timing import CLOCKS, interleaved_pairs
from tlprobe.contract.learning_curve import SourceParams
from worker.science.chmm import make_source
from worker.science.network import Trainer, initial_network


def run(input_dim: int = 800, hidden: int = 800, samples: int = 8000, batch_size: int | None = None,
        repeats: int = 5, clock: str = "wall", activation: str = "erf") -> dict[str, float]:
    task = make_source(SourceParams(latent_dim=200, input_dim=input_dim))
    _, x, y = task.sample(samples, np.random.default_rng(0))
    net = initial_network(hidden, input_dim, activation, np.random.default_rng(1))
    batch = samples if batch_size is None else batch_size
    pre = np.empty((batch, hidden))
    grad = np.empty((hidden, input_dim))
    vector = np.empty(hidden)

    def bare() -> None:
        for start in range(0, samples, batch):
            xb = x[start:start + batch]
            np.matmul(xb, net.first_layer.T, out=pre[:len(xb)])
            pre[:len(xb)] @ net.second_layer
            np.matmul(pre[:len(xb)].T, xb, out=grad)
            np.matmul(pre[:len(xb)].T, y[start:start + batch], out=vector)

    trainer = Trainer(net, x, y, learning_rate=0.01, weight_decay=1e-4, batch_size=batch_size,
                      rng=np.random.default_rng(2))
    epoch, t_bare, median = interleaved_pairs(trainer.epoch, bare, repeats, CLOCKS[clock])
    return {"epoch_s": epoch, "bare_matmuls_s": t_bare, "ratio": epoch / t_bare, "median_ratio": median}


def main_with(batch_size: int | None, repeats: int = 5, clock: str = "wall", activation: str = "erf") -> None:
    r = run(batch_size=batch_size, repeats=repeats, clock=clock, activation=activation)
    label = "full batch" if batch_size is None else f"batch {batch_size}"
    print(f"[training epoch] n=8000 N=K=800 {activation} {label} ({clock} clock, best of {repeats}): "
          f"epoch {r['epoch_s']:.3f}s, bare matmuls {r['bare_matmuls_s']:.3f}s, ratio {r['ratio']:.2f}x, "
          f"median paired ratio {r['median_ratio']:.2f}x (target <= 1.5x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=None, help="mini-batch size (default: full batch)")
    parser.add_argument("--repeats", type=int, default=5, help="alternating runs of epoch and baseline")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall time, or this process's CPU time (steadier on a shared machine, one thread)")
    parser.add_argument("--activation", choices=["erf", "tanh", "relu"], default="erf")
    args = parser.parse_args()
    main_with(args.batch_size, args.repeats, args.clock, args.activation)


if __name__ == "__main__":
    main()
