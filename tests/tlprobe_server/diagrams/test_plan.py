"""How a diagram fans out into parts: theory per target, simulation chunks, the shared network."""

import pytest

from tlprobe.contract.learning_curve import TargetParams
from tlprobe.contract.phase_diagram import PhaseDiagramRequest
from tlprobe_server.diagrams.plan import InvalidCell, plan


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
    assert len(layout.networks) == 1 and {p.network for p in layout.parts} == {0}
    assert layout.networks[0].source == diagram.source and layout.networks[0].network == diagram.network


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


def test_an_axis_over_the_network_trains_one_network_per_value():
    diagram = request(x_axis={"name": "alpha", "values": [0.5, 1]}, y_axis={"name": "hidden_units", "values": [20, 40]},
                      simulation={"seeds": 1}, baseline="scratch")
    layout = plan(diagram, chunk=2)
    assert [n.network.hidden_units for n in layout.networks] == [20, 40]
    for part in layout.parts:
        assert part.request.network.hidden_units == layout.networks[part.network].network.hidden_units
        assert all(yi == part.network for _, yi, _ in part.cells)  # row yi has K = [20, 40][yi]
    assert [p.role for p in layout.parts] == ["theory", "simulation"] * 2


def test_lambdas_on_an_axis_share_their_spectra():
    diagram = request(x_axis={"name": "alpha", "values": [0.5, 1]},
                      y_axis={"name": "regularisation", "values": [1e-3, 1e-1, 10]})
    layout = plan(diagram, chunk=2)
    assert len(layout.networks) == 1 and len(layout.parts) == 3
    assert [p.request.readout.regularisation for p in layout.parts] == [1e-3, 1e-1, 10]
    assert [p.after for p in layout.parts] == [None, 0, 0]  # the first builds the spectra, the others reuse them


def test_a_cell_that_cannot_be_computed_is_named():
    # the request's own rules refuse this diagram; planned anyway (built without validation), the
    # plan names the first cell that is not a valid learning curve
    valid = request(x_axis={"name": "alpha", "values": [1, 2]}, y_axis={"name": "latent_dim", "values": [10, 20]})
    broken = valid.model_copy(update={"target": TargetParams(latent_change=-12)})
    with pytest.raises(InvalidCell, match="cell alpha=1, latent_dim=10: .*latent_change -12 would empty"):
        plan(broken, chunk=2)


def test_every_part_carries_the_diagrams_tuning_rule():
    for tuning, rule in (({}, "best_achievable"), ({"rule": "practitioner", "folds": 3}, "practitioner")):
        diagram = request(x_axis={"name": "alpha", "values": [0.5, 1]}, y_axis={"name": "teacher_noise", "values": [0.1]},
                          simulation={"seeds": 2}, baseline="scratch", tuning=tuning)
        parts = plan(diagram, chunk=1).parts
        assert len(parts) == 3 and all(p.request.tuning == diagram.tuning for p in parts)
        assert diagram.tuning.rule.value == rule
