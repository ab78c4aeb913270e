from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError
from rq import Queue, Worker

from ..deps import MetricsDep, RedisDep, SettingsDep

router = APIRouter(tags=["health"])


@router.get("/healthz", name="healthz")
def healthz() -> dict[str, str]:
    """The process is up (nothing else is checked)."""
    return {"status": "ok"}


@router.get("/readyz", name="readyz", responses={503: {"description": "Redis unreachable or no worker alive."}})
def readyz(redis: RedisDep, settings: SettingsDep) -> JSONResponse:
    """Ready to compute: Redis answers and at least one worker is alive on the queue."""
    try:
        redis.ping()
        workers = Worker.count(queue=Queue(settings.queue_name, connection=redis))
    except RedisError as exc:
        return JSONResponse({"status": "unavailable", "redis": f"unreachable: {type(exc).__name__}", "workers": None},
                            status_code=503)
    ready = workers > 0
    return JSONResponse({"status": "ready" if ready else "unavailable", "redis": "ok", "workers": workers},
                        status_code=200 if ready else 503)


@router.get("/metrics", name="metrics", response_class=Response)
def metrics(metrics: MetricsDep) -> Response:
    """Prometheus text format: requests and latency per route, queue depth, jobs by status, workers,
    submissions by outcome (cached = cache hit), artifacts computed, jobs executed, and how long job runs took
    by kind and outcome (a histogram)."""
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
