"""The GCM request: exactly one model, and every check that costs no more than reading the model
(shapes, symmetry, finiteness, pairwise semi-definiteness, theta^T psi theta > 0, spectrum rules)
refused with the field named, before anything is queued."""

import time

import numpy as np
import pytest
from pydantic import ValidationError

from tlprobe.contract.gcm import GCMRequest

BASE = {"omega": [[1.0, 0.2], [0.2, 1.0]], "phi": [[0.1], [0.1]], "theta": [1.0]}
SPECTRUM = {"omega": [1.0, 2.0], "t": [0.2, 0.4], "rho": 1.0, "gamma": 1.0}


def refusal(body: dict) -> tuple[tuple, str]:
    with pytest.raises(ValidationError) as info:
        GCMRequest.model_validate(body)
    error = info.value.errors()[0]
    return tuple(error["loc"]), error["msg"]


def test_gcm_request_needs_exactly_one_model():
    with pytest.raises(ValidationError, match="exactly one"):
        GCMRequest.model_validate({})
    with pytest.raises(ValidationError, match="exactly one"):
        GCMRequest.model_validate({"spectrum": SPECTRUM, "covariances": BASE})
    GCMRequest.model_validate({"covariances": BASE})
    GCMRequest.model_validate({"spectrum": SPECTRUM, "covariances": None})


@pytest.mark.parametrize("change, location, message", [
    ({"omega": [[1.0, 0.0], [0.0]]}, ("covariances", "omega"), "rows have different lengths"),
    ({"omega": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]}, ("covariances", "omega"), "p x p"),
    ({"omega": [[1.0]]}, ("covariances", "phi"), "p = 1 rows"),
    ({"phi": [[0.1, 0.1], [0.1]]}, ("covariances", "phi"), "rows have different lengths"),
    ({"theta": [1.0, 2.0]}, ("covariances", "theta"), "k = 1 entries"),
    ({"psi": [[1.0, 0.0], [0.0, 1.0]]}, ("covariances", "psi"), "k x k"),
    ({"omega": [[1.0, 0.2], [0.3, 1.0]]}, ("covariances", "omega"), "symmetric"),
    ({"omega": [[-1.0, 0.0], [0.0, 1.0]]}, ("covariances", "omega"), "not a covariance"),
    ({"omega": [[1.0, 2.0], [2.0, 1.0]]}, ("covariances", "omega"), "not positive semi-definite"),
    ({"psi": [[-1.0]]}, ("covariances", "psi"), "not a covariance"),
    ({"phi": [[5.0], [0.1]]}, ("covariances",), "not positive semi-definite"),
    ({"theta": [0.0]}, ("covariances", "theta"), "theta^T psi theta must be > 0"),
    ({"theta": [1e-170]}, ("covariances", "theta"), "theta^T psi theta must be > 0"),  # its square underflows
    ({"psi": [[0.0]], "phi": [[0.0], [0.0]]}, ("covariances", "theta"), "theta^T psi theta must be > 0"),
    ({"omega": [[1.0, float("nan")], [0.0, 1.0]]}, ("covariances", "omega"), "finite"),
])
def test_invalid_covariances_are_refused_naming_the_field(change, location, message):
    loc, msg = refusal({"covariances": {**BASE, **change}})
    assert loc[:len(location)] == location and message in msg, (loc, msg)


@pytest.mark.parametrize("change, message", [
    ({"omega": [1.0, -1.0]}, "omega: eigenvalues must be >= 0"),
    ({"t": [0.2]}, "t: has 1 entries"),
    ({"t": [0.2, -0.4]}, "t: entries are squares"),
    ({"omega": [1.0, 0.0]}, "t: t_i > 0 where omega_i = 0"),
    ({"t": [2.0, 2.0]}, "rho: the features explain more"),
])
def test_invalid_spectra_are_refused_naming_the_field(change, message):
    loc, msg = refusal({"spectrum": {**SPECTRUM, **change}})
    assert loc == ("spectrum",) and message in msg


def test_the_largest_covariances_are_checked_within_a_second():
    rng = np.random.default_rng(0)
    p = k = 600
    a = rng.standard_normal((p + k, p + k))
    joint = a @ a.T / (p + k)
    body = {"covariances": {"omega": joint[k:, k:].tolist(), "phi": joint[k:, :k].tolist(),
                            "psi": joint[:k, :k].tolist(), "theta": rng.standard_normal(k).tolist()}}
    started = time.perf_counter()
    GCMRequest.model_validate(body)
    assert time.perf_counter() - started < 1.5  # about 0.4 s on the shared two-core machine
