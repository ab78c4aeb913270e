"""RQ's job states, as the API shows them."""

from rq.job import JobStatus as RQStatus

from tlprobe.contract.jobs import JobStatus
from tlprobe_server.job_views import PUBLIC_STATUS


def test_every_rq_state_has_a_public_status():
    # an unmapped state (RQ 3 added ready_to_enqueue and rate_limited) would break the views of a diagram's parts
    assert set(PUBLIC_STATUS) == set(RQStatus)
    assert {status for status in PUBLIC_STATUS.values() if status.ended} == {JobStatus.finished, JobStatus.failed,
                                                                             JobStatus.canceled}


def test_ended_statuses_belong_to_the_status_type():
    assert [status.value for status in JobStatus if status.ended] == ["finished", "failed", "canceled"]
    assert [status.value for status in JobStatus if status.unsuccessful] == ["failed", "canceled"]
