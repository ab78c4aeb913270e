"""Reading an uploaded dataset: an .npz file or JSON in, the canonical dataset (``service.canonical``) out.

Imported only when a dataset is uploaded (it needs numpy; the service loads nothing numerical at
start-up), and run in the threadpool, in two steps:

- ``plan_upload`` reads only the .npy headers inside the archive (dtype, shape, order: a few hundred
  bytes decompressed, whatever the body declares), refuses what breaks a rule or a bound, and says
  how much memory decoding will hold (``UploadPlan.memory_bytes``: the route reserves it per process,
  ``service.upload_memory``, before anything is decoded);
- ``read_upload`` decodes: the inputs are decompressed a chunk at a time straight into their framed
  float64 buffer (one copy of the dataset, hashed and written to Redis as it is), the labels whole
  (n values).

Nothing is ever unpickled: the archive is opened with ``zipfile``, each array's header is read and
checked before its data, and object dtypes are refused. A refusal is an ``UploadRefused`` with the
HTTP status and the reason (422 names the array or the JSON field).

The ratio of declared to sent size has no bound of its own: deflate turns 365 kB into 256 MB of one
repeated value, and a real dataset of 0/1 pixels into a fiftieth of its size, so a bound tight
enough to matter would refuse real data. What such an upload can cost is bounded instead: its memory
by the reservation (from the declared size, not the sent one), its time by the chunked decoding of
at most ``max_dataset_bytes``, and how many decode at once by the per-process memory bound.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np
from redis.utils import HIREDIS_AVAILABLE

from tlprobe_server.settings import Settings

from . import json_upload
from .canonical import BLOCK_BYTES, FLOAT64, CanonicalDataset, FramedInputs, Refused, canonical
from .npy_stream import CHUNK_BYTES, NpyHeader, read_header, stream_into

NPZ_TYPES = ("application/octet-stream", "application/x-npz", "application/zip")
JSON_TYPES = ("application/json",)
NUMBER_KINDS = "biuf"  # bool, signed and unsigned integers, floats
PICKLE_MAGIC = b"\x80"
NPY_MAGIC = b"\x93NUMPY"
MEMBERS = ("inputs", "labels")
#: what numpy.savez and savez_compressed write, and what zipfile inflates no more than asked at a time
COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
#: beyond the matrix: zip's read buffers, one chunk of raw data and its join
DECODE_CHUNKS = 4
#: hiredis packs a command into one new bytes object, after copying each memoryview argument
WRITE_COPIES = 2 if HIREDIS_AVAILABLE else 0


class UploadRefused(Exception):
    def __init__(self, status: int, reason: str, loc: tuple = ("body",)) -> None:
        super().__init__(reason)
        self.status, self.reason, self.loc = status, reason, loc


@dataclass(frozen=True)
class UploadPlan:
    """An upload whose headers passed every check, and the memory its decoding will hold."""

    body: bytes
    media: str  # "npz" or "json"
    memory_bytes: int
    inputs: NpyHeader | None = None  # .npz only
    labels: NpyHeader | None = None


def _refuse(reason: str, *loc) -> UploadRefused:
    return UploadRefused(422, reason, ("body", *loc))


def _bounded_shape(name: str, shape: tuple, settings: Settings) -> None:
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


def _matching(samples: int, labels: int) -> None:
    if labels != samples:
        raise _refuse(f"{labels} labels for {samples} input rows: they must match", "labels")
    if samples < 2:
        raise _refuse(f"{samples} sample(s): at least 2 are needed", "inputs")


def _member_header(archive: zipfile.ZipFile, name: str, settings: Settings) -> NpyHeader:
    try:
        info = archive.getinfo(f"{name}.npy")
    except KeyError:
        raise _refuse(f"malformed file: the archive holds '{name}' but no '{name}.npy'", name) from None
    if info.compress_type not in COMPRESSIONS:
        # zipfile inflates a bzip2 or lzma member a whole read at a time, whatever was asked for
        raise _refuse(f"{name}.npy is compressed with zip method {info.compress_type}: send numpy.savez or "
                      "numpy.savez_compressed output (stored or deflated members)", name)
    if info.flag_bits & 0x1:
        raise _refuse(f"{name}.npy is encrypted", name)
    with archive.open(info) as handle:
        try:
            header = read_header(handle)
        except (ValueError, SyntaxError, EOFError, zlib.error) as exc:
            raise _refuse(f"malformed file: {name}.npy has no valid .npy header ({exc})", name) from None
    if header.dtype.hasobject:
        raise _refuse(f"{name} is an object array: refused (reading it would need unpickling, which is never done)",
                      name)
    if header.dtype.kind not in NUMBER_KINDS or header.dtype.fields is not None or header.dtype.subdtype is not None:
        raise _refuse(f"{name} has dtype {header.dtype}: expected real numbers (bool, integer or float)", name)
    _bounded_shape(name, header.shape, settings)
    return header


def _open_npz(body: bytes) -> zipfile.ZipFile:
    if body.startswith(PICKLE_MAGIC):
        raise _refuse("the body is a pickle: refused (pickles are never loaded); send numpy.savez(file, inputs=..., "
                      "labels=...)")
    if body.startswith(NPY_MAGIC):
        raise _refuse("the body is a single .npy array: send an .npz archive with two arrays, "
                      "numpy.savez(file, inputs=..., labels=...)")
    try:
        return zipfile.ZipFile(io.BytesIO(body))
    except (zipfile.BadZipFile, ValueError, EOFError, OSError):
        raise _refuse("malformed file: not an .npz archive (numpy.savez(file, inputs=..., labels=...))") from None


def npz_memory(inputs: NpyHeader, labels: NpyHeader) -> int:
    """Bytes that decoding an .npz with these headers holds at its peak (see ``read_upload``)."""
    samples, input_dim = inputs.shape
    matrix = FLOAT64.itemsize * samples * input_dim
    chunk = min(CHUNK_BYTES, inputs.data_bytes)
    # the checks and summaries: a block of rows of deviations and of flags (numpy's own std, whole,
    # for one column or a matrix within a block)
    block = matrix if input_dim == 1 or matrix <= BLOCK_BYTES else BLOCK_BYTES
    # the labels as sent, np.unique's sorted copy, the 0/1 flags, np.where's int64, int8, bytes, frame
    label_bytes = samples * (2 * labels.dtype.itemsize + 8 + 4)
    framed = FramedInputs.size(samples, input_dim)
    return framed * (1 + WRITE_COPIES) + DECODE_CHUNKS * chunk + 2 * block + label_bytes + 64 * 1024


def plan_npz(body: bytes, settings: Settings) -> UploadPlan:
    archive = _open_npz(body)
    try:
        with archive:
            names = {name[:-4] if name.endswith(".npy") else name for name in archive.namelist()}
            for name in MEMBERS:
                if name not in names:
                    raise _refuse(f"missing array '{name}': the archive holds {sorted(names) or 'nothing'}", name)
            extra = sorted(names - set(MEMBERS))
            if extra:
                raise _refuse(f"unexpected arrays {extra}: an upload holds exactly 'inputs' and 'labels'")
            inputs, labels = (_member_header(archive, name, settings) for name in MEMBERS)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _refuse(f"malformed file: {exc}") from None
    _matching(inputs.shape[0], labels.shape[0])
    return UploadPlan(body=body, media="npz", memory_bytes=npz_memory(inputs, labels), inputs=inputs, labels=labels)


def plan_upload(body: bytes, content_type: str, settings: Settings) -> UploadPlan:
    """What the body holds as far as its headers tell, or UploadRefused (415 for an unknown content type)."""
    media = content_type.split(";")[0].strip().lower()
    if media in JSON_TYPES:
        if len(body) > settings.max_body_bytes:
            raise UploadRefused(413, f"a JSON upload is limited to {settings.max_body_bytes} bytes "
                                "(TLPROBE_MAX_BODY_BYTES): send larger datasets as an .npz file "
                                "(application/octet-stream)")
        try:
            parsing = json_upload.memory_bytes(body)
        except json_upload.Invalid as exc:
            raise _refuse(exc.reason, *exc.loc) from None
        return UploadPlan(body=body, media="json", memory_bytes=parsing + 2 * BLOCK_BYTES + 64 * 1024)
    if media in NPZ_TYPES:
        return plan_npz(body, settings)
    raise UploadRefused(415, f"content type '{media or 'none'}' is not accepted: send an .npz file as "
                        "application/octet-stream, or JSON {\"inputs\": [[...]], \"labels\": [...]} as application/json")


def _read_data(archive: zipfile.ZipFile, name: str, reader):
    with archive.open(f"{name}.npy") as handle:
        try:
            return reader(handle)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            raise _refuse(f"malformed file: the data of {name}.npy cannot be read ({exc})", name) from None


def read_npz(plan: UploadPlan, chunk_bytes: int = CHUNK_BYTES) -> tuple[FramedInputs, np.ndarray]:
    inputs = FramedInputs(*plan.inputs.shape)

    def stream(handle) -> None:
        stream_into(handle, read_header(handle), inputs.matrix, chunk_bytes)

    with zipfile.ZipFile(io.BytesIO(plan.body)) as archive:
        _read_data(archive, "inputs", stream)
        labels = _read_data(archive, "labels", lambda handle: np.lib.format.read_array(handle, allow_pickle=False))
    return inputs, labels


def read_json(plan: UploadPlan, settings: Settings) -> tuple[FramedInputs, np.ndarray]:
    try:
        rows, labels = json_upload.parse(plan.body)
    except json_upload.Invalid as exc:
        raise _refuse(exc.reason, *exc.loc) from None
    widths = {len(row) for row in rows}
    if len(widths) > 1:
        raise _refuse(f"rows have different lengths ({min(widths)} .. {max(widths)}): inputs must be n x N", "inputs")
    shape = (len(rows), widths.pop() if widths else 0)
    _bounded_shape("inputs", shape, settings)
    _matching(shape[0], len(labels))
    inputs = FramedInputs(*shape)
    for index, row in enumerate(rows):
        try:
            inputs.matrix[index] = row
        except OverflowError:  # an integer beyond float64's range
            raise _refuse("Input should be a finite number", "inputs", index) from None
    try:
        return inputs, np.array(labels, dtype=np.float64)
    except OverflowError:
        raise _refuse("Input should be a finite number", "labels") from None


def read_upload(plan: UploadPlan, settings: Settings) -> CanonicalDataset:
    """The canonical dataset of a planned upload, or UploadRefused (422)."""
    if plan.media == "json":
        inputs, labels = read_json(plan, settings)
        finite = False
    else:
        inputs, labels = read_npz(plan)
        finite = plan.inputs.dtype.kind in "biu"
    try:
        return canonical(inputs, labels, finite=finite)
    except Refused as exc:
        raise _refuse(exc.reason, exc.name) from None
