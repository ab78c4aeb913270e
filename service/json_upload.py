"""A dataset sent as JSON, ``{"inputs": [[...], ...], "labels": [...]}``: its memory foretold from the body,
then parsed and checked, stopping at the first error.

Parsing JSON builds a Python object per value, so what it holds depends on the body's shape more than
on its size: 8 MB of ``[0],[0],...`` rows become 200 MB of lists, 8 MB of nested ``[[[]]]`` 380 MB.
``memory_bytes`` foretells it from counts of the body's brackets and commas (one pass each, before
anything is parsed), so that the upload's memory is reserved like an .npz upload's. Anything a valid
upload cannot hold is refused before parsing: a non-ASCII byte (it would make Python hold the body four
bytes a character), strings other than the two keys, objects other than the body itself.

The body is parsed with ``json`` and checked here, not by pydantic: pydantic keeps a parsed copy of
its own beside the Python objects and reports every error of the body, which for 8 MB of ``{},{},..``
took 3.3 GB and half a minute. The rules are those of ``tlprobe.contract.datasets.DatasetUpload``
(strict numbers: true/false and strings are not numbers; NaN and infinities refused; no other keys),
and refusals are worded as pydantic words them.
"""

from __future__ import annotations

import json

FIELDS = ("inputs", "labels")
NUMBER_TYPES = frozenset((int, float))  # not bool: true and false are not numbers
NOT_A_NUMBER = "Input should be a valid number"
#: bytes held per '[' (a list, its item array, the pointer to it), per value (its pointer and a float
#: object; in the matrix, 8 more), and per body byte (the decoded text and the substrings of numbers)
PER_LIST, PER_VALUE, PER_BODY_BYTE = 112, 64, 2


class Invalid(ValueError):
    def __init__(self, reason: str, *loc) -> None:
        super().__init__(reason)
        self.reason, self.loc = reason, loc


def memory_bytes(body: bytes) -> int:
    """Bytes that parsing ``body`` and holding its values as Python objects and as a float64 matrix
    take at most; Invalid when the body cannot be an upload (see the module docstring)."""
    if not body.isascii():
        position = next(index for index, byte in enumerate(body) if byte > 127)
        raise Invalid(f"Invalid JSON: byte {position} is not ASCII, and an upload holds numbers only")
    if body.count(b'"') > 2 * len(FIELDS):
        raise Invalid('an upload is {"inputs": [[numbers]], "labels": [numbers]}: this body holds other strings or keys')
    if body.count(b"{") > 1:
        raise Invalid('an upload is {"inputs": [[numbers]], "labels": [numbers]}: this body holds objects inside it')
    return PER_BODY_BYTE * len(body) + PER_LIST * body.count(b"[") + PER_VALUE * (body.count(b",") + 1)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a finite number")


def _first_non_number(values: list) -> int | None:
    if set(map(type, values)) <= NUMBER_TYPES:
        return None
    return next(index for index, value in enumerate(values) if type(value) not in NUMBER_TYPES)


def parse(body: bytes) -> tuple[list[list], list]:
    """(rows, labels) as Python lists of numbers, every row a list (their lengths unchecked), or Invalid."""
    try:
        upload = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise Invalid(f"Invalid JSON: {exc}") from None
    if not isinstance(upload, dict):
        raise Invalid("Input should be a valid dictionary or object to extract fields from")
    for field in FIELDS:
        if field not in upload:
            raise Invalid("Field required", field)
    for field in upload:
        if field not in FIELDS:
            raise Invalid("Extra inputs are not permitted", field)
    rows, labels = upload["inputs"], upload["labels"]
    for field, value in upload.items():
        if not isinstance(value, list):
            raise Invalid("Input should be a valid list", field)
    for index, row in enumerate(rows):
        if not isinstance(row, list):
            raise Invalid("Input should be a valid list", "inputs", index)
        bad = _first_non_number(row)
        if bad is not None:
            raise Invalid(NOT_A_NUMBER, "inputs", index, bad)
    bad = _first_non_number(labels)
    if bad is not None:
        raise Invalid(NOT_A_NUMBER, "labels", bad)
    return rows, labels
