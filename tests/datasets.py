"""Small datasets for the tests, as arrays and as the bytes of an upload."""

from __future__ import annotations

import io

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


def curve_on(source_id: str, target_id: str, **changes) -> dict:
    """A small learning curve on two datasets (no worker needs to run it in the HTTP tests)."""
    request = {**SMALL, "source": {"dataset": source_id}, "target": {"dataset": target_id},
               "network": {"hidden_units": 10, "n_samples": 40, "epochs": 2}, "alphas": [1.0],
               "simulation": {"seeds": 1}}
    request.update(changes)
    return request
