"""examples/findings.py without a live stack: its requests are valid and within the default budgets,
``--only`` picks the right sections, the negative-transfer summary reads a diagram correctly, and
docs/findings.md quotes the numbers the script wrote (docs/data/findings.json)."""

import importlib.util
import json
from pathlib import Path

import pytest

from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe.contract.phase_diagram import PhaseDiagramRequest
from tlprobe_server.budget import check_learning_curve, check_phase_diagram
from tlprobe_server.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "findings.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("findings", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_request_is_valid_and_within_the_default_budgets(example):
    settings = Settings()
    for kind, make in example.REQUESTS.values():
        for request in make().values():
            if kind == "learning_curve":
                check_learning_curve(LearningCurveRequest.model_validate(request), settings)
            else:
                check_phase_diagram(PhaseDiagramRequest.model_validate(request), settings)


def test_the_nested_pair_is_one_pair_of_tasks_with_roles_swapped(example):
    requests = example.nested_requests()
    down, up = requests["complex_to_simple"], requests["simple_to_complex"]
    assert down["source"]["latent_dim"] + down["target"]["latent_change"] == up["source"]["latent_dim"]
    assert up["source"]["latent_dim"] + up["target"]["latent_change"] == down["source"]["latent_dim"]


def test_only_picks_sections_and_finetune_names_the_target_trainings(example):
    assert example.parse_sections(None) == example.SECTIONS
    assert example.parse_sections("nested,tf_rf") == ["nested", "tf_rf"]
    assert example.parse_sections("finetune") == ["curves", "tf_scratch", "tf_scratch_fixed"]
    for section in example.FINETUNE_SECTIONS:  # every section with scratch or finetune is among them
        assert section in example.SECTIONS
    for section, (_, make) in example.REQUESTS.items():
        trains = any(set(r.get("protocols", [])) & {"scratch", "finetune"} or r.get("baseline") in ("scratch", "finetune")
                     for r in make().values())
        assert trains == (section in example.FINETUNE_SECTIONS), section
    with pytest.raises(SystemExit, match="unknown section"):
        example.parse_sections("curves,nope")


def test_negative_summary_finds_where_the_gain_turns_negative_and_the_worst_cell(example):
    diagram = {"x": [0.5, 1.0, 2.0], "y": [0.0, 0.5, 0.75, 1.0],
               "gain": [[0.3, 0.2, 0.1], [0.1, -0.1, -0.2], [-0.1, 0.1, -0.1], [-0.1, None, -0.3]],
               "boundary": []}
    summary = example.negative_summary(diagram)
    # row 2 goes negative -> positive -> negative: it turns negative (from positive) between 1 and 2
    assert summary["turns_negative_at"] == [None, 0.75, 1.5, None]
    assert summary["negative_at_smallest_alpha"] == [False, False, True, True]
    assert summary["negative_alphas"] == [[], [1.0, 2.0], [0.5, 2.0], [0.5, 2.0]]
    assert summary["negative_everywhere"] == [False, False, False, True]
    assert summary["most_negative"] == {"gain": -0.3, "knob": 1.0, "alpha": 2.0}
    assert summary["first_value_negative_somewhere"] == 0.5


def test_the_page_quotes_the_numbers_the_script_wrote(example):
    data = json.loads((ROOT / "docs" / "data" / "findings.json").read_text())
    page = (ROOT / "docs" / "findings.md").read_text()
    quoted = example.quoted(data)
    assert quoted, "the page quotes numbers"
    missing = {key: text for key, text in quoted.items() if text not in page}
    assert not missing, f"docs/findings.md does not quote these numbers of findings.json: {missing}"


def test_the_nested_pair_shares_its_targets_in_the_stored_numbers():
    """Complex to simple has the same target as the simple task itself (and simple to complex as the
    complex one), and rf's features do not depend on the source: their rf curves are the same numbers."""
    nested = json.loads((ROOT / "docs" / "data" / "findings.json").read_text())["nested"]
    assert nested["complex_to_simple"]["protocols"]["rf"] == nested["simple_to_simple"]["protocols"]["rf"]
    assert nested["simple_to_complex"]["protocols"]["rf"] == nested["complex_to_complex"]["protocols"]["rf"]
    assert nested["complex_to_simple"]["target_latent_dim"] == 25 and nested["simple_to_complex"]["target_latent_dim"] == 50
