"""Dependencies as Annotated aliases: the app's settings, Redis connection and metrics.

They are ``async def`` so that FastAPI calls them on the event loop: a plain ``def`` dependency is
run in the thread pool, a hand-off that costs more than the dependency itself. The hot read paths
(cached results) declare none and read ``request.app.state`` instead (see service/stored.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from redis import Redis

from tlprobe_server.settings import Settings

from .metrics import Metrics


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _redis(request: Request) -> Redis:
    return request.app.state.redis


async def _metrics(request: Request) -> Metrics:
    return request.app.state.metrics


SettingsDep = Annotated[Settings, Depends(_settings)]
RedisDep = Annotated[Redis, Depends(_redis)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]
