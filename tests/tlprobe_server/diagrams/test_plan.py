"""How a diagram fans out into parts: theory per target, simulation chunks, the shared network, and
tiles of curves that keep a 100 x 100 diagram a bounded number of jobs whatever its axes."""

import pytest

from tlprobe.contract.axes import AXES
from tlprobe.contract.learning_curve import TargetParams
from tlprobe.contract.phase_diagram import PhaseDiagramRequest
from tlprobe_server.diagrams.plan import TILES, InvalidCell, Plan, blocks, plan
from tlprobe_server.settings import Settings


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
    assert layout.parts[1].cells == ((0, 1, 0, 0), (1, 1, 0, 1), (2, 1, 0, 2))
    assert {p.kind for p in layout.parts} == {"learning_curve"}  # a small diagram: one job per curve
    assert len(layout.networks) == 1 and {p.networks for p in layout.parts} == {(0,)}
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
    assert all(p.networks == (0,) for p in layout.parts)  # one network, three parts: trained by its own job
    assert roles == [("theory", [0.5, 1.0, 2.0], None), ("simulation", [0.5, 1.0], 0), ("simulation", [2.0], 0)]
    assert [p.value for p in layout.parts[1].request.protocols] == ["tf", "scratch"]
    assert [p.value for p in layout.parts[0].request.protocols] == ["tf"]  # scratch has no theory


def test_an_axis_over_the_network_trains_one_network_per_value():
    diagram = request(x_axis={"name": "alpha", "values": [0.5, 1]}, y_axis={"name": "hidden_units", "values": [20, 40]},
                      simulation={"seeds": 1}, baseline="scratch")
    layout = plan(diagram, chunk=2)
    assert [n.network.hidden_units for n in layout.networks] == [20, 40]
    for part in layout.parts:
        (network,) = part.networks
        assert part.request.network.hidden_units == layout.networks[network].network.hidden_units
        assert all(yi == network for _, yi, _, _ in part.cells)  # row yi has K = [20, 40][yi]
    assert [p.role for p in layout.parts] == ["theory"] * 2 + ["simulation"] * 2
    # theory only, each network has one part: that part trains it, no network job
    alone = plan(request(x_axis=diagram.x_axis.model_dump(), y_axis=diagram.y_axis.model_dump()), chunk=2)
    assert alone.networks == () and [p.networks for p in alone.parts] == [(), ()]


def test_lambdas_on_an_axis_share_their_spectra():
    diagram = request(x_axis={"name": "alpha", "values": [0.5, 1]},
                      y_axis={"name": "regularisation", "values": [1e-3, 1e-1, 10]})
    layout = plan(diagram, chunk=2)
    assert len(layout.networks) == 1 and len(layout.parts) == 3
    assert [p.request.readout.regularisation for p in layout.parts] == [1e-3, 1e-1, 10]
    assert [p.after for p in layout.parts] == [None, 0, 0]  # the first builds the spectra, the others reuse them


def test_a_transfer_layer_axis_shares_one_deep_network_and_label_noise_shares_spectra():
    layers = request(x_axis={"name": "transfer_layer", "values": [1, 2, 3]}, y_axis={"name": "feature_noise",
                     "values": [0, 0.5]}, network={"hidden_layers": 3})
    layout = plan(layers, chunk=2)
    assert len(layout.networks) == 1 and layout.networks[0].network.hidden_layers == 3
    assert [(p.request.readout.transfer_layer, p.request.target.feature_noise) for p in layout.parts] == \
        [(layer, noise) for noise in (0.0, 0.5) for layer in (1, 2, 3)]
    depths = request(x_axis={"name": "hidden_layers", "values": [1, 2]}, y_axis={"name": "alpha", "values": [1, 2]})
    layout = plan(depths, chunk=2)  # one source network per depth, each used by one part: trained inside it
    assert layout.networks == () and [p.request.network.hidden_layers for p in layout.parts] == [1, 2]
    noisy = request(x_axis={"name": "alpha", "values": [1, 2]}, y_axis={"name": "label_noise", "values": [0, 0.1, 0.2]})
    layout = plan(noisy, chunk=2)
    assert [p.request.target.label_noise for p in layout.parts] == [0.0, 0.1, 0.2]
    assert [p.after for p in layout.parts] == [None, 0, 0]  # flips touch no spectra: the first builds them


def test_a_cell_that_cannot_be_computed_is_named():
    # the request's own rules refuse this diagram; planned anyway (built without validation), the
    # plan names the first cell that is not a valid learning curve
    valid = request(x_axis={"name": "alpha", "values": [1, 2]}, y_axis={"name": "latent_dim", "values": [10, 20]})
    broken = valid.model_copy(update={"target": TargetParams(latent_change=-12)})
    with pytest.raises(InvalidCell, match="cell alpha=1, latent_dim=10: .*latent_change -12 would empty"):
        plan(broken, chunk=2)


VALUES = {"alpha": [0.04 * (i + 1) for i in range(100)], "feature_noise": [i / 100 for i in range(100)],
          "teacher_noise": [i / 100 for i in range(100)], "regularisation": [10 ** (-4 + 6 * i / 99) for i in range(100)],
          "hidden_units": [10 + 2 * i for i in range(100)], "n_samples": [500 + 10 * i for i in range(100)],
          "latent_change": list(range(-40, 60))}


def covers_every_cell_once(diagram: PhaseDiagramRequest, layout: Plan) -> None:
    """Every cell in exactly one theory part, at a curve whose fields and alpha are the cell's."""
    seen = set()
    for part in layout.parts:
        curves = part.curves
        for xi, yi, ci, ai in part.cells:
            assert (xi, yi) not in seen
            seen.add((xi, yi))
            curve = curves[ci]
            for axis, index in ((diagram.x_axis, xi), (diagram.y_axis, yi)):
                field = AXES[axis.name]
                value = curve.alphas[ai] if field.section is None else getattr(getattr(curve, field.section), field.field)
                assert value == field.cast(axis.values[index])
            if diagram.x_axis.name.value != "alpha" and diagram.y_axis.name.value != "alpha":
                assert curve.alphas[ai] == diagram.alpha
    assert seen == {(xi, yi) for xi in range(len(diagram.x_axis.values)) for yi in range(len(diagram.y_axis.values))}


@pytest.mark.parametrize("x, y, jobs", [
    ("alpha", "feature_noise", 101),  # a row is a group of 100 alphas: two curves of 50, one tile
    ("feature_noise", "teacher_noise", 101),  # 10,000 one-cell curves in tiles of 100
    ("regularisation", "feature_noise", 101),  # a family of 100 lambdas shares its spectra, in one tile
    ("alpha", "regularisation", 101),  # one family of 10,000 cells: 99 tiles wait for the first
    ("hidden_units", "alpha", 100),  # one network per tile: each tile trains its own
    ("n_samples", "hidden_units", 100),  # 10,000 networks, 100 per tile
    ("latent_change", "n_samples", 100),
])
def test_a_100_by_100_theory_diagram_is_a_bounded_number_of_jobs_whatever_its_axes(x, y, jobs):
    diagram = request(x_axis={"name": x, "values": VALUES[x]}, y_axis={"name": y, "values": VALUES[y]},
                      source={"latent_dim": 50 if "latent_change" not in (x, y) else 60})
    layout = plan(diagram, chunk=2, tiles=100)
    assert len(layout.parts) + len(layout.networks) == jobs
    assert all(part.role == "theory" and part.kind == "diagram_tile" for part in layout.parts)
    assert max(len(part.cells) for part in layout.parts) == 100
    assert all(len(curve.alphas) <= 64 for part in layout.parts for curve in part.curves)
    covers_every_cell_once(diagram, layout)
    # no chains: a part waits at most for one that waits for nothing
    assert all(layout.parts[part.after].after is None for part in layout.parts if part.after is not None)
    if (x, y) == ("alpha", "regularisation"):
        assert [part.after for part in layout.parts] == [None] + [0] * 99


def test_tiles_keep_a_family_whole_and_a_larger_one_in_tiles_of_its_own():
    # 9 x 7 cells over lambda x feature noise at a fixed alpha: 7 families of 9 lambdas sharing spectra; the
    # capacity ceil(63 / 4) = 16 cells holds one family whole (9) but not two
    diagram = request(x_axis={"name": "regularisation", "values": VALUES["regularisation"][:9]},
                      y_axis={"name": "feature_noise", "values": VALUES["feature_noise"][:7]})
    layout = plan(diagram, chunk=2, tiles=4)
    assert [len(part.cells) for part in layout.parts] == [9] * 7 and all(p.after is None for p in layout.parts)
    covers_every_cell_once(diagram, layout)
    # 20 lambdas x 3 noises, capacity ceil(60 / 6) = 10: each family of 20 fills two tiles, the second waiting for the first
    wide = request(x_axis={"name": "regularisation", "values": VALUES["regularisation"][:20]},
                   y_axis={"name": "feature_noise", "values": VALUES["feature_noise"][:3]})
    layout = plan(wide, chunk=2, tiles=6)
    assert [len(part.cells) for part in layout.parts] == [10] * 6
    assert [part.after for part in layout.parts] == [None, 0, None, 2, None, 4]
    covers_every_cell_once(wide, layout)


def test_a_group_of_more_alphas_than_a_curve_takes_is_split_into_contiguous_curves():
    assert blocks(list(range(100)), 64) == [list(range(50)), list(range(50, 100))]
    assert [len(b) for b in blocks(list(range(130)), 64)] == [44, 43, 43] and blocks([1.0], 64) == [[1.0]]
    diagram = request(x_axis={"name": "alpha", "values": VALUES["alpha"]}, y_axis={"name": "feature_noise", "values": [0.5]})
    layout = plan(diagram, chunk=2)  # 100 cells, 100 tiles: a job per curve, the second reusing the first's spectra
    assert [(p.kind, p.request.alphas, p.after) for p in layout.parts] == [
        ("learning_curve", VALUES["alpha"][:50], None), ("learning_curve", VALUES["alpha"][50:], 0)]
    covers_every_cell_once(diagram, layout)


def test_a_small_diagram_is_one_job_per_curve_and_a_larger_one_in_tiles():
    assert Settings(redis_url="redis://unused:1/0").diagram_tiles == TILES  # the plan's default is the setting's
    knobs = request(x_axis={"name": "feature_noise", "values": VALUES["feature_noise"][:20]},
                    y_axis={"name": "teacher_noise", "values": VALUES["teacher_noise"][:5]})
    assert [p.kind for p in plan(knobs, chunk=2).parts] == ["learning_curve"] * 100  # 100 cells: 100 jobs
    bigger = knobs.model_copy(update={"y_axis": knobs.y_axis.model_copy(update={"values": VALUES["teacher_noise"][:20]})})
    layout = plan(bigger, chunk=2)  # 400 cells: tiles of 4
    assert len(layout.parts) == 100 and all(len(p.curves) == 4 for p in layout.parts)
    covers_every_cell_once(bigger, layout)


def test_every_part_carries_the_diagrams_tuning_rule():
    for tuning, rule in (({}, "best_achievable"), ({"rule": "practitioner", "folds": 3}, "practitioner")):
        diagram = request(x_axis={"name": "alpha", "values": [0.5, 1]}, y_axis={"name": "teacher_noise", "values": [0.1]},
                          simulation={"seeds": 2}, baseline="scratch", tuning=tuning)
        parts = plan(diagram, chunk=1).parts
        assert len(parts) == 3 and all(p.request.tuning == diagram.tuning for p in parts)
        assert diagram.tuning.rule.value == rule
