"""The .npy members of an uploaded .npz: their header alone, and their data streamed into a float64 matrix.

An .npy file is a magic string, a version, a header (dtype, order, shape), then the values' raw bytes
in C or Fortran order. ``read_header`` reads only the header: an upload's memory is reserved from the
declared shapes before any data is decompressed. ``stream_into`` then reads the data a chunk at a time
(``chunk_bytes`` of the file's own dtype) and converts each chunk into its place in the destination,
so that what decoding holds beyond the destination is one chunk, whatever the compression ratio.
Nothing is unpickled: object dtypes are refused by the caller from the header.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

CHUNK_BYTES = 1 << 20
HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


@dataclass(frozen=True)
class NpyHeader:
    shape: tuple[int, ...]
    fortran_order: bool
    dtype: np.dtype

    @property
    def count(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def data_bytes(self) -> int:
        return self.count * self.dtype.itemsize


def read_header(handle: BinaryIO) -> NpyHeader:
    """The header of the .npy file open in ``handle``, which is left at the start of the data.
    ValueError (or SyntaxError, EOFError) when there is none."""
    version = np.lib.format.read_magic(handle)
    if version not in HEADER_READERS:
        raise ValueError(f"unsupported .npy format version {version}")
    shape, fortran_order, dtype = HEADER_READERS[version](handle)
    return NpyHeader(tuple(int(n) for n in shape), bool(fortran_order), dtype)


class ShortData(EOFError):
    def __init__(self, got: int) -> None:
        super().__init__(f"the data end after {got} bytes")
        self.got = got


def read_exactly(handle: BinaryIO, size: int) -> bytes:
    """``size`` bytes, or ShortData (an EOFError) naming how many there were."""
    parts, got = [], 0
    while got < size:
        part = handle.read(size - got)
        if not part:
            raise ShortData(got)
        parts.append(part)
        got += len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _assign_flat(target: np.ndarray, start: int, values: np.ndarray) -> None:
    """``target`` (2-D) in C order, flattened, gets ``values`` from flat index ``start`` on."""
    width = target.shape[1]
    row, column = divmod(start, width)
    done = 0
    if column:  # the end of a row begun by the previous chunk
        done = min(width - column, len(values))
        target[row, column:column + done] = values[:done]
        row += 1
    rows = (len(values) - done) // width
    if rows:
        target[row:row + rows] = values[done:done + rows * width].reshape(rows, width)
        done += rows * width
        row += rows
    if done < len(values):  # the start of a row the next chunk ends
        target[row, :len(values) - done] = values[done:]


def stream_into(handle: BinaryIO, header: NpyHeader, out: np.ndarray, chunk_bytes: int = CHUNK_BYTES) -> None:
    """Read the data of a 2-D .npy file (its header already read) into ``out``: a C-order matrix of
    the header's shape, of any dtype the values convert to as numpy's ``astype`` converts them.
    EOFError when the file holds fewer values than its header declares (values beyond are ignored,
    as ``numpy.load`` ignores them)."""
    if out.shape != header.shape or len(header.shape) != 2:
        raise ValueError(f"destination {out.shape} for a file of shape {header.shape}")
    # A Fortran-order file lists the columns one after the other: in the transposed view of the
    # destination, they are its rows, in C order.
    target = out.T if header.fortran_order else out
    per_chunk = max(1, chunk_bytes // header.dtype.itemsize)
    done, total, itemsize = 0, header.count, header.dtype.itemsize
    while done < total:
        count = min(per_chunk, total - done)
        try:
            raw = read_exactly(handle, count * itemsize)
        except ShortData as short:
            raise EOFError(f"the data end after {done * itemsize + short.got} of the {total * itemsize} bytes "
                           "the header declares") from None
        values = np.frombuffer(raw, dtype=header.dtype)
        _assign_flat(target, done, values)
        done += count
