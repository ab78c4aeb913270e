"""The bare FastAPI endpoint that ``bench.cached_reads`` compares the API against.

One route, ``GET /bare/{name}`` (and ``POST``), answering a constant body read at start-up from
``$BENCH_BODIES/<name>.json``: the framework's own cost for a body of the same size, with nothing
behind it (no Redis, no middleware, no dependencies).
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, Response

BODIES = {path.stem: path.read_bytes() for path in Path(os.environ.get("BENCH_BODIES", ".")).glob("*.json")}
app = FastAPI()


@app.get("/bare/{name}")
async def bare(name: str) -> Response:
    return Response(BODIES[name], media_type="application/json")


@app.post("/bare/{name}")
async def bare_post(name: str) -> Response:
    return Response(BODIES[name], media_type="application/json")
