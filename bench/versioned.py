"""Study caches keyed by science version ("v3/..."): which version a cache holds, and its rows.

A study computes what is missing at the engine's current science version; its write-up reads the newest
version the cache holds and says which it is, so a cache computed before a version bump is still shown
(labelled with the version that computed it) until the study is run again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import finite_size as fs
from worker.science import SCIENCE_VERSION


def version_of(key: str) -> int:
    return int(key.split("/", 1)[0].removeprefix("v"))


def latest(keys) -> int | None:
    """The newest science version among cache keys, None for none."""
    versions = [version_of(key) for key in keys]
    return max(versions) if versions else None


def newest(path: Path) -> tuple[dict[str, Any], int]:
    """A study's cache at ``path`` and the newest version it holds (FileNotFoundError when it holds none)."""
    cache = fs.load(path)
    version = latest(cache)
    if version is None:
        raise FileNotFoundError(path)
    return cache, version


def at(cache: dict[str, Any], version: int) -> dict[str, Any]:
    """The entries of ``version``, their keys without the version prefix."""
    return {key.split("/", 1)[1]: entry for key, entry in cache.items() if version_of(key) == version}


def finite_size_rows(entries: dict[str, Any]) -> list[dict[str, Any]]:
    """``finite_size.rows`` of entries keyed like its cache without the version prefix (whatever version
    computed them)."""
    return fs.rows({f"v{SCIENCE_VERSION}/{key}": entry for key, entry in entries.items()})
