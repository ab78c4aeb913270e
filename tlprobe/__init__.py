"""tlprobe's shared layer: what the HTTP service, the workers and the clients all speak.

The contract (request and result schemas), versions, settings, job kinds, cache and Redis keys, the
result store, submission, budgets and phase diagrams. It imports no FastAPI and no numpy, and it
never imports ``service`` or ``worker``: both of them import it.
"""

from .versions import SCHEMA_VERSION, SCIENCE_VERSION, __version__

__all__ = ["SCHEMA_VERSION", "SCIENCE_VERSION", "__version__"]
