"""tlprobe HTTP service: validates requests, answers from the cache, queues the rest to RQ workers.

Nothing numerical is imported here: the service starts fast and never imports ``worker``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tlprobe")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
