"""OpenTelemetry traces, from a request through the queue into the worker's job.

Off by default. ``TLPROBE_OTLP_ENDPOINT`` (or the standard ``OTEL_EXPORTER_OTLP_ENDPOINT``), the base
URL of an OTLP/HTTP collector such as ``http://otel-collector:4318``, turns it on in the API and the
workers (``configure``): spans are batched and sent to ``<endpoint>/v1/traces``, and the SDK's own
``OTEL_*`` variables apply (``OTEL_EXPORTER_OTLP_HEADERS``, ``OTEL_TRACES_SAMPLER``,
``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``). Off, nothing of OpenTelemetry is imported and
every function here returns at once.

What is traced (on): each HTTP request is a server span continuing the caller's W3C ``traceparent``
(``service.middleware.Tracing``); a submission is a span within it (``submit <kind>``, with the job
id and whether it was cached, joined or queued), whose context is stored in the meta of the job it
queues (``trace``, beside ``request_id``); the worker continues that context around the job's
computation (``job <kind>``, a consumer span) with one child span per stage the computation reports
(``stage <name>``: the progress callback's stages). A phase diagram's parts are queued inside the
diagram's submission span, so the whole diagram is one trace. A job joined by a later identical
request keeps the trace of the request that queued it (as it keeps its request id).
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from typing import Any, Iterator

log = logging.getLogger(__name__)

#: the tracer and its provider when tracing is on, else None
_tracer: Any = None
_provider: Any = None
#: how long a worker's work horse waits for its spans to be sent before it exits (ms)
FLUSH_TIMEOUT_MS = 5000


def enabled() -> bool:
    return _tracer is not None


def enable(provider: Any) -> None:
    """Trace with ``provider`` (an SDK ``TracerProvider``): what ``configure`` does, and what a test does
    with a provider exporting to memory. Not the global provider: other code in the process is not traced."""
    global _tracer, _provider
    from tlprobe import __version__

    _provider, _tracer = provider, provider.get_tracer("tlprobe", __version__)


def disable() -> None:
    global _tracer, _provider
    _tracer = _provider = None


def configure(component: str, endpoint: str) -> bool:
    """Turn tracing on with the OTLP/HTTP exporter when ``endpoint`` is set (once per process; ``component``:
    ``api`` or ``worker``, the default service name ``tlprobe-<component>``). Whether tracing is on."""
    if _tracer is not None or not endpoint:
        return _tracer is not None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from tlprobe import __version__

    attributes = {"service.version": __version__}
    if not os.environ.get("OTEL_SERVICE_NAME"):
        attributes["service.name"] = f"tlprobe-{component}"
    provider = TracerProvider(resource=Resource.create(attributes))  # the sampler from OTEL_TRACES_SAMPLER
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")))
    enable(provider)
    log.info("tracing on: spans sent to %s/v1/traces", endpoint.rstrip("/"))
    return True


def _propagator():
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator()


def carrier() -> dict[str, str]:
    """The current span's context as W3C headers (``traceparent``, ``tracestate``), to store with a job;
    empty when tracing is off or no span is current."""
    if _tracer is None:
        return {}
    headers: dict[str, str] = {}
    _propagator().inject(headers)
    return headers


_KINDS = {"internal": "INTERNAL", "server": "SERVER", "consumer": "CONSUMER"}


@contextmanager
def span(name: str, *, parent: dict[str, str] | None = None, kind: str = "internal",
         attributes: dict[str, Any] | None = None) -> Iterator[Any]:
    """A span around the block, current inside it (yields it; None when tracing is off): a child of the
    current span, or of the context in ``parent`` (W3C headers, as ``carrier`` gives them). An exception
    leaving the block is recorded on it."""
    if _tracer is None:
        yield None
        return
    from opentelemetry.trace import SpanKind

    context = _propagator().extract(parent) if parent else None
    with _tracer.start_as_current_span(name, context=context, kind=SpanKind[_KINDS[kind]],
                                       attributes=attributes) as current:
        yield current


class Stages:
    """Consecutive child spans of the current span, one per stage a computation reports (``enter``
    ends the previous stage and starts the next; ``close`` ends the last). No-ops when tracing is off."""

    def __init__(self) -> None:
        self.current: Any = None
        if _tracer is not None:
            from opentelemetry import context

            self.parent = context.get_current()

    def enter(self, stage: str) -> None:
        if _tracer is None:
            return
        self.close()
        self.current = _tracer.start_span(f"stage {stage}", context=self.parent, attributes={"tlprobe.stage": stage})

    def close(self) -> None:
        if self.current is not None:
            self.current.end()
            self.current = None


def trace_id() -> str | None:
    """The current trace's id (32 hex digits) for log lines, or None."""
    if _tracer is None:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def flush() -> None:
    """Send the spans still buffered (a work horse exits with ``os._exit``, which would lose them)."""
    if _provider is not None:
        _provider.force_flush(FLUSH_TIMEOUT_MS)
