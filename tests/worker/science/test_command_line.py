"""``python -m worker.science``: the same contract as the API, and the engine's own numbers."""

import json
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe_server.settings import Settings
from worker.science.__main__ import main
from worker.science.curve_orchestrator import run_learning_curve
from worker.science.synthetic_source import SyntheticSource

#: bodies the API accepts or refuses for its contract (not its budgets); the command line must agree
BODIES = [
    {}, {"simulation": {"seeds": 2}}, {"simulation": {"seeds": [4, 9]}}, {"readout": {"regularisation": "optimal"}},
    {"alphas": [1, 2]}, {"source": {"activation": "tanh"}, "network": {"activation": "relu", "batch_size": 64}},
    {"simulation": None}, {"theory": None, "protocols": ["scratch", "finetune"]},
    {"source": {"latent_dim": 0}}, {"target": {"feature_noise": 1.5}}, {"alphas": [1.0, 0.0]},
    {"readout": {"regularisation": -1}}, {"readout": {"regularisation": "optimal"}, "theory": None},
    {"protocols": ["tf", "magic"]}, {"network": {"activation": "sign"}}, {"theory": None, "simulation": None},
    {"simulation": {"seeds": [1, 1]}}, {"simulation": {"seeds": 0}}, {"network": {"batch_size": 0}},
    {"network": {"hidden_units": 3, "width": 2}}, {"source": {"latent_dim": 5}, "target": {"latent_change": -5}},
    {"target": {"teacher_noise": True}}, {"alphas": ["1.0"]}, {"simulation": None, "protocols": ["scratch"]},
]


@pytest.fixture(scope="module")
def api(redis_server):
    # database 3, untouched by other tests: only validation is exercised (the budgets are set out of reach)
    url = redis_server.url[:-1] + "3"
    settings = Settings(redis_url=url, max_work=1e30, max_memory_bytes=1e30)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.mark.parametrize("body", BODIES, ids=[json.dumps(b)[:60] for b in BODIES])
def test_the_command_line_accepts_exactly_what_the_api_accepts(body, api, tmp_path, capsys):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(body))
    code = main(["learning-curve", "--dry-run", str(path)])
    out, err = capsys.readouterr()
    response = api.post("/v1/learning-curves", json=body)
    assert response.status_code in (200, 202, 422), response.text
    if response.status_code == 422:
        assert code == 2 and err.startswith("invalid input")
        for error in response.json()["detail"]:  # the same fields are named
            field = ".".join(str(part) for part in error["loc"][1:] if not isinstance(part, int))
            assert field in err, (field, err)
    else:
        assert code == 0, err
        assert json.loads(out) == LearningCurveRequest.model_validate(body).model_dump(mode="json")


def test_command_line_gives_the_engine_result(tmp_path):
    spec = {"source": {"latent_dim": 8, "input_dim": 30}, "network": {"hidden_units": 20, "n_samples": 200,
            "epochs": 10}, "alphas": [1.0], "theory": {"mc_samples": 2000}, "simulation": None}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    out = subprocess.run([sys.executable, "-m", "worker.science", "learning-curve", str(path)], capture_output=True,
                         text=True, check=True)
    engine = run_learning_curve(SyntheticSource(LearningCurveRequest.model_validate(spec))).model_dump(mode="json")
    assert {k: v for k, v in json.loads(out.stdout).items() if k != "meta"} == \
        {k: v for k, v in engine.items() if k != "meta"}
    assert "source_network" in out.stderr
    bad = subprocess.run([sys.executable, "-m", "worker.science", "learning-curve", "-"], input='{"alphas": [-1]}',
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "alphas" in bad.stderr


def test_gcm_command_solves_a_spectrum(tmp_path, capsys):
    path = tmp_path / "gcm.json"
    path.write_text(json.dumps({"spectrum": {"omega": [0.5, 1.0, 2.0], "t": [0.1, 0.2, 0.3], "rho": 1.0,
                                             "gamma": 1.0}, "sample_complexities": [1.0, 3.0]}))
    assert main(["gcm", str(path)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert all(result["converged"]) and 0 < result["test_error"][1] < result["test_error"][0] < 0.5
    path.write_text(json.dumps({"spectrum": {"omega": [1.0], "t": [0.1], "rho": 1.0, "gamma": 1.0}, "loss": "hinge"}))
    assert main(["gcm", str(path)]) == 2 and "loss" in capsys.readouterr().err
