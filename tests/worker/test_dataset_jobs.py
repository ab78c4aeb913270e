"""Jobs that read datasets, run by a real RQ worker in this process (burst mode) on the test Redis:
the worker hands the stored arrays to the engine, and a job whose dataset is gone by the time it
runs fails with a reason naming that dataset."""

from rq import Queue, SimpleWorker
from rq.serializers import JSONSerializer

from tests.datasets import arrays, curve_on, upload
from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe_server import keys, result_store
from worker.science.curve_orchestrator import run_learning_curve
from worker.science.data import Dataset
from worker.science.dataset_source import DatasetSplitSource


def run_queued(redis) -> None:
    """Run every waiting job, of both queues (a phase diagram and its parts wait in the bulk one)."""
    queues = [Queue(name, connection=redis, serializer=JSONSerializer) for name in ("tlprobe", "tlprobe-bulk")]
    SimpleWorker(queues, connection=redis, serializer=JSONSerializer).work(burst=True)


def test_the_worker_hands_the_stored_arrays_to_the_engine(client, redis):
    source_arrays, target_arrays = arrays(samples=60), arrays(samples=50, seed=1)
    source = upload(client, *source_arrays)["dataset_id"]
    target = upload(client, *target_arrays)["dataset_id"]
    request = curve_on(source, target, protocols=["tf", "linear", "scratch"])
    job_id = client.post("/v1/learning-curves", json=request).json()["job_id"]
    run_queued(redis)
    view = client.get(f"/v1/jobs/{job_id}").json()
    assert view["status"] == "finished", view
    stored = result_store.get(redis, job_id)
    expected = run_learning_curve(DatasetSplitSource(LearningCurveRequest.model_validate(request), Dataset(*source_arrays),
                                                     Dataset(*target_arrays))).model_dump(mode="json")
    assert {k: v for k, v in stored.items() if k != "meta"} == {k: v for k, v in expected.items() if k != "meta"}
    assert stored["data"]["source"]["dataset"] == source and stored["curves"]["tf"]["gaussian_equivalent"] is not None


def test_a_job_whose_dataset_expired_fails_with_a_reason_naming_it(client, redis):
    source = upload(client, *arrays(samples=60))["dataset_id"]
    target = upload(client, *arrays(samples=50, seed=1))["dataset_id"]
    job_id = client.post("/v1/learning-curves", json=curve_on(source, target)).json()["job_id"]
    redis.pexpire(keys.dataset(target), 1)  # it expires while the job waits in the queue
    while redis.exists(keys.dataset(target)):
        pass
    run_queued(redis)
    view = client.get(f"/v1/jobs/{job_id}").json()
    assert view["status"] == "failed"
    assert view["error"].startswith(f"missing dataset: dataset {target} does not exist")
    assert result_store.get(redis, job_id) is None
    assert int(redis.hget(keys.executions_counter(), "learning_curve")) == 1  # not retried


def test_a_job_whose_dataset_was_deleted_behind_the_api_fails_naming_it(client, redis):
    # the API refuses to delete a dataset a queued job reads; an operator removing the key by hand is
    # the other way it can vanish
    source = upload(client, *arrays(samples=60))["dataset_id"]
    job_id = client.post("/v1/learning-curves", json=curve_on(source, source)).json()["job_id"]
    redis.delete(keys.dataset(source))
    run_queued(redis)
    view = client.get(f"/v1/jobs/{job_id}").json()
    assert view["status"] == "failed" and source in view["error"] and "was deleted, or expired" in view["error"]
