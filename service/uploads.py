"""Reading an uploaded dataset: an .npz file or JSON in, canonical framed arrays and a description out.

Imported only when a dataset is uploaded (it needs numpy; the service loads nothing numerical at
start-up), and run in the threadpool. Nothing is ever unpickled: the archive is opened with
``zipfile``, each array's header is read and checked (dtype, shape, size against the bounds) before
its data, and the data are read with ``allow_pickle=False``. A refusal is an ``UploadRefused``
with the HTTP status and the reason (422 names the array or the JSON field).

Canonical form: inputs as C-order float64, labels as int8 +-1 (labels 0/1 map 0 -> -1). The id
is "ds-" and the first 40 hex digits of the sha256 of the framed canonical arrays, so the same data
sent as float32 or float64, as .npz or JSON, with 0/1 or -1/+1 labels, is one dataset.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
from pydantic import ValidationError

from tlprobe.contract.datasets import DATASET_PREFIX, DatasetDescription, DatasetUpload, FeatureSummary
from tlprobe_server.arrays import frame
from tlprobe_server.settings import Settings

NPZ_TYPES = ("application/octet-stream", "application/x-npz", "application/zip")
JSON_TYPES = ("application/json",)
NUMBER_KINDS = "biuf"  # bool, signed and unsigned integers, floats
PICKLE_MAGIC = b"\x80"
NPY_MAGIC = b"\x93NUMPY"
HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


class UploadRefused(Exception):
    def __init__(self, status: int, reason: str, loc: tuple = ("body",)) -> None:
        super().__init__(reason)
        self.status, self.reason, self.loc = status, reason, loc


@dataclass(frozen=True)
class CanonicalDataset:
    description: DatasetDescription
    arrays: dict[str, bytes]  # framed ``inputs`` and ``labels``


def _refuse(reason: str, *loc) -> UploadRefused:
    return UploadRefused(422, reason, ("body", *loc))


def _bounded_shape(name: str, shape: tuple, settings: Settings, itemsize: int = 8) -> None:
    """Refuse an array whose shape breaks a bound (checked from its header, before any data is read)."""
    want = 2 if name == "inputs" else 1
    if len(shape) != want:
        raise _refuse(f"{name} must be {'an n x N matrix' if want == 2 else 'a vector of n labels'}, "
                      f"got shape {tuple(shape)}", name)
    if shape[0] > settings.max_dataset_samples:
        raise _refuse(f"{shape[0]} samples: at most {settings.max_dataset_samples} (TLPROBE_MAX_DATASET_SAMPLES)", name)
    if name == "inputs":
        if shape[1] > settings.max_dataset_input_dim or shape[1] < 1:
            raise _refuse(f"input dimension N = {shape[1]}: must be 1 .. {settings.max_dataset_input_dim} "
                          "(TLPROBE_MAX_DATASET_INPUT_DIM)", name)
        stored = 8 * shape[0] * shape[1] + shape[0]
        if stored > settings.max_dataset_bytes:
            raise UploadRefused(413, f"{shape[0]} x {shape[1]} inputs take {stored} bytes as float64, more than "
                                f"the {settings.max_dataset_bytes} bytes one dataset may take "
                                "(TLPROBE_MAX_DATASET_BYTES): send fewer samples or features")


def _read_member(archive: zipfile.ZipFile, name: str, settings: Settings) -> np.ndarray:
    with archive.open(f"{name}.npy") as handle:
        try:
            version = np.lib.format.read_magic(handle)
            if version not in HEADER_READERS:
                raise ValueError(f"unsupported .npy format version {version}")
            shape, _, dtype = HEADER_READERS[version](handle)
        except (ValueError, SyntaxError, EOFError) as exc:
            raise _refuse(f"malformed file: {name}.npy has no valid .npy header ({exc})", name) from None
    if dtype.hasobject:
        raise _refuse(f"{name} is an object array: refused (reading it would need unpickling, which is never done)",
                      name)
    if dtype.kind not in NUMBER_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise _refuse(f"{name} has dtype {dtype}: expected real numbers (bool, integer or float)", name)
    _bounded_shape(name, shape, settings)
    with archive.open(f"{name}.npy") as handle:
        try:
            return np.lib.format.read_array(handle, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise _refuse(f"malformed file: the data of {name}.npy cannot be read ({exc})", name) from None


def read_npz(body: bytes, settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    if body.startswith(PICKLE_MAGIC):
        raise _refuse("the body is a pickle: refused (pickles are never loaded); send numpy.savez(file, inputs=..., "
                      "labels=...)")
    if body.startswith(NPY_MAGIC):
        raise _refuse("the body is a single .npy array: send an .npz archive with two arrays, "
                      "numpy.savez(file, inputs=..., labels=...)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
        names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, EOFError, OSError):
        raise _refuse("malformed file: not an .npz archive (numpy.savez(file, inputs=..., labels=...))") from None
    with archive:
        arrays = {name[:-4] if name.endswith(".npy") else name for name in names}
        for name in ("inputs", "labels"):
            if name not in arrays:
                raise _refuse(f"missing array '{name}': the archive holds {sorted(arrays) or 'nothing'}", name)
        extra = sorted(arrays - {"inputs", "labels"})
        if extra:
            raise _refuse(f"unexpected arrays {extra}: an upload holds exactly 'inputs' and 'labels'")
        try:
            return _read_member(archive, "inputs", settings), _read_member(archive, "labels", settings)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise _refuse(f"malformed file: {exc}") from None


def read_json(body: bytes, settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    try:
        upload = DatasetUpload.model_validate_json(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise _refuse(f"{error['msg']} ({len(exc.errors())} error(s))", *error["loc"]) from None
    widths = {len(row) for row in upload.inputs}
    if len(widths) > 1:
        raise _refuse(f"rows have different lengths ({min(widths)} .. {max(widths)}): inputs must be n x N", "inputs")
    inputs = np.array(upload.inputs, dtype=np.float64).reshape(len(upload.inputs), widths.pop() if widths else 0)
    _bounded_shape("inputs", inputs.shape, settings)
    return inputs, np.array(upload.labels, dtype=np.float64)


def _canonical_labels(labels: np.ndarray) -> np.ndarray:
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        raise _refuse("labels contain NaN or infinite values", "labels")
    values = set(np.unique(labels).tolist())
    if not (values <= {-1, 1} or values <= {0, 1}):
        shown = sorted(values - {-1, 0, 1})[:5] or sorted(values)
        raise _refuse(f"labels must all be in {{-1, +1}} or all in {{0, 1}}; found {shown}", "labels")
    return np.where(labels > 0, 1, -1).astype(np.int8)


def canonical(inputs: np.ndarray, labels: np.ndarray) -> CanonicalDataset:
    """Validate values, convert to the canonical form, and describe (see the module docstring)."""
    if inputs.shape[0] != labels.shape[0]:
        raise _refuse(f"{labels.shape[0]} labels for {inputs.shape[0]} input rows: they must match", "labels")
    if inputs.shape[0] < 2:
        raise _refuse(f"{inputs.shape[0]} sample(s): at least 2 are needed", "inputs")
    inputs = np.ascontiguousarray(inputs, dtype=np.float64)
    bad = ~np.isfinite(inputs)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise _refuse(f"inputs contain {int(bad.sum())} NaN or infinite value(s), the first at row {row}, column {col}",
                      "inputs")
    signs = _canonical_labels(labels)
    positives = int(np.sum(signs > 0))
    if positives in (0, len(signs)):
        raise _refuse(f"all {len(signs)} labels are {'+1' if positives else '-1 (or 0)'}: a single class cannot be "
                      "learned", "labels")
    arrays = {"inputs": frame(inputs.dtype.str, inputs.shape, inputs.tobytes()),
              "labels": frame(signs.dtype.str, signs.shape, signs.tobytes())}
    digest = hashlib.sha256(arrays["inputs"] + arrays["labels"]).hexdigest()
    means, scales = inputs.mean(axis=0), inputs.std(axis=0)
    constant = int(np.sum(inputs.max(axis=0) == inputs.min(axis=0)))

    def summary(values: np.ndarray) -> FeatureSummary:
        return FeatureSummary(min=float(values.min()), median=float(np.median(values)), max=float(values.max()))

    description = DatasetDescription(
        dataset_id=f"{DATASET_PREFIX}-{digest[:40]}", samples=inputs.shape[0], input_dim=inputs.shape[1],
        positives=positives, negatives=len(signs) - positives, positive_fraction=positives / len(signs),
        feature_mean=summary(means), feature_scale=summary(scales), constant_features=constant,
        size_bytes=sum(len(a) for a in arrays.values()), created_at=datetime.now(timezone.utc))
    return CanonicalDataset(description=description, arrays=arrays)


def read_upload(body: bytes, content_type: str, settings: Settings) -> CanonicalDataset:
    """The canonical dataset of a request body, or UploadRefused (415 for an unknown content type)."""
    media = content_type.split(";")[0].strip().lower()
    if media in JSON_TYPES:
        if len(body) > settings.max_body_bytes:
            raise UploadRefused(413, f"a JSON upload is limited to {settings.max_body_bytes} bytes "
                                "(TLPROBE_MAX_BODY_BYTES): send larger datasets as an .npz file "
                                "(application/octet-stream)")
        return canonical(*read_json(body, settings))
    if media in NPZ_TYPES:
        return canonical(*read_npz(body, settings))
    raise UploadRefused(415, f"content type '{media or 'none'}' is not accepted: send an .npz file as "
                        "application/octet-stream, or JSON {\"inputs\": [[...]], \"labels\": [...]} as application/json")
