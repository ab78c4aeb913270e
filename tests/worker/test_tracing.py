"""Traces from a request through the queue into the worker's job (issue 17): the in-process app with
tracing on, and a real forking RQ worker (its work horse is forked from this process) on the test
Redis. Spans are exported as each ends, by an exporter writing them to a file: the work horse is
another process, whose memory would not come back. Tracing off: nothing is stored with the job and
no middleware is added (tests/test_layers.py: nothing of OpenTelemetry is even imported)."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from service.main import create_app
from service.middleware import Tracing
from tests.requests import SPECTRUM
from tests.worker.test_canceling import run_queued
from tlprobe_server import tracing
from tlprobe_server.job_views import fetch_job
from tlprobe_server.settings import Settings

CALLER_TRACE, CALLER_SPAN = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


class FileExporter(SpanExporter):
    """Appends each span, as it ends, to a file as one JSON line (from any process forked from this one)."""

    def __init__(self, path) -> None:
        self.path = path

    def export(self, spans: list[ReadableSpan]) -> SpanExportResult:
        with open(self.path, "a") as out:
            for span in spans:
                out.write(json.dumps({
                    "name": span.name, "trace_id": format(span.context.trace_id, "032x"),
                    "span_id": format(span.context.span_id, "016x"),
                    "parent_id": format(span.parent.span_id, "016x") if span.parent else None,
                    "kind": span.kind.name, "attributes": dict(span.attributes), "pid": os.getpid(),
                    "status": span.status.status_code.name}) + "\n")
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


@pytest.fixture
def spans(tmp_path):
    path = tmp_path / "spans.jsonl"
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(FileExporter(path)))
    tracing.enable(provider)
    try:
        yield lambda: [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    finally:
        tracing.disable()
        provider.shutdown()


def one(spans: list[dict], name: str) -> dict:
    (found,) = [span for span in spans if span["name"] == name]
    return found


def test_one_submission_is_one_trace_from_the_request_into_the_workers_job(spans, settings, redis):
    with TestClient(create_app(settings)) as client:
        traceparent = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
        submitted = client.post("/v1/gcm", json=SPECTRUM, headers={"traceparent": traceparent, "X-Request-ID": "rq-1"})
        assert submitted.status_code == 202
        job_id = submitted.json()["job_id"]
        meta = fetch_job(redis, job_id).meta
        assert meta["request_id"] == "rq-1" and meta["trace"]["traceparent"].startswith(f"00-{CALLER_TRACE}-")
        run_queued(redis)  # a real forking worker: the job runs in a work horse
        assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "finished"

    recorded = spans()
    assert {span["trace_id"] for span in recorded if span["name"] != "GET /v1/jobs/{job_id}"} == {CALLER_TRACE}
    server = one(recorded, "POST /v1/gcm")
    assert server["kind"] == "SERVER" and server["parent_id"] == CALLER_SPAN  # continues the caller's trace
    assert server["attributes"]["http.response.status_code"] == 202
    assert server["attributes"]["tlprobe.request_id"] == "rq-1" and server["pid"] == os.getpid()
    submit = one(recorded, "submit gcm")
    assert submit["parent_id"] == server["span_id"] and submit["attributes"]["tlprobe.job_id"] == job_id
    assert submit["attributes"]["tlprobe.status"] == "queued" and meta["trace"]["traceparent"].split("-")[2] == submit["span_id"]

    job = one(recorded, "job gcm")  # recorded by the work horse, another process
    assert job["kind"] == "CONSUMER" and job["pid"] != os.getpid() and job["status"] == "UNSET"
    assert job["parent_id"] == submit["span_id"] and job["attributes"]["tlprobe.job_id"] == job_id
    stage = one(recorded, "stage solve")  # the stage the GCM computation reports
    assert stage["parent_id"] == job["span_id"] and stage["trace_id"] == CALLER_TRACE and stage["pid"] == job["pid"]


def test_a_diagram_and_its_parts_are_one_trace(spans, settings, redis):
    with TestClient(create_app(settings)) as client:
        diagram = {"x_axis": {"name": "alpha", "values": [0.5, 1]}, "y_axis": {"name": "feature_noise", "values": [0, 0.5]}}
        diagram_id = client.post("/v1/phase-diagrams", json=diagram).json()["job_id"]
    plan = fetch_job(redis, diagram_id).meta["plan"]
    jobs = [diagram_id, *plan["networks"], *(part["job_id"] for part in plan["parts"])]
    traces = {fetch_job(redis, job_id).meta["trace"]["traceparent"].split("-")[1] for job_id in jobs}
    server = one(spans(), "POST /v1/phase-diagrams")
    assert traces == {server["trace_id"]} and len(jobs) == 4
    submits = [span for span in spans() if span["name"].startswith("submit ")]
    assert len(submits) == 4 and {span["trace_id"] for span in submits} == {server["trace_id"]}


def test_tracing_off_stores_nothing_and_adds_no_middleware(settings, redis):
    assert not tracing.enabled()
    app = create_app(settings)
    assert not any(middleware.cls is Tracing for middleware in app.user_middleware)
    with TestClient(app) as client:
        job_id = client.post("/v1/gcm", json=SPECTRUM).json()["job_id"]
    assert "trace" not in fetch_job(redis, job_id).meta and tracing.carrier() == {}


class Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP collector on loopback: keeps each request's path, content type and body."""

    received: list[tuple[str, str, bytes]] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Collector.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_otlp_exporter_sends_the_spans_to_the_configured_collector(monkeypatch):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    assert Settings().otlp_endpoint == "" and not tracing.configure("api", Settings().otlp_endpoint)  # off by default
    monkeypatch.setenv("TLPROBE_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}/")
    settings = Settings()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")  # the standard name works too
    assert Settings().otlp_endpoint == settings.otlp_endpoint  # ours wins when both are set
    monkeypatch.delenv("TLPROBE_OTLP_ENDPOINT")
    assert Settings().otlp_endpoint == "http://collector:4318"
    try:
        assert tracing.configure("api", settings.otlp_endpoint)
        with tracing.span("outer"):
            with tracing.span("inner", attributes={"tlprobe.job_id": "gcm-1"}):
                carried = tracing.carrier()
        tracing.flush()
    finally:
        provider = tracing._provider
        tracing.disable()
        provider.shutdown()
        server.shutdown()
    (path, content_type, body), *_ = Collector.received
    assert path == "/v1/traces" and content_type == "application/x-protobuf"
    exported = ExportTraceServiceRequest.FromString(b"".join(body for _, _, body in Collector.received[:1]))
    resource = exported.resource_spans[0]
    assert {a.key: a.value.string_value for a in resource.resource.attributes}["service.name"] == "tlprobe-api"
    sent = {span.name: span for scope in resource.scope_spans for span in scope.spans}
    assert set(sent) == {"outer", "inner"} and sent["inner"].parent_span_id == sent["outer"].span_id
    assert carried["traceparent"].split("-")[1] == sent["inner"].trace_id.hex()
