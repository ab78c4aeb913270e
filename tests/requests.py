"""Small requests shared by the tests: ``SMALL``, ``SPECTRUM`` and ``SMALL_DIAGRAM`` only need to be valid (no
worker runs them); ``live_curve`` is the small learning curve the live-stack tests compute."""

SMALL = {"source": {"latent_dim": 5, "input_dim": 20}, "network": {"hidden_units": 10, "n_samples": 50, "epochs": 2},
         "alphas": [1.0], "theory": {"mc_samples": 500}, "simulation": None}
SPECTRUM = {"spectrum": {"omega": [1.0, 2.0], "t": [0.2, 0.4], "rho": 1.0, "gamma": 1.0}}
#: theory only, on one source network: its network job (queued), a theory part per feature noise (deferred
#: behind the network) and its assembly (deferred behind the parts)
SMALL_DIAGRAM = {key: SMALL[key] for key in ("source", "network", "theory")} | {
    "x_axis": {"name": "alpha", "values": [1.0, 2.0]}, "y_axis": {"name": "feature_noise", "values": [0.0, 0.5]}}


def live_curve(seed: int, network: dict, /, **changes) -> dict:
    """A learning curve small enough for the live tests: D = 10, N = 40, alphas 0.5 and 2, two
    simulation seeds; ``network`` (each test file's own) and ``changes`` (a field replaced whole, ``network``
    included) are what the tests vary."""
    request = {"source": {"latent_dim": 10, "input_dim": 40, "seed": seed}, "network": network, "alphas": [0.5, 2.0],
               "theory": {"mc_samples": 4000}, "simulation": {"seeds": 2, "test_samples": 1000}}
    request.update(changes)
    return request
