"""What happens once a diagram tile's result is stored (``contract.diagram_tile``).

A tile's result only lists its curves, whose results are stored under their own learning-curve ids,
some of them earlier (computed before, by another tile or through ``POST /v1/learning-curves``). A
resubmitted diagram whose tile is a cache hit reads those curves, so they must live at least as long
as the tile's result: their lifetimes are renewed to the tile's when it is stored.
"""

from __future__ import annotations

from redis import Redis

from tlprobe.contract.diagram_tile import DiagramTileRequest, DiagramTileResult

from .. import keys
from ..settings import Settings


def keep_curves(job_id: str, request: DiagramTileRequest, result: DiagramTileResult, redis: Redis,
                settings: Settings) -> None:
    with redis.pipeline(transaction=False) as pipe:
        for curve in result.curves:
            pipe.expire(keys.result(curve.job_id), settings.result_ttl)
        pipe.execute()
