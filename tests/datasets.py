"""Small datasets for the tests, as arrays and as the bytes of an upload."""

from __future__ import annotations

import io
from typing import NamedTuple

import numpy as np

from tests.requests import SMALL


def arrays(samples: int = 60, input_dim: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian inputs and labels from a linear rule (both classes present)."""
    rng = np.random.default_rng(seed)
    inputs = rng.standard_normal((samples, input_dim))
    labels = np.where(inputs @ rng.standard_normal(input_dim) >= 0, 1.0, -1.0)
    labels[:2] = [1.0, -1.0]
    return inputs, labels


def npz(**named) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **named)
    return buffer.getvalue()


def upload(client, inputs, labels) -> dict:
    response = client.post("/v1/datasets", content=npz(inputs=inputs, labels=labels),
                           headers={"content-type": "application/octet-stream"})
    assert response.status_code in (200, 201), response.text
    return response.json()


class Checked(NamedTuple):
    """Datasets that requests are checked against: ``source`` (N = 5, a training split of 48),
    ``target`` (N = 5, a training split of 40: alpha <= 8), ``wide`` (N = 6) and a ``missing`` id."""

    source: str
    target: str
    wide: str
    missing: str


def uploaded_to_check_against(client) -> Checked:
    return Checked(source=upload(client, *arrays(samples=60, input_dim=5))["dataset_id"],
                   target=upload(client, *arrays(samples=50, input_dim=5, seed=1))["dataset_id"],
                   wide=upload(client, *arrays(samples=50, input_dim=6, seed=2))["dataset_id"],
                   missing="ds-" + "0" * 40)


def curve_on(source_id: str, target_id: str, **changes) -> dict:
    """A small learning curve on two datasets (no worker needs to run it in the HTTP tests)."""
    request = {**SMALL, "source": {"dataset": source_id}, "target": {"dataset": target_id},
               "network": {"hidden_units": 10, "n_samples": 40, "epochs": 2}, "alphas": [1.0],
               "simulation": {"seeds": 1}}
    request.update(changes)
    return request
