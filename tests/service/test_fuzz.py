"""A slice of ``make fuzz`` in the suite: the same schemathesis campaign (``devtools.fuzz``: every
operation, every phase including the stateful one, every check but ``positive_data_acceptance`` and
``use_after_free``, for the reasons given there)
against a live stack with a worker, with a few generated examples per operation instead of 100.

No check may fail (no server error, every response as the spec says, every schema-invalid request
refused), and no job may fail on input the API could have checked. The cases fuzzing found are
regression tests of their own (``test_regression_*`` under tests/service and tests/worker).
"""

import pytest

from devtools.fuzz import campaign

EXAMPLES = 5


@pytest.mark.slow
def test_every_operation_survives_a_fuzzing_campaign_with_workers(redis_server, tmp_path):
    summary = campaign(redis_server.url[:-1] + "3", tmp_path, examples=EXAMPLES, seed=7, workers=1, drain=60)
    assert summary.operations >= 20 and summary.test_cases > 20 * EXAMPLES
    assert set(summary.phases.values()) == {"success"}, summary.phases
    assert summary.failures == [], summary.failures[:5]
    assert summary.defects == [], summary.defects
