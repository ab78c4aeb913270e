"""The two-layer network: gradients against finite differences, training, determinism."""

import numpy as np
import pytest

from tlprobe.contract.learning_curve import SourceParams
from worker.science.chmm import make_source
from worker.science.network import Penalty, initial_network, objective_and_gradient, train_network


@pytest.mark.parametrize("activation, anchored", [("erf", False), ("tanh", False), ("relu", False), ("erf", True),
                                                   ("relu", True)])
def test_gradient_matches_central_differences(activation, anchored):
    # anchored: the fine-tuning objective, L2-SP toward a first layer, its own readout penalty, centred units
    rng = np.random.default_rng(0)
    n, n_inputs, hidden, decay = 40, 12, 7, 0.03
    inputs = rng.standard_normal((n, n_inputs))
    labels = np.where(rng.standard_normal(n) > 0, 1.0, -1.0)
    net = initial_network(hidden, n_inputs, activation, rng)
    penalty, centre = decay, None
    if anchored:
        penalty, centre = Penalty(decay, 0.007, rng.standard_normal((hidden, n_inputs))), rng.standard_normal(hidden)

    def objective():
        return objective_and_gradient(net.first_layer, net.second_layer, activation, inputs, labels, penalty,
                                      centre=centre)

    _, g_first, g_second = objective()
    h = 1e-6
    for array, grad in ((net.first_layer, g_first), (net.second_layer, g_second)):
        numeric = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            saved = array[index]
            array[index] = saved + h
            up = objective()[0]
            array[index] = saved - h
            down = objective()[0]
            array[index] = saved
            numeric[index] = (up - down) / (2 * h)
        # central differences are exact to O(h^2 f''') ~ 1e-10 here; relu kinks are avoided with
        # probability one by continuous inputs
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def _data():
    task = make_source(SourceParams(latent_dim=20, input_dim=60, seed=1))
    _, x, y = task.sample(600, np.random.default_rng(1))
    _, xt, yt = task.sample(4000, np.random.default_rng(2))
    return x, y, xt, yt


@pytest.mark.parametrize("batch_size", [None, 64])
def test_training_learns_the_task(batch_size):
    x, y, xt, yt = _data()
    start = initial_network(40, 60, "erf", np.random.default_rng(3))
    loss0 = objective_and_gradient(start.first_layer, start.second_layer, "erf", x, y, 1e-5)[0]
    result = train_network(start, x, y, epochs=150, learning_rate=0.01, weight_decay=1e-5, batch_size=batch_size,
                           rng=np.random.default_rng(4))
    assert result.train_loss < 0.5 * loss0
    # random guessing has error 0.5 (sd 0.008 on 4000 test samples); a trained net must do far better
    assert result.network.error(xt, yt) < 0.25
    assert start.first_layer is not result.network.first_layer  # the start is left untouched
    np.testing.assert_array_equal(start.first_layer, initial_network(40, 60, "erf", np.random.default_rng(3)).first_layer)


def test_training_is_deterministic():
    x, y, _, _ = _data()
    runs = [train_network(initial_network(10, 60, "tanh", np.random.default_rng(3)), x, y, epochs=20,
                          learning_rate=0.01, weight_decay=1e-4, batch_size=100, rng=np.random.default_rng(5))
            for _ in range(2)]
    np.testing.assert_array_equal(runs[0].network.first_layer, runs[1].network.first_layer)
    assert runs[0].train_loss == runs[1].train_loss


def test_progress_is_reported_per_epoch():
    x, y, _, _ = _data()
    seen = []
    train_network(initial_network(5, 60, "relu", np.random.default_rng(0)), x, y, epochs=3, learning_rate=0.01,
                  weight_decay=0.0, batch_size=None, rng=np.random.default_rng(0), progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
