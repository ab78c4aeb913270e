"""The findings example (examples/findings.py) on the live stack, shrunk: every section runs through
the API with small sizes and two-value grids, writes its numbers and pictures, and ``--only``
re-runs the named sections while keeping the others' numbers."""

import importlib.util
import json
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "findings.py"
PICTURES = {"findings_curves.png", "findings_source_size.png", "findings_nested.png", "findings_negative.png"}


def small_example():
    spec = importlib.util.spec_from_file_location("findings_small", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.BASE = {"source": {"input_dim": 40}, "network": {"hidden_units": 20, "epochs": 20},
                   "theory": {"mc_samples": 2000}, "simulation": {"test_samples": 500}}
    module.CURVE_ALPHAS = module.SCRATCH_ALPHAS = module.DIAGRAM_ALPHAS = [0.5, 2.0]
    module.KNOB_VALUES = module.SCRATCH_VALUES = {"feature_noise": [0.0, 1.0], "teacher_noise": [0.0, 1.0],
                                                  "feature_substitution": [0.0, 1.0], "latent_change": [-10, 10]}
    module.SOURCE_SIZES = [100, 400]
    return module


def test_the_example_runs_every_section_through_the_api(live, tmp_path, capsys):
    example = small_example()
    data_file = tmp_path / "findings.json"
    data = example.main(live["api"].url, str(tmp_path), str(data_file))
    assert json.loads(data_file.read_text()) == json.loads(json.dumps(data))
    assert set(example.SECTIONS) <= set(data) and "negative" in data
    for section in example.SECTIONS:
        assert set(data["requests"][section]) == set(data[section])
    for name in ("tf_rf", "tf_scratch"):
        for knob in example.KNOBS:
            assert Path(tmp_path, f"findings_{name}_{knob}.png").read_bytes()[:4] == b"\x89PNG"
            assert data[name][knob]["complete"] and data[name][knob]["x"] == [0.5, 2.0]
    for picture in PICTURES:
        assert Path(tmp_path, picture).read_bytes()[:4] == b"\x89PNG"
    # the small sizes reached the service; the nested pair shares its target
    assert data["requests"]["nested"]["complex_to_simple"]["source"] == {"input_dim": 40, "latent_dim": 50}
    assert data["nested"]["complex_to_simple"]["target_latent_dim"] == 25
    assert data["nested"]["complex_to_simple"]["protocols"]["rf"] == data["nested"]["simple_to_simple"]["protocols"]["rf"]
    assert "saved" in capsys.readouterr().out

    # --only finetune re-runs the target trainings (cached now) and keeps every other section as it was
    before = json.loads(data_file.read_text())
    again = example.main(live["api"].url, str(tmp_path), str(data_file), only="finetune")
    assert json.loads(json.dumps(again)) == before
    out = capsys.readouterr().out
    assert "curves (" in out and "tf_scratch (" in out and "nested (" not in out and "tf_rf (" not in out
