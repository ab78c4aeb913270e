"""Small requests shared by the HTTP tests (no worker runs them: they only need to be valid)."""

SMALL = {"source": {"latent_dim": 5, "input_dim": 20}, "network": {"hidden_units": 10, "n_samples": 50, "epochs": 2},
         "alphas": [1.0], "theory": {"mc_samples": 500}, "simulation": None}
SPECTRUM = {"spectrum": {"omega": [1.0, 2.0], "t": [0.2, 0.4], "rho": 1.0, "gamma": 1.0}}
