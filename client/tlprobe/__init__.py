"""tlprobe's shared layer: what the HTTP service, the workers and the clients all speak.

The contract (request and result schemas), versions, settings, job kinds, cache and Redis keys, the
result store, submission, budgets and phase diagrams. It imports no FastAPI and no numpy, and it
never imports ``service`` or ``worker``: both of them import it.

``from tlprobe import Client`` (or ``AsyncClient``) gives the Python client of the HTTP API. It is
loaded on first use (PEP 562), so importing ``tlprobe`` stays light, and the client itself imports
no Redis, RQ, FastAPI or numpy.
"""

from .versions import SCHEMA_VERSION, SCIENCE_VERSION, __version__

_LAZY = {"Client": "client", "AsyncClient": "client"}

__all__ = ["SCHEMA_VERSION", "SCIENCE_VERSION", "__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
