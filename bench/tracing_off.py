"""What tracing costs when it is off (the default): the calls the code still makes, per submission and per
job stage, against an uncached submission's own cost (queued into a Redis of its own), in one run.

    python -m bench.tracing_off
"""

import pathlib
import tempfile
import timeit

from redis import Redis

from devtools.localredis import LocalRedis
from tlprobe.contract.gcm import GCMRequest
from tlprobe_server import tracing
from tlprobe_server.kinds import SERVER_KINDS
from tlprobe_server.settings import Settings
from tlprobe_server.submission import submit


def main() -> None:
    assert not tracing.enabled()
    n = 200_000
    per_call = {
        "enabled()": timeit.timeit(tracing.enabled, number=n) / n,
        "carrier()": timeit.timeit(tracing.carrier, number=n) / n,
        "Stages()+enter()+close()": timeit.timeit(lambda: (s := tracing.Stages(), s.enter("x"), s.close()), number=n) / n,
    }
    server = LocalRedis(pathlib.Path(tempfile.mkdtemp()))
    server.start()
    try:
        redis, settings = Redis.from_url(server.url), Settings(redis_url=server.url, max_queued_jobs=100000)
        kind = SERVER_KINDS["gcm"]
        spectrum = {"omega": [1.0, 2.0], "t": [0.2, 0.4], "gamma": 1.0}
        requests = [GCMRequest.model_validate({"spectrum": {**spectrum, "rho": 1.0 + i * 1e-6}})
                    for i in range(2000)]
        it = iter(requests)
        m = 2000
        per_submission = timeit.timeit(lambda: submit(redis, settings, kind, next(it)), number=m) / m
    finally:
        server.stop()
    for name, seconds in per_call.items():
        print(f"{name}: {seconds * 1e9:.0f} ns")
    overhead = per_call["enabled()"] + per_call["carrier()"]  # what one submission calls when tracing is off
    print(f"uncached submission (enqueue into Redis): {per_submission * 1e6:.0f} us; tracing-off calls per submission "
          f"{overhead * 1e9:.0f} ns = {overhead / per_submission:.2e} of it")


if __name__ == "__main__":
    main()
