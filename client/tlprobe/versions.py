"""The versions every result carries, and that every cache key includes.

``SCHEMA_VERSION`` changes when a request's meaning changes; ``SCIENCE_VERSION`` whenever the
engine would return a different number for the same request (new draws, a new default, a fixed
bug). Both are part of every cache key and artifact key, so a new engine never serves stale numbers.
"""

from importlib.metadata import PackageNotFoundError, version

SCHEMA_VERSION = "2"
SCIENCE_VERSION = "5"

try:
    __version__ = version("tlprobe")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
