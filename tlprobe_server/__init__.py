"""tlprobe's job layer: what the HTTP service and the workers share, and the client never needs.

Settings, every Redis key and the cache key, the result and dataset stores, the server's side of each
job kind (``kinds``: task, timeout, budget, picture, assembly), one submission pipeline for every kind
(``submission``, with ``capacity``, ``cancel`` and ``batches`` beside it), RQ's job records as public
views, budgets, phase diagrams (plan, fan-out, assembly, gain, catalogue) and the log format. It
imports no FastAPI and no numpy, and never ``service`` or ``worker``: both of them import it. The
contract it speaks is the client distribution's ``tlprobe.contract``.
"""
