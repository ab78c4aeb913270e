"""Fixtures of the end-to-end tests beyond the session's live stack."""

import pytest

from devtools.stack import Api

TOKENS = ("s3cret-reader", "s3cret-other")


@pytest.fixture(scope="session")
def protected_api(live, tmp_path_factory):
    """A second API on the live stack's Redis and workers, with tokens and protected reads."""
    api = Api(live["api"].env["TLPROBE_REDIS_URL"], log_path=tmp_path_factory.mktemp("protected") / "api.log",
              TLPROBE_API_TOKENS=",".join(TOKENS), TLPROBE_PROTECT_READS="true",
              TLPROBE_RATE_LIMIT_PER_MINUTE="0").start()
    yield api
    api.stop()
