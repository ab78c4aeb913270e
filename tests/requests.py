"""Small requests shared by the tests: ``SMALL`` and ``SPECTRUM`` only need to be valid (no worker runs
them); ``live_curve`` is the small learning curve the live-stack tests compute."""

SMALL = {"source": {"latent_dim": 5, "input_dim": 20}, "network": {"hidden_units": 10, "n_samples": 50, "epochs": 2},
         "alphas": [1.0], "theory": {"mc_samples": 500}, "simulation": None}
SPECTRUM = {"spectrum": {"omega": [1.0, 2.0], "t": [0.2, 0.4], "rho": 1.0, "gamma": 1.0}}


def live_curve(seed: int, network: dict, /, **changes) -> dict:
    """A learning curve small enough for the live tests: D = 10, N = 40, alphas 0.5 and 2, two
    simulation seeds; ``network`` (each test file's own) and ``changes`` (a field replaced whole, ``network``
    included) are what the tests vary."""
    request = {"source": {"latent_dim": 10, "input_dim": 40, "seed": seed}, "network": network, "alphas": [0.5, 2.0],
               "theory": {"mc_samples": 4000}, "simulation": {"seeds": 2, "test_samples": 1000}}
    request.update(changes)
    return request
