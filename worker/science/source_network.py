"""The source network of a learning curve: the network of ``network.hidden_layers`` hidden layers (one:
the two-layer network) trained on its data source's source training set (or read back from the artifact
store), and its errors on the source.

Training starts from ``network.seed`` (``Stream.NETWORK_INIT``) and orders mini-batches from it
(``Stream.MINIBATCH_ORDER``); the data are the source's (``data_source.DataSource``). The artifact holds
every layer (``first_layer``, ``layer_2`` .. ``layer_L``, ``second_layer``: the readout) and the source
test, train error and train loss; its key (``network_key``) is what
determines it, the source and the network's settings, so a learning curve differing in anything else,
and a source network trained alone for a phase diagram (``ensure_source_network``), share it.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe.contract.phase_diagram import SourceNetworkResult

from . import SCIENCE_VERSION
from .artifacts import ArtifactStore, artifact_key
from .curve_run import CurveRun, ProgressFn
from .data_source import DataSource
from .network import TwoLayerNetwork, initial_network, train_network
from .seeding import Stream, generator

SUMMARY = ("test_error", "train_error", "train_loss")


def network_key(spec: LearningCurveRequest) -> str:
    return artifact_key("network", source=spec.source, network=spec.network)


def source_test_error(network: TwoLayerNetwork, chunks: Iterable[tuple[np.ndarray, np.ndarray]]) -> float:
    """The fraction of the samples in ``chunks`` that the network's sign gets wrong."""
    wrong = total = 0
    for inputs, labels in chunks:
        wrong += int(np.sum(np.where(network.output(inputs) >= 0, 1.0, -1.0) != labels))
        total += labels.shape[0]
    return wrong / total


def train_source_network(run: CurveRun, data: DataSource) -> tuple[TwoLayerNetwork, dict[str, float]]:
    """The trained source network of ``data`` and its summary (``SUMMARY``: errors and loss on the source)."""
    net_spec = data.spec.network

    def compute() -> dict[str, np.ndarray]:
        inputs, labels = data.source_training_set(net_spec.n_samples)
        start = initial_network(net_spec.hidden_units, data.input_dim, net_spec.activation.value,
                                generator(net_spec.seed, Stream.NETWORK_INIT), net_spec.hidden_layers)
        trained = train_network(start, inputs, labels, epochs=net_spec.epochs, learning_rate=net_spec.learning_rate,
                                weight_decay=net_spec.weight_decay, batch_size=net_spec.batch_size,
                                rng=generator(net_spec.seed, Stream.MINIBATCH_ORDER),
                                progress=run.reporter("source_network"))
        deeper = {f"layer_{j}": layer for j, layer in enumerate(trained.network.deeper_layers, start=2)}
        return {"first_layer": trained.network.first_layer, **deeper, "second_layer": trained.network.second_layer,
                "test_error": np.array(source_test_error(trained.network, data.source_test_chunks())),
                "train_error": np.array(trained.train_error), "train_loss": np.array(trained.train_loss)}

    with run.timed("source_network"):
        arrays = run.cached("network", network_key(data.spec), compute)
    deeper = tuple(arrays[f"layer_{j}"] for j in range(2, net_spec.hidden_layers + 1))
    network = TwoLayerNetwork(arrays["first_layer"], arrays["second_layer"], net_spec.activation.value,
                              deeper_layers=deeper)
    return network, {name: float(arrays[name]) for name in SUMMARY}


def ensure_source_network(data: DataSource, store: ArtifactStore | None = None,
                          progress: ProgressFn | None = None) -> SourceNetworkResult:
    """Train (or reuse) the source network alone: what a phase diagram's parts share
    (``data_source.source_network_data`` makes its data source)."""
    run = CurveRun(store, progress)
    _, summary = train_source_network(run, data)
    return SourceNetworkResult(source_test_error=summary["test_error"], source_train_error=summary["train_error"],
                               source_train_loss=summary["train_loss"],
                               meta={"science_version": SCIENCE_VERSION, **run.meta()})
