"""The canonical form of an uploaded dataset, made with one copy of its inputs: checks, id and description.

Canonical form: inputs as C-order float64, labels as int8 +-1 (labels 0/1 map 0 -> -1), each framed as
in ``tlprobe_server.arrays``. The id is "ds-" and the first 40 hex digits of the sha256 of the framed inputs
followed by the framed labels, so the same data sent as float32 or float64, as .npz or JSON, with 0/1
or -1/+1 labels, is one dataset.

The inputs are decoded straight into ``FramedInputs``: one buffer holding the frame's header and then
the matrix, which is at once the array that is checked and described, the bytes that are hashed, and
the value written to Redis (a memoryview: no copy on the way). The checks and summaries go over the
matrix a block of rows at a time, so that their temporaries are one block, not another matrix; each
summary is the number numpy computes over the whole matrix, to the last bit (tests/service/test_canonical.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from tlprobe.contract.datasets import DATASET_PREFIX, DatasetDescription, FeatureSummary
from tlprobe_server.arrays import frame

BLOCK_BYTES = 4 << 20
FLOAT64 = np.dtype(np.float64)


class Refused(Exception):
    """Content refused (422), naming the array; ``uploads`` turns it into its ``UploadRefused``."""

    def __init__(self, reason: str, name: str) -> None:
        super().__init__(reason)
        self.reason, self.name = reason, name


class FramedInputs:
    """An n x N float64 matrix placed right after its frame header in one buffer (the stored bytes).
    The matrix starts at an 8-byte aligned address, as numpy's own arrays do."""

    def __init__(self, samples: int, input_dim: int) -> None:
        header = frame(FLOAT64.str, (samples, input_dim), b"")
        size = len(header) + FLOAT64.itemsize * samples * input_dim
        self._buffer = np.empty(size + FLOAT64.alignment, dtype=np.uint8)
        start = -(self._buffer.ctypes.data + len(header)) % FLOAT64.alignment
        self._buffer[start:start + len(header)] = np.frombuffer(header, dtype=np.uint8)
        self.bytes = memoryview(self._buffer[start:start + size])  # 1-D, unsigned bytes: len() is the byte count
        self.matrix = self._buffer[start + len(header):start + size].view(FLOAT64).reshape(samples, input_dim)

    @staticmethod
    def size(samples: int, input_dim: int) -> int:
        """Bytes the buffer takes."""
        return len(frame(FLOAT64.str, (samples, input_dim), b"")) + FLOAT64.itemsize * (samples * input_dim + 1)


@dataclass(frozen=True)
class CanonicalDataset:
    description: DatasetDescription
    arrays: dict[str, bytes | memoryview]  # framed ``inputs`` and ``labels``


def block_rows(input_dim: int, block_bytes: int = BLOCK_BYTES) -> int:
    return max(1, block_bytes // (FLOAT64.itemsize * input_dim))


def check_finite(inputs: np.ndarray, block_bytes: int = BLOCK_BYTES) -> None:
    """Refuse NaN and infinite inputs, naming how many and the first (row, column) in row order."""
    rows, bad, first = block_rows(inputs.shape[1], block_bytes), 0, None
    for start in range(0, inputs.shape[0], rows):
        block = ~np.isfinite(inputs[start:start + rows])
        count = int(block.sum())
        if count and first is None:
            row, column = np.argwhere(block)[0]
            first = (start + int(row), int(column))
        bad += count
    if bad:
        raise Refused(f"inputs contain {bad} NaN or infinite value(s), the first at row {first[0]}, column {first[1]}",
                      "inputs")


def column_std(inputs: np.ndarray, means: np.ndarray, block_bytes: int = BLOCK_BYTES) -> np.ndarray:
    """``inputs.std(axis=0)`` to the last bit, with one block of rows as temporary (numpy's own makes a
    whole matrix of deviations). numpy sums the squared deviations over axis 0 row after row, starting
    from the first row; each block continues that sum by adding the running total to its own first row.
    A single column is summed pairwise by numpy (it is contiguous): its deviations are taken whole, as
    are those of a matrix no larger than a block."""
    if inputs.shape[1] == 1 or inputs.nbytes <= block_bytes:
        return inputs.std(axis=0)
    rows = block_rows(inputs.shape[1], block_bytes)
    total = np.zeros(inputs.shape[1])
    for start in range(0, inputs.shape[0], rows):
        squares = np.subtract(inputs[start:start + rows], means)
        np.square(squares, out=squares)
        squares[0] += total
        total = np.add.reduce(squares, axis=0)
    return np.sqrt(np.true_divide(total, inputs.shape[0], out=total), out=total)


def canonical_labels(labels: np.ndarray) -> np.ndarray:
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        raise Refused("labels contain NaN or infinite values", "labels")
    values = set(np.unique(labels).tolist())
    if not (values <= {-1, 1} or values <= {0, 1}):
        shown = sorted(values - {-1, 0, 1})[:5] or sorted(values)
        raise Refused(f"labels must all be in {{-1, +1}} or all in {{0, 1}}; found {shown}", "labels")
    return np.where(labels > 0, 1, -1).astype(np.int8)


def canonical(inputs: FramedInputs, labels: np.ndarray, finite: bool = False) -> CanonicalDataset:
    """Check the values, frame the labels, hash, describe. ``finite``: the inputs are known finite
    (decoded from integers or booleans), which skips that check."""
    matrix = inputs.matrix
    if not finite:
        check_finite(matrix)
    signs = canonical_labels(labels)
    positives = int(np.sum(signs > 0))
    if positives in (0, len(signs)):
        raise Refused(f"all {len(signs)} labels are {'+1' if positives else '-1 (or 0)'}: a single class cannot be "
                      "learned", "labels")
    framed_labels = frame(signs.dtype.str, signs.shape, signs.tobytes())
    digest = hashlib.sha256(inputs.bytes)
    digest.update(framed_labels)
    means = matrix.mean(axis=0)
    scales = column_std(matrix, means)
    constant = int(np.sum(matrix.max(axis=0) == matrix.min(axis=0)))

    def summary(values: np.ndarray) -> FeatureSummary:
        return FeatureSummary(min=float(values.min()), median=float(np.median(values)), max=float(values.max()))

    description = DatasetDescription(
        dataset_id=f"{DATASET_PREFIX}-{digest.hexdigest()[:40]}", samples=matrix.shape[0], input_dim=matrix.shape[1],
        positives=positives, negatives=len(signs) - positives, positive_fraction=positives / len(signs),
        feature_mean=summary(means), feature_scale=summary(scales), constant_features=constant,
        size_bytes=len(inputs.bytes) + len(framed_labels), created_at=datetime.now(timezone.utc))
    return CanonicalDataset(description=description, arrays={"inputs": inputs.bytes, "labels": framed_labels})
