"""The dataset id and the stored bytes of fixed uploads, pinned: computed by the code as it was before
uploads were decoded in a streaming way (commit 1a7defe), for every layout the decoder treats apart
(C and Fortran order, big-endian, compressed or stored members, integer, bool and float32 values,
JSON). A change of the canonical form, its framing or the hash would change these numbers and every
id ever handed out: that must never happen silently."""

import hashlib
import io
import json

import numpy as np
import pytest

from tlprobe_server import keys

OCTET = "application/octet-stream"


def npz(compressed: bool = False, **named) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **named)
    return buffer.getvalue()


def gaussian() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(17)
    inputs = rng.standard_normal((37, 11))
    labels = np.where(inputs[:, 0] > 0, 1, 0)
    labels[:2] = [0, 1]
    return inputs, labels


def pixels() -> tuple[np.ndarray, np.ndarray]:
    """Larger than one read of the decoder (2100 x 130 = 273,000 values: 2.2 MB as float64)."""
    rng = np.random.default_rng(17)
    rng.standard_normal((37, 11))
    return rng.integers(0, 256, size=(2100, 130)).astype(np.uint8), np.arange(2100) % 3 == 0


GAUSSIAN = ("ds-14b78f827f5693b90fb8d831489c14a0a2faf3fc",
            "003420886d81e2cd659bf2627ced60688e7ac079fca5f955232ed042f8fffcc1",
            "8afde3561294831772d78764a83053a171136310825a61c73fbdce9fac5a1c80", 3361)
PIXELS = ("ds-d7024c6f85bf1d56e3bb99f5de4081bd12d195a2",
          "66536421ef3207deac19c42b0ad309c3d77f4a368280e86d923d6f797d1da958",
          "07b37562c9d53076d3ebf3dd5087a13e4647eb4f2cfd6034fff246e17abff34b", 2186173)
SCALED = ("ds-ee009422e10e31ddbcbcdb2d01565e77f1d9528c",
          "73237c6b30aee33a330edde5c689d908840d3f264f3c41e5e6a5624a99ac82c3",
          "07b37562c9d53076d3ebf3dd5087a13e4647eb4f2cfd6034fff246e17abff34b", 2186173)


def cases():
    x, y = gaussian()
    xi, yi = pixels()
    return [
        ("float64", npz(inputs=x, labels=y), OCTET, GAUSSIAN),
        ("fortran big-endian compressed", npz(True, inputs=np.asfortranarray(x.astype(">f8")),
                                              labels=(2 * y - 1).astype(">i2")), OCTET, GAUSSIAN),
        ("json", json.dumps({"inputs": x.tolist(), "labels": y.tolist()}).encode(), "application/json", GAUSSIAN),
        ("uint8 and bool, compressed", npz(True, inputs=xi, labels=yi), OCTET, PIXELS),
        ("uint8 fortran, float32 labels", npz(inputs=np.asfortranarray(xi), labels=yi.astype(np.float32)), OCTET, PIXELS),
        ("float32 fortran", npz(inputs=np.asfortranarray(xi.astype(np.float32) / 7), labels=yi), OCTET, SCALED),
    ]


@pytest.mark.parametrize("name, body, content_type, pinned", cases(), ids=[case[0] for case in cases()])
def test_ids_and_stored_bytes_are_those_of_the_earlier_code(client, redis, name, body, content_type, pinned):
    dataset_id, inputs_sha, labels_sha, size = pinned
    response = client.post("/v1/datasets", content=body, headers={"content-type": content_type})
    assert response.status_code == 201, response.text
    assert response.json()["dataset_id"] == dataset_id and response.json()["size_bytes"] == size
    stored = redis.hgetall(keys.dataset(dataset_id))
    assert hashlib.sha256(stored[b"inputs"]).hexdigest() == inputs_sha
    assert hashlib.sha256(stored[b"labels"]).hexdigest() == labels_sha


def test_the_description_of_a_pinned_upload(client):
    """The summaries as the earlier code computed them (numpy's mean and std over the whole matrix)."""
    x, y = gaussian()
    described = client.post("/v1/datasets", content=npz(inputs=x, labels=y), headers={"content-type": OCTET}).json()
    assert described["feature_mean"] == {"min": -0.25564282138144406, "median": -0.0156493222876413,
                                         "max": 0.17631818626829862}
    assert described["feature_scale"] == {"min": 0.8151416472742166, "median": 1.00370241556298, "max": 1.1626482865337}
    xi, yi = pixels()
    described = client.post("/v1/datasets", content=npz(inputs=np.asfortranarray(xi.astype(np.float32) / 7), labels=yi),
                            headers={"content-type": OCTET}).json()
    assert described["feature_mean"] == {"min": 17.504285709276086, "median": 18.248707473998266,
                                         "max": 18.811292528510094}
    assert described["feature_scale"] == {"min": 10.284827794970449, "median": 10.550860835290576,
                                          "max": 10.826125537456038}
    assert (described["positives"], described["negatives"], described["constant_features"]) == (700, 1400, 0)
