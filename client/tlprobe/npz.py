"""Writing an ``.npz`` file without numpy, for the client's uploads (the client imports no numpy).

An .npz file is a zip archive of ``.npy`` files; an .npy file is a magic string, a version, a
little-endian header length, a header (the repr of a dict: dtype, order, shape) padded with spaces
to a multiple of 64 bytes and ended by a newline, then the array's raw bytes in C order. The arrays
are taken by duck typing (``dtype``, ``shape``, ``tobytes``): numpy arrays, or anything that acts
like one. Object arrays are refused here (the service refuses them too: it never unpickles).
"""

from __future__ import annotations

import io
import struct
import zipfile
from typing import Any

MAGIC = b"\x93NUMPY\x01\x00"
ALIGN = 64


def is_array(value: Any) -> bool:
    return all(hasattr(value, name) for name in ("dtype", "shape", "tobytes"))


def npy(array: Any) -> bytes:
    """The .npy file of ``array`` (version 1.0)."""
    descr = array.dtype.str
    if "O" in descr or getattr(array.dtype, "hasobject", False):
        raise TypeError("object arrays cannot be uploaded: give numbers")
    shape = tuple(int(n) for n in array.shape)
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode("latin1")
    padding = ALIGN - (len(MAGIC) + 2 + len(header) + 1) % ALIGN
    header += b" " * (padding % ALIGN) + b"\n"
    return MAGIC + struct.pack("<H", len(header)) + header + array.tobytes(order="C")


def write_npz(arrays: dict[str, Any]) -> bytes:
    """The bytes of an .npz file holding ``arrays`` (name -> array), uncompressed like ``numpy.savez``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            archive.writestr(f"{name}.npy", npy(array))
    return buffer.getvalue()
