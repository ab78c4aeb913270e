"""The two-layer network: gradients against finite differences, training, determinism."""

import numpy as np
import pytest
from scipy import special

from tlprobe.contract.learning_curve import SourceParams
from worker.science.chmm import make_source
from worker.science.network import (
    Penalty,
    TwoLayerNetwork,
    initial_network,
    network_objective,
    objective_and_gradient,
    train_network,
)


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


_REFERENCE_ACTIVATIONS = {
    "erf": (special.erf, lambda z: 2.0 / np.sqrt(np.pi) * np.exp(-z * z)),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
}


def _reference_training(first, second, activation, x, y, *, epochs, learning_rate, weight_decay, batch_size, seed,
                        second_decay=None, anchor=None, centre=None):
    """The objective and torch-style Adam written out plainly: no buffers, no fused updates.
    ``weight_decay`` pulls the first layer toward ``anchor`` (None: zero), ``second_decay`` (None: the
    same) the second toward zero; ``centre`` is subtracted from the hidden units."""
    sigma, sigma_prime = _REFERENCE_ACTIVATIONS[activation]
    second_decay = weight_decay if second_decay is None else second_decay
    anchor = np.zeros_like(first) if anchor is None else anchor
    centre = np.zeros(first.shape[0]) if centre is None else centre
    first, second = first.copy(), second.copy()
    n, n_inputs = x.shape
    hidden = first.shape[0]
    moments = [[np.zeros_like(first), np.zeros_like(first)], [np.zeros_like(second), np.zeros_like(second)]]
    beta1, beta2, eps, steps = 0.9, 0.999, 1e-8, 0
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        if batch_size is None or batch_size >= n:
            batches = [np.arange(n)]
        else:
            order = rng.permutation(n)
            batches = [order[start:start + batch_size] for start in range(0, n, batch_size)]
        for idx in batches:
            xb, yb = x[idx], y[idx]
            pre = xb @ first.T / np.sqrt(n_inputs)
            h, dh = sigma(pre) - centre, sigma_prime(pre)
            f = h @ second / np.sqrt(hidden)
            r = -yb * special.expit(-yb * f) / len(idx)
            grad_second = h.T @ r / np.sqrt(hidden) + second_decay * second
            grad_first = (r[:, None] * dh * second[None, :] / np.sqrt(hidden)).T @ xb / np.sqrt(n_inputs) \
                + weight_decay * (first - anchor)
            steps += 1
            for param, grad, (m, v) in ((first, grad_first, moments[0]), (second, grad_second, moments[1])):
                m[...] = beta1 * m + (1 - beta1) * grad
                v[...] = beta2 * v + (1 - beta2) * grad**2
                m_hat = m / (1 - beta1**steps)
                v_hat = v / (1 - beta2**steps)
                param -= learning_rate * m_hat / (np.sqrt(v_hat) + eps)
    pre = x @ first.T / np.sqrt(n_inputs)
    margin = y * ((sigma(pre) - centre) @ second / np.sqrt(hidden))
    loss = np.mean(np.logaddexp(0.0, -margin)) + 0.5 * weight_decay * np.sum((first - anchor) ** 2) \
        + 0.5 * second_decay * np.sum(second**2)
    return first, second, loss


@pytest.mark.parametrize("activation", ["erf", "relu", "tanh"])
@pytest.mark.parametrize("batch_size", [None, 64])
def test_trainer_matches_a_plain_reference(activation, batch_size):
    """The optimised trainer (buffers, fused Adam) computes the same numbers as the plain formulas, up
    to floating-point reassociation: weights agree to 1e-10 after 4 epochs (a changed formula, such
    as a dropped decay term, moves them by 0.08 to 0.4)."""
    x, y, _, _ = _data()
    x, y = x[:300], y[:300]  # 300 = 4 batches of 64 and a last one of 44
    start = initial_network(30, 60, activation, np.random.default_rng(7))
    settings = dict(epochs=4, learning_rate=0.01, weight_decay=0.01, batch_size=batch_size)
    result = train_network(start, x, y, rng=np.random.default_rng(8), **settings)
    first, second, loss = _reference_training(start.first_layer, start.second_layer, activation, x, y, seed=8,
                                              **settings)
    assert not np.allclose(first, start.first_layer, atol=1e-3)  # training moved the weights
    np.testing.assert_allclose(result.network.first_layer, first, rtol=0, atol=1e-10)
    np.testing.assert_allclose(result.network.second_layer, second, rtol=0, atol=1e-10)
    assert result.train_loss == pytest.approx(loss, rel=1e-10)



@pytest.mark.parametrize("batch_size", [None, 64])
@pytest.mark.parametrize("decays", [(0.01, 0.003), (0.0, 0.0)])
def test_anchored_trainer_matches_a_plain_reference(batch_size, decays):
    """Fine-tuning's objective (L2-SP toward an anchor, the readout's own decay, centred hidden units),
    and no decay at all: the other paths of the compiled Adam step, to the same 1e-10."""
    x, y, _, _ = _data()
    x, y = x[:300], y[:300]
    rng = np.random.default_rng(9)
    start = initial_network(30, 60, "erf", rng)
    anchor, centre = start.first_layer + 0.3 * rng.standard_normal(start.first_layer.shape), rng.standard_normal(30)
    start = TwoLayerNetwork(start.first_layer, start.second_layer, "erf", centre)
    penalty = Penalty(decays[0], decays[1], anchor)
    result = train_network(start, x, y, epochs=4, learning_rate=0.01, weight_decay=penalty, batch_size=batch_size,
                           rng=np.random.default_rng(8))
    first, second, loss = _reference_training(start.first_layer, start.second_layer, "erf", x, y, epochs=4,
                                              learning_rate=0.01, weight_decay=decays[0], batch_size=batch_size,
                                              seed=8, second_decay=decays[1], anchor=anchor, centre=centre)
    assert not np.allclose(first, start.first_layer, atol=1e-3)
    np.testing.assert_allclose(result.network.first_layer, first, rtol=0, atol=1e-10)
    np.testing.assert_allclose(result.network.second_layer, second, rtol=0, atol=1e-10)
    assert result.train_loss == pytest.approx(loss, rel=1e-10)


# --- deeper networks (MODEL.md section 9) ------------------------------------------------------------

@pytest.mark.parametrize("activation, depth, anchored", [("erf", 2, False), ("tanh", 3, False), ("relu", 2, True),
                                                          ("erf", 3, True)])
def test_deep_gradient_matches_central_differences(activation, depth, anchored):
    rng = np.random.default_rng(1)
    n, n_inputs, hidden, decay = 30, 9, 6, 0.02
    inputs = rng.standard_normal((n, n_inputs))
    labels = np.where(rng.standard_normal(n) > 0, 1.0, -1.0)
    net = initial_network(hidden, n_inputs, activation, rng, hidden_layers=depth)
    assert net.hidden_layers == depth and all(w.shape == (hidden, hidden) for w in net.deeper_layers)
    penalty = decay
    if anchored:
        anchors = [rng.standard_normal(w.shape) for w in net.layers]
        penalty = Penalty(decay, 0.005, anchors[0], tuple(anchors[1:]))
        net = TwoLayerNetwork(net.first_layer, net.second_layer, activation, rng.standard_normal(hidden),
                              net.deeper_layers)
    _, grads, g_second = network_objective(net, inputs, labels, penalty)
    h = 1e-6
    for array, grad in [*zip(net.layers, grads), (net.second_layer, g_second)]:
        numeric = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            saved = array[index]
            array[index] = saved + h
            up = network_objective(net, inputs, labels, penalty)[0]
            array[index] = saved - h
            down = network_objective(net, inputs, labels, penalty)[0]
            array[index] = saved
            numeric[index] = (up - down) / (2 * h)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_a_two_layer_network_draws_and_trains_as_before_deeper_networks():
    # L = 1: the draws W then a, and the two-layer path (the golden learning curves pin it to the bit)
    rng = np.random.default_rng(3)
    first, second = rng.standard_normal((20, 60)), rng.standard_normal(20)
    net = initial_network(20, 60, "erf", np.random.default_rng(3))
    np.testing.assert_array_equal(net.first_layer, first)
    np.testing.assert_array_equal(net.second_layer, second)
    deep = initial_network(20, 60, "erf", np.random.default_rng(3), hidden_layers=2)
    np.testing.assert_array_equal(deep.first_layer, first)  # W_1 first, then W_2, then a


@pytest.mark.parametrize("batch_size", [None, 64])
def test_deep_trainer_matches_plain_gradient_descent_steps(batch_size):
    """Adam over W_1 .. W_L and a from ``network_objective``'s gradient, written out plainly (torch's order),
    against the buffered trainer: 1e-10 after 3 epochs."""
    x, y, _, _ = _data()
    x, y = x[:300], y[:300]
    start = initial_network(16, 60, "tanh", np.random.default_rng(4), hidden_layers=3)
    result = train_network(start, x, y, epochs=3, learning_rate=0.01, weight_decay=0.01, batch_size=batch_size,
                           rng=np.random.default_rng(8))
    params = [w.copy() for w in start.layers] + [start.second_layer.copy()]
    moments = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
    rng, steps = np.random.default_rng(8), 0
    for _ in range(3):
        order = np.arange(300) if batch_size is None else rng.permutation(300)
        for begin in range(0, 300, batch_size or 300):
            idx = order[begin:begin + (batch_size or 300)]
            net = TwoLayerNetwork(params[0], params[-1], "tanh", None, tuple(params[1:-1]))
            _, grads, g_second = network_objective(net, x[idx], y[idx], 0.01)
            steps += 1
            for param, grad, (m, v) in zip(params, [*grads, g_second], moments):
                m[...] = 0.9 * m + 0.1 * grad
                v[...] = 0.999 * v + 0.001 * grad**2
                param -= 0.01 * (m / (1 - 0.9**steps)) / (np.sqrt(v / (1 - 0.999**steps)) + 1e-8)
    assert not np.allclose(params[1], start.layers[1], atol=1e-3)
    for ours, plain in zip([*result.network.layers, result.network.second_layer], params):
        np.testing.assert_allclose(ours, plain, rtol=0, atol=1e-10)
    final = TwoLayerNetwork(params[0], params[-1], "tanh", None, tuple(params[1:-1]))
    assert result.train_loss == pytest.approx(network_objective(final, x, y, 0.01)[0], rel=1e-10)


def test_deep_network_learns_the_task():
    x, y, xt, yt = _data()
    start = initial_network(40, 60, "erf", np.random.default_rng(3), hidden_layers=2)
    result = train_network(start, x, y, epochs=150, learning_rate=0.01, weight_decay=1e-5, batch_size=None,
                           rng=np.random.default_rng(4))
    assert result.network.error(xt, yt) < 0.15 < start.error(xt, yt)
