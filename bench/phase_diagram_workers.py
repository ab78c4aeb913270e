"""A 10 x 10 theory phase diagram with one worker, then with two, in one run.

Each run starts from an empty Redis (nothing cached) on this machine's cores: one worker with
2 BLAS threads, then two workers with 1 thread each (workers x threads = cores both times).
Prints both wall times and their ratio.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from redis import Redis

from devtools.localredis import LocalRedis
from devtools.stack import Workers
from tlprobe.contract.phase_diagram import PhaseDiagramRequest
from tlprobe_server.diagrams.plan import plan
from tlprobe_server.kinds import SERVER_KINDS
from tlprobe_server.settings import Settings
from tlprobe_server.submission import job_view, submit

DIAGRAM = PhaseDiagramRequest.model_validate({
    "x_axis": {"name": "alpha", "values": [0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 4.0]},
    "y_axis": {"name": "teacher_noise", "values": [i / 9 for i in range(10)]}})


def timed_run(url: str, workers: int, threads: int) -> float:
    redis = Redis.from_url(url)
    redis.flushall()
    pool = Workers(url, count=workers, TLPROBE_BLAS_THREADS=str(threads)).start()
    try:
        start = time.perf_counter()
        settings = Settings(redis_url=url)
        diagram_id = submit(redis, settings, SERVER_KINDS["phase_diagram"], DIAGRAM,
                            plan=plan(DIAGRAM, settings.diagram_chunk_alphas)).job_id
        while not job_view(redis, diagram_id).status.ended:
            time.sleep(0.1)
        elapsed = time.perf_counter() - start
        assert job_view(redis, diagram_id).status.value == "finished"
        return elapsed
    finally:
        pool.stop()


def main() -> None:
    with tempfile.TemporaryDirectory() as data:
        server = LocalRedis(Path(data))
        url = server.start()
        try:
            one = timed_run(url, workers=1, threads=2)
            two = timed_run(url, workers=2, threads=1)
        finally:
            server.stop()
    print(f"[phase diagram 10x10, theory] 1 worker x 2 threads: {one:.1f}s; 2 workers x 1 thread: {two:.1f}s; "
          f"speed-up {one / two:.2f}x")


if __name__ == "__main__":
    main()
