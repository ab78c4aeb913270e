"""The FastAPI application: ``create_app()`` wires settings, Redis, routers, middleware and errors."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError, ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from tlprobe import __version__
from tlprobe_server import connections, logs
from tlprobe_server.capacity import QueueFull
from tlprobe_server.redis_memory import RedisFull
from tlprobe_server.replication import NotReplicated
from tlprobe_server.settings import Settings, get_settings
from tlprobe_server.submission import UnknownJob

from .access import RateLimited
from .hot_reads import HotReads
from .metrics import Metrics
from .middleware import BodySizeLimit, RequestId, RequestMetrics
from .routes import batches, datasets, gcm, health, jobs, learning_curves, phase_diagrams, ui
from .stored import ResultReader
from .upload_memory import UploadMemory

log = logging.getLogger(__name__)

DESCRIPTION = """Predicts how well features learned on a source task serve a correlated target task:
asymptotic test errors from the Gaussian covariate model (theory) and finite-size training runs
(simulation), for transferred features, random features, raw inputs, training from scratch and
fine-tuning. Heavy work runs on RQ workers; results are cached by their parameters."""


def allowed_methods(app: FastAPI, path: str) -> set[str]:
    """Methods of every documented operation whose path template matches ``path``."""
    table = getattr(app.state, "method_table", None)
    if table is None:
        table = [(compile_path(template)[0], {method.upper() for method in operations})
                 for template, operations in app.openapi()["paths"].items()]
        app.state.method_table = table
    return set().union(*(methods for regex, methods in table if regex.match(path)))


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.redis = connections.connect(settings)
        app.state.async_redis = connections.connect_async(settings)  # read paths on the event loop
        try:
            yield
        finally:
            app.state.redis.close()
            await app.state.async_redis.aclose()

    app = FastAPI(title="tlprobe", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  generate_unique_id_function=lambda route: route.name)
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.redis = app.state.async_redis = None
    app.state.result_reader = ResultReader(settings)
    app.state.upload_memory = UploadMemory(settings.max_upload_memory_bytes)
    metrics.watch_uploads(app.state.upload_memory)
    metrics.watch_redis(lambda: app.state.redis, settings)
    for module in (jobs, phase_diagrams, learning_curves, gcm, datasets, batches, health, ui):
        app.include_router(module.router)

    @app.exception_handler(RedisConnectionError)  # also: no primary known to the sentinels, Redis loading its file
    @app.exception_handler(RedisTimeoutError)
    async def redis_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("Redis unreachable during %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse({"detail": "Redis is unreachable: the service cannot queue or read jobs right now. "
                                       "Retry shortly."}, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(ReadOnlyError)
    async def redis_read_only(request: Request, exc: Exception) -> JSONResponse:
        log.warning("Redis read-only during %s %s (a replica, or a primary being demoted): %s", request.method,
                    request.url.path, exc)
        return JSONResponse({"detail": "Redis is failing over: the service cannot write right now. Retry shortly."},
                            status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(OutOfMemoryError)
    @app.exception_handler(RedisFull)
    async def redis_full(request: Request, exc: Exception) -> JSONResponse:
        log.error("Redis full during %s %s: %s", request.method, request.url.path, exc)
        detail = str(exc) if isinstance(exc, RedisFull) else ("Redis is out of memory: nothing can be stored right now "
                                                              "(its maxmemory is reached). Retry later.")
        return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": str(RedisFull.RETRY_AFTER)})

    @app.exception_handler(NotReplicated)
    async def not_replicated(request: Request, exc: NotReplicated) -> JSONResponse:
        log.warning("write not replicated during %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse({"detail": str(exc)}, status_code=503,
                            headers={"Retry-After": str(NotReplicated.RETRY_AFTER)})

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        """422 naming each field and reason; the offending input is not echoed (it may be huge, or NaN)."""
        detail = [{"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]} for error in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # list the methods of every route on this path, not only the first
            headers["Allow"] = ", ".join(sorted(allowed_methods(app, request.url.path)))
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(QueueFull)
    async def queue_full(request: Request, exc: QueueFull) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": str(QueueFull.RETRY_AFTER)})

    @app.exception_handler(RateLimited)
    async def rate_limited(request: Request, exc: RateLimited) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=429, headers={"Retry-After": str(exc.retry_after)})

    @app.exception_handler(UnknownJob)
    async def unknown(request: Request, exc: UnknownJob) -> JSONResponse:
        return JSONResponse({"detail": f"no such job or batch: {exc.args[0]}"}, status_code=404)

    app.add_middleware(RequestMetrics, metrics=metrics)
    uploads = {"/v1/datasets": (settings.max_dataset_upload_bytes, "TLPROBE_MAX_DATASET_UPLOAD_BYTES")}
    app.add_middleware(BodySizeLimit, limit=settings.max_body_bytes, paths=uploads)  # refuse oversized bodies first
    app.add_middleware(RequestId)  # every answer, a 413 included, carries the request id
    # outermost: a result read in the last seconds is answered before the rest (with its request id)
    app.add_middleware(HotReads, reader=app.state.result_reader, settings=settings, metrics=metrics)
    return app


def app() -> FastAPI:
    """Factory for ``uvicorn --factory service.main:app``: JSON-lines logs (uvicorn's included), the app."""
    logs.configure("api")
    return create_app()
