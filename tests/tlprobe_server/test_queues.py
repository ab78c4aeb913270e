"""The two queues: where each submission's jobs wait, and an interactive submission promoting a job
that waits in bulk (with the jobs it waits for), checked against a real Redis and, for the release of
a promoted deferred job, a real tlprobe worker taking the interactive queue alone."""

import pytest
from redis.exceptions import WatchError
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer

from tests.requests import SMALL_DIAGRAM
from tlprobe.contract.phase_diagram import PhaseDiagramRequest
from tlprobe_server import result_store
from tlprobe_server.diagrams.plan import plan
from tlprobe_server.kinds import SERVER_KINDS
from tlprobe_server.queues import Lane, lane_of, promote, queue_name
from tlprobe_server.submission import submit
from worker.main import TlprobeWorker

DIAGRAM = PhaseDiagramRequest.model_validate(SMALL_DIAGRAM)


def submit_diagram(redis, settings) -> tuple[str, str, list[str]]:
    """The diagram's id, its network's and its two theory parts' (each deferred behind the network)."""
    layout = plan(DIAGRAM, settings.diagram_chunk_alphas)
    diagram = submit(redis, settings, SERVER_KINDS["phase_diagram"], DIAGRAM, plan=layout)
    network = SERVER_KINDS["source_network"].job_id(layout.networks[0])
    parts = [SERVER_KINDS["learning_curve"].job_id(part.request) for part in layout.parts]
    return diagram.job_id, network, parts


def queues(redis) -> tuple[Queue, Queue]:
    return (Queue("tlprobe", connection=redis, serializer=JSONSerializer),
            Queue("tlprobe-bulk", connection=redis, serializer=JSONSerializer))


def test_queue_names_follow_the_setting(settings):
    assert queue_name(settings, Lane.interactive) == "tlprobe" and queue_name(settings, Lane.bulk) == "tlprobe-bulk"
    renamed = settings.model_copy(update={"queue_name": "lab"})
    assert (queue_name(renamed, Lane.interactive), queue_name(renamed, Lane.bulk)) == ("lab", "lab-bulk")
    assert lane_of(renamed, "lab-bulk") is Lane.bulk and lane_of(renamed, "tlprobe") is None


def test_a_diagram_and_its_parts_wait_in_bulk(redis, settings):
    diagram, network, parts = submit_diagram(redis, settings)
    interactive, bulk = queues(redis)
    assert interactive.count == 0 and interactive.deferred_job_registry.count == 0
    assert bulk.get_job_ids() == [network]
    assert set(bulk.deferred_job_registry.get_job_ids()) == {diagram, *parts}


def test_an_interactive_submission_of_a_waiting_part_promotes_it_and_what_it_waits_for(redis, settings):
    diagram, network, parts = submit_diagram(redis, settings)
    part = plan(DIAGRAM, settings.diagram_chunk_alphas).parts[0].request
    joined = submit(redis, settings, SERVER_KINDS["learning_curve"], part)  # the same request, submitted directly
    assert joined.job_id == parts[0] and joined.status.value == "queued"
    interactive, bulk = queues(redis)
    assert interactive.get_job_ids() == [network] and bulk.count == 0  # the network it waits for moved
    assert interactive.deferred_job_registry.get_job_ids() == [parts[0]]
    assert set(bulk.deferred_job_registry.get_job_ids()) == {diagram, parts[1]}
    assert Job.fetch(parts[0], connection=redis).origin == "tlprobe"

    # a worker of the interactive queue alone runs the network, then the promoted part, which RQ released
    # into the interactive queue; the other part was released into the bulk queue, where it waits
    TlprobeWorker([interactive.name], connection=redis, serializer=JSONSerializer).work(burst=True)
    assert result_store.exists(redis, network) and result_store.exists(redis, parts[0])
    assert not result_store.exists(redis, parts[1])
    assert bulk.get_job_ids() == [parts[1]] and bulk.deferred_job_registry.get_job_ids() == [diagram]
    assert interactive.count == 0 and interactive.deferred_job_registry.count == 0


def test_a_bulk_submission_joining_an_interactive_job_leaves_it_there(redis, settings):
    part = plan(DIAGRAM, settings.diagram_chunk_alphas).parts[0].request
    direct = submit(redis, settings, SERVER_KINDS["learning_curve"], part)
    diagram, network, parts = submit_diagram(redis, settings)
    interactive, bulk = queues(redis)
    assert parts[0] == direct.job_id and interactive.get_job_ids() == [direct.job_id]
    assert bulk.get_job_ids() == [network] and set(bulk.deferred_job_registry.get_job_ids()) == {diagram, parts[1]}
    assert promote(redis, settings, direct.job_id) == []  # not waiting in bulk: nothing to move


def test_promoting_a_deferred_job_makes_a_concurrent_release_read_its_queue_again(redis, settings):
    """RQ releases the dependents of a job that ended under a WATCH on its dependents set; promotion
    writes that set, so a release that read the part's old queue fails and retries."""
    _, network, parts = submit_diagram(redis, settings)
    with redis.pipeline() as release:
        release.watch(Job.dependents_key_for(network))
        assert set(parts) <= {member.decode() for member in release.smembers(Job.dependents_key_for(network))}
        assert promote(redis, settings, parts[0]) == [parts[0], network]
        release.multi()
        release.set("released", 1)
        with pytest.raises(WatchError):
            release.execute()
    assert {member.decode() for member in redis.smembers(Job.dependents_key_for(network))} >= set(parts)
