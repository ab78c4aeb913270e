from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError
from rq import Worker

from tlprobe_server.queues import queues

from ..deps import MetricsDep, RedisDep, SettingsDep

router = APIRouter(tags=["health"])


@router.get("/healthz", name="healthz")
def healthz() -> dict[str, str]:
    """The process is up (nothing else is checked)."""
    return {"status": "ok"}


@router.get("/readyz", name="readyz", responses={503: {"description": "Redis unreachable or no worker alive."}})
def readyz(redis: RedisDep, settings: SettingsDep) -> JSONResponse:
    """Ready to compute: Redis answers and at least one worker is alive on the queues (``workers``: the
    live workers taking jobs from either queue)."""
    try:
        redis.ping()
        workers = len({key for queue in queues(redis, settings).values() for key in Worker.all_keys(queue=queue)})
    except RedisError as exc:
        return JSONResponse({"status": "unavailable", "redis": f"unreachable: {type(exc).__name__}", "workers": None},
                            status_code=503)
    ready = workers > 0
    return JSONResponse({"status": "ready" if ready else "unavailable", "redis": "ok", "workers": workers},
                        status_code=200 if ready else 503)


@router.get("/metrics", name="metrics", response_class=Response)
def metrics(metrics: MetricsDep) -> Response:
    """Prometheus text format: requests and latency per route, depth, jobs by status and workers of each
    queue (interactive, bulk), submissions by outcome (cached = cache hit), artifacts computed, jobs executed."""
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
