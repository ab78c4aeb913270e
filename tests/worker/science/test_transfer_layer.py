"""Deeper source networks and the layer transferred (MODEL.md section 9): the feature maps of tf at layer l
and of rf at depth l, the finetune probe, scratch's architecture, the artifacts' keys, and (slow) theory
against simulation for l = 1 and 2 of a two-hidden-layer network."""

import numpy as np
import pytest
from scipy.special import erf

from tlprobe.contract.common import Protocol
from tlprobe.contract.learning_curve import FinetuneParams, LearningCurveRequest, SourceParams, TargetParams
from worker.science.artifacts import MemoryArtifactStore
from worker.science.chmm import make_source, make_target
from worker.science.curve_orchestrator import run_learning_curve
from worker.science.features import READOUT_FEATURES, centred, transferred_features
from worker.science.finetune import finetune, probe
from worker.science.network import initial_network, train_network
from worker.science.readout import fit_readout
from worker.science.source_network import network_key
from worker.science.synthetic_source import SyntheticSource, spectra_key

SMALL = {"source": {"latent_dim": 10, "input_dim": 40}, "target": {"feature_noise": 0.3},
         "network": {"hidden_units": 30, "n_samples": 400, "epochs": 60, "hidden_layers": 2},
         "alphas": [0.5, 2.0], "theory": {"mc_samples": 4000},
         "simulation": {"seeds": 2, "test_samples": 1000, "scratch": {"epochs": 10}, "finetune": {"epochs": 5}}}


def _spec(**changes) -> LearningCurveRequest:
    return LearningCurveRequest.model_validate({**SMALL, **changes})


def _deep_network(depth: int, activation: str = "tanh"):
    task = make_source(SourceParams(latent_dim=10, input_dim=40, seed=3))
    _, xs, ys = task.sample(300, np.random.default_rng(0))
    start = initial_network(20, 40, activation, np.random.default_rng(1), hidden_layers=depth)
    return task, train_network(start, xs, ys, epochs=30, learning_rate=0.01, weight_decay=1e-4, batch_size=None,
                               rng=np.random.default_rng(2)).network


def test_tf_at_layer_l_is_the_source_networks_lth_hidden_layer():
    task, network = _deep_network(3)
    x = task.sample(50, np.random.default_rng(9))[1]
    act = np.tanh
    h = x
    for layer, weights in enumerate(network.layers, start=1):
        h = act(h @ weights.T / np.sqrt(weights.shape[1]))
        np.testing.assert_allclose(transferred_features(network, layer).raw(x), h, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(transferred_features(network).raw(x), network.hidden(x), rtol=1e-12, atol=1e-13)
    with pytest.raises(ValueError):
        transferred_features(network, 4)


def test_rf_at_depth_l_extends_the_random_network_of_depth_one():
    one = READOUT_FEATURES[Protocol.rf].build(_spec(network={**SMALL["network"], "hidden_layers": 1}), 40, None)
    two = READOUT_FEATURES[Protocol.rf].build(_spec(), 40, None)
    first_of_two = READOUT_FEATURES[Protocol.rf].build(_spec(readout={"transfer_layer": 1}), 40, None)
    np.testing.assert_array_equal(two.weights, one.weights)  # the one-layer draw, as before deeper networks
    assert one.depth == first_of_two.depth == 1 and two.depth == 2 and two.deeper[0].shape == (30, 30)
    np.testing.assert_array_equal(first_of_two.weights, one.weights)
    x = np.random.default_rng(0).standard_normal((5, 40))
    np.testing.assert_allclose(two.raw(x), erf(one.raw(x) @ two.deeper[0].T / np.sqrt(30)), rtol=1e-12)


@pytest.mark.parametrize("layer", [1, 2])
def test_the_finetune_probe_at_layer_l_is_the_tf_readout_there(layer):
    task, network = _deep_network(2, "relu")
    target = make_target(task, TargetParams(feature_noise=0.3, seed=4))
    features = centred(transferred_features(network, layer), target, rng=np.random.default_rng(5), n_samples=20_000)
    _, x, y = target.sample(60, np.random.default_rng(6))
    _, xt, _ = target.sample(500, np.random.default_rng(7))
    readout = fit_readout(features(x), y, "logistic", 0.01)
    start = probe(network, features, x, y, 0.01)
    assert start.hidden_layers == layer
    np.testing.assert_allclose(start.output(xt), features(xt) @ readout.weights / np.sqrt(20), rtol=1e-10, atol=1e-10)
    # L2-SP anchors every fine-tuned layer at its source layer: a huge mu keeps them all there
    held = finetune(network, features, x, y, 0.01, FinetuneParams(epochs=20, regularisation=1e6),
                    np.random.default_rng(0), np.random.default_rng(1)).network
    free = finetune(network, features, x, y, 0.01, FinetuneParams(epochs=20, regularisation=0.0),
                    np.random.default_rng(0), np.random.default_rng(1)).network
    for source_layer, kept, moved in zip(network.layers, held.layers, free.layers):
        assert np.abs(kept - source_layer).max() < 0.1 * np.abs(moved - source_layer).max()


def test_a_deep_curve_runs_every_protocol_on_the_source_architecture_and_shares_its_network():
    store = MemoryArtifactStore()
    results = {layer: run_learning_curve(SyntheticSource(_spec(readout={"transfer_layer": layer, "regularisation": 0.1},
                                                                protocols=["tf", "rf", "linear", "scratch", "finetune"])),
                                         store) for layer in (1, 2)}
    first, second = results[1].meta["artifacts"], results[2].meta["artifacts"]
    assert second["network"] == {"key": first["network"]["key"], "reused": True}  # one network, both layers
    assert second["spectra:tf"]["key"] != first["spectra:tf"]["key"] and not second["spectra:tf"]["reused"]
    assert second["spectra:linear"]["reused"]
    for result in results.values():
        for protocol in ("tf", "rf", "linear", "scratch", "finetune"):
            errors = result.curves[protocol].simulation.test_error_mean
            assert all(0.0 <= e < 0.5 for e in errors)
    # the theory's numbers differ between the layers (different features), the raw inputs' do not
    assert results[1].curves["tf"].theory.test_error != results[2].curves["tf"].theory.test_error
    assert results[1].curves["linear"].theory.test_error == results[2].curves["linear"].theory.test_error
    assert results[1].curves["scratch"].simulation.test_errors == results[2].curves["scratch"].simulation.test_errors


def test_keys_of_one_layer_requests_are_those_of_before_and_deeper_ones_name_their_layer():
    one = LearningCurveRequest()
    spelled = LearningCurveRequest.model_validate({"network": {"hidden_layers": 1}, "readout": {"transfer_layer": 1},
                                                   "source": {"label_noise": 0.0}, "target": {"label_noise": 0.0}})
    assert network_key(one) == network_key(spelled)
    assert spectra_key(one, Protocol.tf) == spectra_key(spelled, Protocol.tf)
    assert spectra_key(one, Protocol.rf) == spectra_key(spelled, Protocol.rf)
    deep = {layer: LearningCurveRequest.model_validate({"network": {"hidden_layers": 2},
                                                        "readout": {"transfer_layer": layer}}) for layer in (1, 2)}
    default = LearningCurveRequest.model_validate({"network": {"hidden_layers": 2}})
    assert network_key(deep[1]) == network_key(deep[2]) != network_key(one)
    assert spectra_key(default, Protocol.tf) == spectra_key(deep[2], Protocol.tf) != spectra_key(deep[1], Protocol.tf)
    assert spectra_key(deep[1], Protocol.rf) == spectra_key(one, Protocol.rf)  # rf of depth 1 is rf of depth 1
    assert spectra_key(deep[2], Protocol.rf) != spectra_key(one, Protocol.rf)
    noisy = LearningCurveRequest.model_validate({"source": {"label_noise": 0.1}})
    assert network_key(noisy) != network_key(one)
    target_noise = LearningCurveRequest.model_validate({"target": {"label_noise": 0.1}})
    assert network_key(target_noise) == network_key(one)  # the target's flips touch neither network nor spectra
    assert spectra_key(target_noise, Protocol.tf) == spectra_key(one, Protocol.tf)
