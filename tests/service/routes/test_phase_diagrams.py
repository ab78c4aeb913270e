"""/v1/phase-diagrams over HTTP (no worker): refusals and the catalogue's query syntax."""





def test_regression_a_fixed_target_emptying_the_latent_space_is_422(client):
    body = {"source": {"latent_dim": 50}, "target": {"latent_change": -1998}}
    response = client.post("/v1/phase-diagrams", json=body)
    assert response.status_code == 422 and "empty the latent space" in response.text


def test_regression_malformed_catalogue_range_is_422(client):
    for bad in ("", "source.input_dim", "x:nan:1", "x:1:2:3"):
        assert client.get("/v1/phase-diagrams", params={"range": bad}).status_code == 422


def test_budget_of_simulation_baselines(client):
    diagram = {"x_axis": {"name": "alpha", "values": [0.5, 1, 2, 4]},
               "y_axis": {"name": "teacher_noise", "values": [0, 0.2, 0.4, 0.6, 0.8, 1.0]},
               "simulation": {"seeds": 15}, "baseline": "finetune"}
    response = client.post("/v1/phase-diagrams", json=diagram)
    # 24 cells x 15 seeds x 4 anchor strengths (the default tuning rule trains one run per candidate)
    assert response.status_code == 422 and "1440 scratch/finetune training runs" in response.json()["detail"][0]["msg"]


def test_catalogue_range_syntax(client):
    assert client.get("/v1/phase-diagrams", params={"range": "source.input_dim:nan:3"}).status_code == 422
    assert client.get("/v1/phase-diagrams", params={"range": "source.input_dim:1:oops"}).status_code == 422
    assert client.get("/v1/phase-diagrams", params={"range": "source.input_dim:1:"}).json()["total"] == 0
