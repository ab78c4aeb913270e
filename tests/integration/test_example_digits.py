"""The digits example (examples/digits_transfer.py) on the live stack, in its quick configuration:
it uploads the committed data, runs its curves through the API and writes its picture and numbers."""

import importlib.util
import json
from pathlib import Path

import httpx2 as httpx
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "digits_transfer.py"


def load_example():
    spec = importlib.util.spec_from_file_location("digits_transfer", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_runs_through_the_api_and_writes_its_picture(live, tmp_path, capsys):
    example = load_example()
    api = live["api"].url
    results = example.main(api, str(tmp_path), quick=True)
    assert Path(tmp_path, "digits_transfer.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads(Path(tmp_path, "digits_transfer.json").read_text()) == results
    assert set(results) == {"related/digits", "related/synthetic", "weakly_related/digits", "weakly_related/synthetic"}
    for name, result in results.items():
        assert set(result["protocols"]) == set(example.PROTOCOLS) and result["alphas"] == example.QUICK["alphas"]
        for protocol, numbers in result["protocols"].items():
            has_model = protocol in ("tf", "rf", "linear")
            assert (numbers["model"] is not None) == has_model, (name, protocol)
            if has_model:
                assert numbers["gap"] == pytest.approx([m - s for m, s in zip(numbers["model"], numbers["simulation_mean"])])
        assert ("data" in result) == name.endswith("digits")
    # three datasets stored (one source, two targets), whatever ran before: the ids are the content's
    listed = {d["dataset_id"] for d in httpx.get(f"{api}/v1/datasets", params={"limit": 100}).json()["items"]}
    assert {results["related/digits"]["data"]["source"]["dataset"], results["related/digits"]["data"]["target"]["dataset"],
            results["weakly_related/digits"]["data"]["target"]["dataset"]} <= listed
    assert "saved" in capsys.readouterr().out


def test_the_diagram_example_uploads_with_the_client_and_saves_the_diagram(live, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("digits_diagram", EXAMPLE.with_name("digits_diagram.py"))
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    numbers = example.main(live["api"].url, str(tmp_path), quick=True)
    assert Path(tmp_path, "digits_diagram.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads(Path(tmp_path, "digits_diagram.json").read_text()) == numbers
    assert numbers["complete"] and numbers["gain_basis"] == "simulation" and numbers["baseline"] == "scratch"
    tf, scratch = numbers["test_error"]["tf"], numbers["test_error"]["scratch"]
    assert numbers["gain"] == [[pytest.approx(s - t, abs=1e-15) for s, t in zip(*rows)] for rows in zip(scratch, tf)]
    assert set(numbers["gaussian_equivalent"]) == {"tf"}
    assert "saved" in capsys.readouterr().out
