"""Property-based fuzzing of every operation in the exported OpenAPI spec (schemathesis), against a
real uvicorn on a Redis database with no workers (nothing generated is ever computed).

Fixed budget and seed: at most ``EXAMPLES`` examples per operation, derandomized. Every response
must be a non-5xx that conforms to the spec (status code, content type, headers, body schema), and
every request that violates the schema must be refused. One check is left out:
``positive_data_acceptance``. Requests can satisfy the JSON schema yet break a cross-field rule
that JSON Schema cannot state (latent_change emptying the latent space, unsorted axis values, an
over-budget product of sizes); their 422 is correct.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, positive_data_acceptance

from service.openapi_export import PATH
from tests.stack import Api

EXAMPLES = 30
schema = schemathesis.openapi.from_path(PATH)


@pytest.fixture(scope="module")
def fuzz_api(redis_server, tmp_path_factory):
    url = redis_server.url[:-1] + "2"
    api = Api(url, log_path=tmp_path_factory.mktemp("fuzz") / "api.log").start()
    yield api
    api.stop()


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_survives_fuzzing(case, fuzz_api):
    if case.path == "/readyz":
        # its 503 is the readiness contract (no worker runs here), not a server error
        response = case.call_and_validate(base_url=fuzz_api.url,
                                          excluded_checks=[not_a_server_error, positive_data_acceptance])
        assert response.status_code == (503 if case.method == "GET" else 405)
        return
    case.call_and_validate(base_url=fuzz_api.url, excluded_checks=[positive_data_acceptance])
