from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError

from tlprobe_server import live_workers
from tlprobe_server.queues import queues

from ..deps import MetricsDep, RedisDep, SettingsDep

router = APIRouter(tags=["health"])


@router.get("/healthz", name="healthz")
def healthz() -> dict[str, str]:
    """The process is up (nothing else is checked)."""
    return {"status": "ok"}


@router.get("/readyz", name="readyz", responses={503: {"description": "Redis unreachable."}})
def readyz(redis: RedisDep, settings: SettingsDep) -> JSONResponse:
    """Ready to take submissions: Redis answers. Whether workers are running is reported beside it
    (`workers`: live workers taking jobs from either queue; `queued`: jobs waiting in both) but is not
    required: with the workers scaled to zero, submissions are accepted and wait in the queues for one
    to start."""
    try:
        redis.ping()
        waiting = queues(redis, settings)
        workers = live_workers.count(redis, *(queue.name for queue in waiting.values()))
        queued = sum(queue.count for queue in waiting.values())
    except RedisError as exc:
        return JSONResponse({"status": "unavailable", "redis": f"unreachable: {type(exc).__name__}", "workers": None,
                             "queued": None}, status_code=503)
    return JSONResponse({"status": "ready", "redis": "ok", "workers": workers, "queued": queued}, status_code=200)


@router.get("/metrics", name="metrics", response_class=Response)
def metrics(metrics: MetricsDep) -> Response:
    """Prometheus text format: requests and latency per route, depth, jobs by status and workers of each
    queue (interactive, bulk), submissions by outcome (cached = cache hit), artifacts computed, jobs executed."""
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
