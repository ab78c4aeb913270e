from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError
from rq import Queue

from tlprobe_server import live_workers

from ..deps import MetricsDep, RedisDep, SettingsDep

router = APIRouter(tags=["health"])


@router.get("/healthz", name="healthz")
def healthz() -> dict[str, str]:
    """The process is up (nothing else is checked)."""
    return {"status": "ok"}


@router.get("/readyz", name="readyz", responses={503: {"description": "Redis unreachable."}})
def readyz(redis: RedisDep, settings: SettingsDep) -> JSONResponse:
    """Ready to take submissions: Redis answers. Whether workers are running is reported beside it
    (`workers`: live workers on the queue; `queued`: jobs waiting) but is not required: with the
    workers scaled to zero, submissions are accepted and wait in the queue for one to start."""
    try:
        redis.ping()
        workers = live_workers.count(redis, settings.queue_name)
        queued = redis.llen(Queue(settings.queue_name, connection=redis).key)
    except RedisError as exc:
        return JSONResponse({"status": "unavailable", "redis": f"unreachable: {type(exc).__name__}", "workers": None,
                             "queued": None}, status_code=503)
    return JSONResponse({"status": "ready", "redis": "ok", "workers": workers, "queued": queued}, status_code=200)


@router.get("/metrics", name="metrics", response_class=Response)
def metrics(metrics: MetricsDep) -> Response:
    """Prometheus text format: requests and latency per route, queue depth, jobs by status, workers,
    submissions by outcome (cached = cache hit), artifacts computed, jobs executed."""
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
