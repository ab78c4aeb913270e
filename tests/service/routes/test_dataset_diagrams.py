"""POST /v1/phase-diagrams on uploaded datasets, against a real Redis with no worker: which axes mean
something on data, every refusal naming the axis value or field that breaks it, the budget, and the
reservations that make a deletion wait for the diagram's jobs."""

from fastapi.testclient import TestClient
from rq import Queue
from rq.serializers import JSONSerializer

from service.main import create_app
from tests.datasets import arrays, upload, uploaded_to_check_against
from tlprobe_server.settings import Settings


def diagram_on(source_id: str, target_id: str, **changes) -> dict:
    """A small diagram on two datasets: alpha against n_s, simulated with one seed."""
    body = {"source": {"dataset": source_id}, "target": {"dataset": target_id},
            "network": {"hidden_units": 10, "epochs": 2},
            "x_axis": {"name": "alpha", "values": [1.0, 2.0]}, "y_axis": {"name": "n_samples", "values": [20, 40]},
            "theory": {"mc_samples": 200}, "simulation": {"seeds": 1}}
    body.update(changes)
    return body


def queued(redis) -> int:
    """Jobs waiting in either queue (a diagram and its parts wait in the bulk one)."""
    queues = [Queue(name, connection=redis, serializer=JSONSerializer) for name in ("tlprobe", "tlprobe-bulk")]
    return sum(queue.count + queue.deferred_job_registry.count for queue in queues)


def test_axes_of_the_synthetic_model_are_refused_on_datasets_naming_the_axis(client, redis):
    dataset_id = upload(client, *arrays())["dataset_id"]
    for name, values in (("teacher_noise", [0.0, 0.5]), ("feature_noise", [0.0]), ("feature_substitution", [0.0]),
                         ("latent_change", [0, 1]), ("latent_dim", [5, 10]), ("input_dim", [5]),
                         ("label_noise", [0.1]), ("source_label_noise", [0.1])):
        response = client.post("/v1/phase-diagrams", json=diagram_on(dataset_id, dataset_id,
                                                                     y_axis={"name": name, "values": values}))
        assert response.status_code == 422, name
        message = response.json()["detail"][0]["msg"]
        assert f"y_axis: axis {name}" in message and "has no meaning when source and target are datasets" in message
        assert "alpha, hidden_units, hidden_layers, n_samples, epochs, regularisation, transfer_layer" in message
    assert queued(redis) == 0


def test_a_diagram_on_datasets_is_simulated_and_both_tasks_are_datasets(client):
    dataset_id = upload(client, *arrays())["dataset_id"]
    response = client.post("/v1/phase-diagrams", json=diagram_on(dataset_id, dataset_id, simulation=None))
    assert response.status_code == 422 and "is simulated: give 'simulation'" in response.json()["detail"][0]["msg"]
    response = client.post("/v1/phase-diagrams", json=diagram_on(dataset_id, dataset_id, target={}))
    assert response.status_code == 422 and "both be datasets" in response.json()["detail"][0]["msg"]


def test_what_the_grid_asks_of_its_datasets_is_checked_at_each_axis_value(client, redis):
    source, target, wide, missing = uploaded_to_check_against(client)
    cases = [
        (diagram_on(missing, target), ["body", "source", "dataset"], f"dataset {missing} does not exist"),
        (diagram_on(source, missing), ["body", "target", "dataset"], "was never uploaded, was deleted, or expired"),
        (diagram_on(source, wide), ["body", "target", "dataset"], "N = 6 inputs but source dataset"),
        (diagram_on(source, target, y_axis={"name": "n_samples", "values": [20, 49]}), ["body", "y_axis", "values", 1],
         "n_samples 49 exceeds the 48 samples of the training split"),
        (diagram_on(source, target, x_axis={"name": "alpha", "values": [1.0, 9.0]}), ["body", "x_axis", "values", 1],
         "the largest possible alpha is 8 (= 40 / N"),
        (diagram_on(source, target, x_axis={"name": "hidden_units", "values": [5, 10]}, network={"epochs": 2},
                    alpha=9.0), ["body", "alpha"],
         "alpha 9 needs n_t = 45 target samples"),
        (diagram_on(source, target, x_axis={"name": "epochs", "values": [1, 2]}, network={"hidden_units": 10, "n_samples": 49},
                    y_axis={"name": "regularisation", "values": [0.1]}),
         ["body", "network", "n_samples"], "n_samples 49 exceeds"),
    ]
    for body, loc, reason in cases:
        response = client.post("/v1/phase-diagrams", json=body)
        assert response.status_code == 422, body
        assert any(e["loc"] == loc and reason in e["msg"] for e in response.json()["detail"]), response.json()
    assert queued(redis) == 0


def test_the_diagram_budget_counts_the_datasets_sizes(unit_url):
    # the small diagram's estimate is about 3.6e10 (mostly its solves), the heavy one's about 1e11
    settings = Settings(redis_url=unit_url, workers=1, max_diagram_work=6e10)
    with TestClient(create_app(settings)) as client:
        source = upload(client, *arrays(samples=60, input_dim=5))["dataset_id"]
        assert client.post("/v1/phase-diagrams", json=diagram_on(source, source)).status_code == 202
        heavy = diagram_on(source, source, network={"hidden_units": 400, "epochs": 2000})
        response = client.post("/v1/phase-diagrams", json=heavy)
        assert response.status_code == 422 and "for the whole diagram exceeds" in response.json()["detail"][0]["msg"]


def test_delete_is_refused_while_the_diagram_or_its_parts_are_queued(client, redis):
    source = upload(client, *arrays())["dataset_id"]
    target = upload(client, *arrays(samples=50, seed=1))["dataset_id"]
    submitted = client.post("/v1/phase-diagrams", json=diagram_on(source, target))
    assert submitted.status_code == 202
    diagram_id = submitted.json()["job_id"]
    for dataset_id in (source, target):
        response = client.delete(f"/v1/datasets/{dataset_id}")
        assert response.status_code == 409 and diagram_id in response.json()["detail"]
    # per n_s a source network (it reads the source only), a theory and a simulation part; and the diagram
    assert "used by 7 queued or running job(s)" in client.delete(f"/v1/datasets/{source}").json()["detail"]
    assert "used by 5 queued or running job(s)" in client.delete(f"/v1/datasets/{target}").json()["detail"]
    assert client.delete(f"/v1/jobs/{diagram_id}").json()["status"] == "canceled"
    # its parts, which nothing else holds, were canceled with it (tests/service/test_identities.py): nothing reads
    # the datasets any more
    assert client.delete(f"/v1/datasets/{target}").status_code == 204
    assert client.delete(f"/v1/datasets/{source}").status_code == 204


def test_the_catalogue_filter_by_dataset_is_checked(client):
    assert client.get("/v1/phase-diagrams", params={"dataset": "not-an-id"}).status_code == 422
    assert client.get("/v1/phase-diagrams", params={"dataset": "ds-" + "0" * 40}).json()["total"] == 0
