"""The client's .npz writer (no numpy in the client): numpy reads back exactly what was written, with
allow_pickle=False, for the dtypes and layouts an upload may have; what upload_dataset sends."""

import io

import numpy as np
import pytest

from tlprobe.client import dataset_body
from tlprobe.npz import write_npz


def read(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


@pytest.mark.parametrize("array", [
    np.random.default_rng(0).standard_normal((7, 3)),
    np.arange(12, dtype=np.uint8).reshape(3, 4),
    np.random.default_rng(1).standard_normal((6, 5)).astype(np.float32)[:, ::2],  # not contiguous
    np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    np.arange(4, dtype=">i4"),  # big-endian
    np.array([True, False]),
    np.zeros((0, 4)),
    np.array([1, -1, 1], dtype=np.int8),
])
def test_numpy_reads_back_what_was_written(array):
    back = read(write_npz({"inputs": array, "labels": np.array([1, 0])}))
    assert back["inputs"].dtype == array.dtype and back["inputs"].shape == array.shape
    assert np.array_equal(back["inputs"], array) and list(back["labels"]) == [1, 0]


def test_object_arrays_are_refused_before_sending():
    with pytest.raises(TypeError, match="object arrays"):
        write_npz({"inputs": np.array([[1, "a"]], dtype=object)})


def test_what_upload_dataset_sends(tmp_path):
    inputs, labels = np.arange(6.0).reshape(3, 2), np.array([1, -1, 1])
    path = tmp_path / "d.npz"
    np.savez(path, inputs=inputs, labels=labels)
    assert dataset_body(path) == dataset_body(str(path)) == path.read_bytes() == dataset_body(path.read_bytes())
    for given in ((inputs, labels), {"inputs": inputs, "labels": labels}):
        sent = read(dataset_body(given))
        assert np.array_equal(sent["inputs"], inputs) and np.array_equal(sent["labels"], labels)
    # lists, or a mix with lists, go as JSON
    assert dataset_body((inputs.tolist(), [1, -1, 1])) == {"inputs": inputs.tolist(), "labels": [1, -1, 1]}
    assert dataset_body((inputs, [1, -1, 1])) == {"inputs": inputs.tolist(), "labels": [1, -1, 1]}
    for wrong in ({"inputs": inputs}, (inputs,), 3):
        with pytest.raises(TypeError, match="upload_dataset takes"):
            dataset_body(wrong)
