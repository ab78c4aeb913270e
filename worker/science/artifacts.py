"""Expensive intermediates (trained network, feature means, spectra) and their deterministic keys.

A key is ``<kind>:<sha256 of the canonical JSON of what determines it>``, including the science
version, so equal inputs always give equal keys and a changed engine never reads stale arrays.
Request fields added after artifacts were first stored (``LATER_FIELDS``) are left out of that JSON
while they hold the value that means "as before", so that the artifacts of requests that do not use
them (a trained network, spectra) keep their keys and stay valid.
The engine reads and writes artifacts through any object with ``load`` and ``save`` (the worker's
is Redis-backed); ``MemoryArtifactStore`` serves tests and the command line.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel

from tlprobe.contract.learning_curve import NetworkParams, ReadoutParams, SourceParams, TargetParams

from . import SCIENCE_VERSION

Arrays = dict[str, np.ndarray]
#: per model, the fields added after its artifacts were first keyed, and the value at which each means
#: what the model meant before it had the field (label noise 0, one hidden layer, the last layer)
LATER_FIELDS: dict[type[BaseModel], dict[str, object]] = {
    SourceParams: {"label_noise": 0.0},
    TargetParams: {"label_noise": 0.0},
    NetworkParams: {"hidden_layers": 1},
    ReadoutParams: {"transfer_layer": None},
}


class ArtifactStore(Protocol):
    def load(self, key: str) -> Arrays | None: ...

    def save(self, key: str, arrays: Arrays) -> None: ...


class MemoryArtifactStore:
    def __init__(self) -> None:
        self.arrays: dict[str, Arrays] = {}
        self.saves: dict[str, int] = {}  # how often each key was computed and saved

    def load(self, key: str) -> Arrays | None:
        return self.arrays.get(key)

    def save(self, key: str, arrays: Arrays) -> None:
        self.arrays[key] = arrays
        self.saves[key] = self.saves.get(key, 0) + 1


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        dump = value.model_dump(mode="json")
        for name, unchanged in LATER_FIELDS.get(type(value), {}).items():
            if name in dump and dump[name] == unchanged:
                del dump[name]
        return dump
    raise TypeError(f"cannot key an artifact on {type(value).__name__}")


def artifact_key(kind: str, **parts: Any) -> str:
    payload = {"kind": kind, "science_version": SCIENCE_VERSION, **parts}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False, default=_plain)
    return f"{kind}:{hashlib.sha256(canonical.encode()).hexdigest()[:40]}"
