"""Dependencies as Annotated aliases: the app's settings, Redis clients and metrics.

They are ``async def`` so that FastAPI calls them on the event loop: a plain ``def`` dependency is
run in the thread pool, a hand-off that costs more than the dependency itself.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from tlprobe.settings import Settings

from .metrics import Metrics


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _redis(request: Request) -> Redis:
    return request.app.state.redis


async def _async_redis(request: Request) -> AsyncRedis:
    return request.app.state.async_redis


async def _metrics(request: Request) -> Metrics:
    return request.app.state.metrics


SettingsDep = Annotated[Settings, Depends(_settings)]
RedisDep = Annotated[Redis, Depends(_redis)]
#: the asyncio client, for the read paths that run on the event loop (cached results)
AsyncRedisDep = Annotated[AsyncRedis, Depends(_async_redis)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]
