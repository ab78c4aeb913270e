"""Tracing as deployed (issue 17): an API (uvicorn) and a worker pool (``python -m worker.main``) started
with ``TLPROBE_OTLP_ENDPOINT`` pointing at an OTLP/HTTP collector on loopback, on a queue of their own
on the live stack's Redis. One submission carrying a caller's ``traceparent``: the collector receives,
from both services, spans of that one trace (the API's batch processor, and the worker's work horse,
which flushes before it exits)."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2 as httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from devtools.stack import Api, Workers, wait_for
from tests.requests import SPECTRUM

pytestmark = pytest.mark.e2e
CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"


class Collector(BaseHTTPRequestHandler):
    requests: list[ExportTraceServiceRequest] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/v1/traces":
            Collector.requests.append(ExportTraceServiceRequest.FromString(body))
        self.send_response(200 if self.path == "/v1/traces" else 404)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args):
        pass


def received() -> list[tuple[str, object]]:
    """(service name, span) of every span the collector got."""
    spans = []
    for request in list(Collector.requests):
        for resource in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}["service.name"]
            spans += [(service, span) for scope in resource.scope_spans for span in scope.spans]
    return spans


def test_a_submission_is_one_trace_across_the_api_and_the_worker_processes(live, tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {"TLPROBE_OTLP_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}", "TLPROBE_QUEUE_NAME": "traced",
           "OTEL_BSP_SCHEDULE_DELAY": "200"}
    redis_url = live["api"].env["TLPROBE_REDIS_URL"]
    workers = Workers(redis_url, count=1, log_path=tmp_path / "workers.log", **env).start()
    api = Api(redis_url, log_path=tmp_path / "api.log", **env).start()
    try:
        traceparent = f"00-{CALLER_TRACE}-b7ad6b7169203331-01"
        request = {"spectrum": {**SPECTRUM["spectrum"], "rho": 1.31}}
        submitted = httpx.post(f"{api.url}/v1/gcm", json=request, headers={"traceparent": traceparent}, timeout=10)
        assert submitted.status_code == 202, submitted.text
        job_id = submitted.json()["job_id"]
        ended = httpx.get(f"{api.url}/v1/jobs/{job_id}", params={"wait": 60}, timeout=70).json()
        assert ended["status"] == "finished", ended

        def both_sides():
            names = {(service, span.name) for service, span in received() if span.trace_id.hex() == CALLER_TRACE}
            return names >= {("tlprobe-api", "POST /v1/gcm"), ("tlprobe-api", "submit gcm"),
                             ("tlprobe-worker", "job gcm"), ("tlprobe-worker", "stage solve")} and names

        started = time.monotonic()
        wait_for(both_sides, 20, "the spans of both services")
        delay = time.monotonic() - started
    finally:
        api.stop()
        workers.stop()
        server.shutdown()
    spans = {span.name: span for _, span in received() if span.trace_id.hex() == CALLER_TRACE}
    assert spans["POST /v1/gcm"].parent_span_id.hex() == "b7ad6b7169203331"
    assert spans["submit gcm"].parent_span_id == spans["POST /v1/gcm"].span_id
    assert spans["job gcm"].parent_span_id == spans["submit gcm"].span_id
    assert spans["stage solve"].parent_span_id == spans["job gcm"].span_id
    job_attributes = {a.key: a.value.string_value for a in spans["job gcm"].attributes}
    assert job_attributes["tlprobe.job_id"] == job_id
    assert delay < 20
