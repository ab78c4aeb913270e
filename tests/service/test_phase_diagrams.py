"""Phase-diagram planning, validation, CSV and catalogue (no workers needed)."""

import time

import pytest
from pydantic import ValidationError

from service.phase_diagrams import add_to_catalogue, catalogue_entry, list_catalogue, parse_range
from service.phase_plan import plan
from service.routes.phase_diagrams import CSV_COLUMNS, tidy_csv
from service.schemas.phase_diagram import PhaseDiagramRequest


def request(**changes) -> PhaseDiagramRequest:
    return PhaseDiagramRequest.model_validate(changes)


def test_a_knob_by_alpha_diagram_has_one_theory_part_per_target():
    diagram = request(x_axis={"name": "alpha", "values": [0.5, 1, 2]},
                      y_axis={"name": "feature_noise", "values": [0, 0.5]})
    layout = plan(diagram, chunk=2)
    assert layout.n_cells == 6 and len(layout.parts) == 2
    for part, noise in zip(layout.parts, (0.0, 0.5)):
        assert part.role == "theory" and part.request.simulation is None
        assert part.request.target.feature_noise == noise and part.request.alphas == [0.5, 1.0, 2.0]
        assert [p.value for p in part.request.protocols] == ["tf", "rf"]
    assert layout.parts[1].cells == ((0, 1, 0), (1, 1, 1), (2, 1, 2))
    assert layout.network.source == diagram.source and layout.network.network == diagram.network


def test_a_knob_by_knob_diagram_has_one_target_per_cell_at_the_fixed_alpha():
    diagram = request(x_axis={"name": "teacher_noise", "values": [0, 0.5]},
                      y_axis={"name": "latent_change", "values": [-10, 0, 10]}, alpha=2.0, baseline="linear")
    layout = plan(diagram, chunk=2)
    assert len(layout.parts) == 6 and all(p.request.alphas == [2.0] for p in layout.parts)
    targets = {(p.request.target.teacher_noise, p.request.target.latent_change) for p in layout.parts}
    assert targets == {(t, d) for t in (0.0, 0.5) for d in (-10, 0, 10)}
    assert [p.value for p in layout.parts[0].request.protocols] == ["tf", "linear"]


def test_simulation_parts_are_chunks_after_their_theory_part():
    diagram = request(x_axis={"name": "alpha", "values": [0.5, 1, 2]}, y_axis={"name": "teacher_noise", "values": [0.1]},
                      simulation={"seeds": 2}, baseline="scratch")
    layout = plan(diagram, chunk=2)
    roles = [(p.role, p.request.alphas, p.after) for p in layout.parts]
    assert roles == [("theory", [0.5, 1.0, 2.0], None), ("simulation", [0.5, 1.0], 0), ("simulation", [2.0], 0)]
    assert [p.value for p in layout.parts[1].request.protocols] == ["tf", "scratch"]
    assert [p.value for p in layout.parts[0].request.protocols] == ["tf"]  # scratch has no theory


@pytest.mark.parametrize("changes, message", [
    ({"x_axis": {"name": "alpha", "values": [1, 2]}, "y_axis": {"name": "alpha", "values": [1, 2]}}, "must differ"),
    ({"x_axis": {"name": "feature_noise", "values": [0.5, 0.2]}}, "strictly increasing"),
    ({"x_axis": {"name": "teacher_noise", "values": [0.5, 1.5]}}, "[0, 1]"),
    ({"x_axis": {"name": "latent_change", "values": [0.5]}}, "integers"),
    ({"x_axis": {"name": "latent_change", "values": [-50, 0]}}, "empty the latent space"),
    ({"baseline": "scratch"}, "exists only in simulation"),
    ({"x_axis": {"name": "alpha", "values": [i / 10 + 0.1 for i in range(30)]},
      "y_axis": {"name": "feature_noise", "values": [i / 30 for i in range(30)]}}, "at most 400"),
])
def test_invalid_diagrams_are_refused(changes, message):
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        request(**changes)


def test_budget_of_simulation_baselines(client):
    diagram = {"x_axis": {"name": "alpha", "values": [0.5, 1, 2, 4]},
               "y_axis": {"name": "teacher_noise", "values": [0, 0.2, 0.4, 0.6, 0.8, 1.0]},
               "simulation": {"seeds": 10}, "baseline": "finetune"}
    response = client.post("/v1/phase-diagrams", json=diagram)
    assert response.status_code == 422 and "240 scratch/finetune training runs" in response.json()["detail"][0]["msg"]


RESULT = {
    "x_axis": {"name": "alpha", "values": [1.0, 2.0]}, "y_axis": {"name": "teacher_noise", "values": [0.0]},
    "protocols": ["tf", "rf"], "theory": {"tf": [[0.1, 0.2]], "rf": [[0.3, None]]}, "simulation": None,
    "test_error_sem": None, "gain": [[0.2, None]], "failures": [{"x_index": 1, "y_index": 0, "reason": "x"}],
}


def test_csv_is_tidy_one_row_per_cell_and_protocol():
    lines = tidy_csv(RESULT).splitlines()
    assert lines[0].split(",") == CSV_COLUMNS
    assert len(lines) == 1 + 2 * 2
    assert lines[1] == "alpha,1.0,teacher_noise,0.0,tf,0.1,,,0.2,False"
    assert lines[4] == "alpha,2.0,teacher_noise,0.0,rf,,,,,True"


def test_catalogue_filters_and_paginates(redis):
    diagrams = [request(y_axis={"name": "feature_noise", "values": [0.0, 0.5]}, source={"input_dim": 100}),
                request(y_axis={"name": "teacher_noise", "values": [0.0, 0.5]}, source={"input_dim": 300}),
                request(x_axis={"name": "feature_noise", "values": [0.0, 1.0]}, y_axis={"name": "teacher_noise",
                        "values": [0.0]}, baseline="linear", source={"input_dim": 300})]
    for i, diagram in enumerate(diagrams):
        add_to_catalogue(redis, catalogue_entry(f"pd-{i}", diagram, complete=i != 1, computed_at="now"), 100,
                         time.time() + i)
    ids = lambda **kw: [e.diagram_id for e in list_catalogue(redis, **kw).items]  # noqa: E731
    assert ids() == ["pd-2", "pd-1", "pd-0"]  # newest first
    assert ids(y_axis="teacher_noise") == ["pd-2", "pd-1"]
    assert ids(axis="feature_noise") == ["pd-2", "pd-0"]
    assert ids(baseline="linear") == ["pd-2"] and ids(protocol="linear") == ["pd-2"]
    assert ids(complete=False) == ["pd-1"]
    assert ids(ranges=dict([parse_range("source.input_dim:200:")])) == ["pd-2", "pd-1"]
    assert ids(ranges=dict([parse_range("source.input_dim::150")])) == ["pd-0"]
    page = list_catalogue(redis, offset=1, limit=1)
    assert page.total == 3 and [e.diagram_id for e in page.items] == ["pd-1"]
    redis.delete("tlprobe:catalogue:entry:pd-1")  # expired with its result
    assert ids() == ["pd-2", "pd-0"] and redis.zcard("tlprobe:catalogue:phase_diagrams") == 2


def test_catalogue_range_syntax(client):
    assert client.get("/v1/phase-diagrams", params={"range": "source.input_dim:nan:3"}).status_code == 422
    assert client.get("/v1/phase-diagrams", params={"range": "source.input_dim:1:oops"}).status_code == 422
    assert client.get("/v1/phase-diagrams", params={"range": "source.input_dim:1:"}).json()["total"] == 0
