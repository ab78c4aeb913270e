"""How a diagram fans out into parts: theory per target, simulation chunks, the shared network."""



from tlprobe.contract.phase_diagram import PhaseDiagramRequest
from tlprobe.diagrams.plan import plan


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
