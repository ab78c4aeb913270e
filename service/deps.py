"""Dependencies as Annotated aliases: the app's settings, Redis connection and metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from redis import Redis

from tlprobe.settings import Settings

from .metrics import Metrics


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _redis(request: Request) -> Redis:
    return request.app.state.redis


def _metrics(request: Request) -> Metrics:
    return request.app.state.metrics


SettingsDep = Annotated[Settings, Depends(_settings)]
RedisDep = Annotated[Redis, Depends(_redis)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]
