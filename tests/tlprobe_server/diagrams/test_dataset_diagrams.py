"""Phase diagrams on datasets, without Redis: the contract (which axes mean something on data, the
checks against the datasets' descriptions located at axis values), the plan (one source network per
n_s, on the source dataset), the budget (it needs the descriptions, and counts their sizes) and the
assembly (the gain on the simulation, the Gaussian-equivalent grid beside it)."""

import pytest
from pydantic import ValidationError

from tests.tlprobe.contract.test_datasets import SOURCE, TARGET, described
from tlprobe.contract.axes import AXES, DATASET_AXES, AxisName
from tlprobe.contract.datasets import DatasetSource
from tlprobe.contract.phase_diagram import PhaseDiagramRequest
from tlprobe_server.budget import check_phase_diagram, learning_curve_cost, phase_diagram_cost
from tlprobe_server.diagrams.assemble import assemble
from tlprobe_server.diagrams.catalogue import catalogue_entry
from tlprobe_server.diagrams.plan import plan
from tlprobe_server.kinds import SERVER_KINDS as KINDS
from tlprobe_server.settings import Settings

DESCRIBED = {SOURCE: described(SOURCE, 899, 64), TARGET: described(TARGET, 898, 64)}  # training splits 719 and 718


def on_datasets(**changes) -> PhaseDiagramRequest:
    body = {"source": {"dataset": SOURCE}, "target": {"dataset": TARGET}, "simulation": {"seeds": 2},
            "x_axis": {"name": "alpha", "values": [0.5, 2.0]}, "y_axis": {"name": "n_samples", "values": [100, 300]}}
    body.update(changes)
    return PhaseDiagramRequest.model_validate(body)


def test_the_axes_on_datasets_are_alpha_and_the_network_and_readout_parameters():
    assert DATASET_AXES == [AxisName.alpha, AxisName.hidden_units, AxisName.hidden_layers, AxisName.n_samples,
                            AxisName.epochs, AxisName.regularisation, AxisName.transfer_layer]
    for name in AxisName:
        values = [1.0] if AXES[name].integer else [0.25]  # valid for every field (label noise < 0.5)
        axis = {"name": name.value, "values": values}
        changes = {"y_axis": axis} if name is not AxisName.alpha else {"x_axis": axis, "y_axis": {"name": "epochs",
                                                                                                   "values": [10]}}
        if name in DATASET_AXES:
            on_datasets(**changes)
        else:
            with pytest.raises(ValidationError, match=f"y_axis: axis {name.value} .* has no meaning when source"):
                on_datasets(**changes)


def test_the_grid_is_checked_against_the_datasets_at_each_axis_value():
    assert on_datasets().dataset_problems(DESCRIBED) == []
    problems = dict(on_datasets(x_axis={"name": "alpha", "values": [0.5, 11.2, 12.0]},
                                y_axis={"name": "n_samples", "values": [100, 719, 720]}).dataset_problems(DESCRIBED))
    assert list(problems) == [("x_axis", "values", 2), ("y_axis", "values", 2)]
    assert "largest possible alpha is 11.2188" in problems[("x_axis", "values", 2)]
    assert "n_samples 720 exceeds the 719 samples" in problems[("y_axis", "values", 2)]
    fixed = dict(on_datasets(x_axis={"name": "hidden_units", "values": [5, 10]}, alpha=12.0,
                             network={"n_samples": 800}, y_axis={"name": "epochs", "values": [5]}
                             ).dataset_problems(DESCRIBED))
    assert list(fixed) == [("network", "n_samples"), ("alpha",)]
    assert on_datasets().dataset_ids == [SOURCE, TARGET] and KINDS["phase_diagram"].datasets(on_datasets())


def test_the_plan_trains_one_source_network_per_n_s_on_the_source_dataset():
    layout = plan(on_datasets(), chunk=4)
    assert [network.network.n_samples for network in layout.networks] == [100, 300]
    assert all(isinstance(network.source, DatasetSource) for network in layout.networks)
    assert KINDS["source_network"].datasets(layout.networks[0]) == [(("source", "dataset"), SOURCE)]
    assert [part.role for part in layout.parts] == ["theory"] * 2 + ["simulation"] * 2
    assert all(part.request.uses_datasets and part.request.alphas == [0.5, 2.0] for part in layout.parts)
    assert layout.parts[3].request.network.n_samples == 300 and layout.parts[3].cells == ((0, 1, 0, 0), (1, 1, 0, 1))
    assert [part.networks for part in layout.parts] == [(0,), (1,), (0,), (1,)]  # each used by two parts: a job
    without_theory = plan(on_datasets(theory=None), chunk=1)
    assert [part.role for part in without_theory.parts] == ["simulation"] * 4


def test_the_budget_of_a_diagram_on_datasets_needs_and_counts_their_descriptions():
    diagram = on_datasets()
    layout = plan(diagram, chunk=4)
    with pytest.raises(ValueError, match="costed with their descriptions"):
        phase_diagram_cost(layout)
    cost = phase_diagram_cost(layout, DESCRIBED)
    trainings = [learning_curve_cost(part.request, DESCRIBED).training for part in layout.parts[:2]]
    assert cost.training == pytest.approx(sum(trainings))
    assert cost.work == pytest.approx(sum(learning_curve_cost(p.request, DESCRIBED).work for p in layout.parts)
                                      - sum(trainings))  # each network trained once, not once per part
    big = {SOURCE: described(SOURCE, 200_000, 4000), TARGET: described(TARGET, 200_000, 4000)}
    settings = Settings(redis_url="redis://unused:1/0")
    check_phase_diagram(diagram, settings, layout, DESCRIBED)
    with pytest.raises(ValueError, match="exceeds the limit"):
        check_phase_diagram(diagram, settings, layout, big)


def curve(sim: dict[str, list[float]], equivalent: dict[str, list[float]] | None) -> dict:
    return {"source_test_error": 0.1, "curves": {p: {
        "theory": None, "simulation": {"test_error_mean": e, "test_error_sem": [0.01, 0.01]},
        "gaussian_equivalent": None if equivalent is None or p not in equivalent else
        {"test_error": equivalent[p], "converged": [True, False]}} for p, e in sim.items()}}


def test_the_gain_is_on_the_simulation_and_the_gaussian_equivalent_comes_beside_it():
    diagram = on_datasets(y_axis={"name": "n_samples", "values": [100]})
    record = {"networks": ["net-a"], "cells": 2, "parts": [
        {"job_id": "lc-t", "kind": "learning_curve", "role": "theory", "cells": [[0, 0, 0, 0], [1, 0, 0, 1]]},
        {"job_id": "lc-s", "kind": "learning_curve", "role": "simulation", "cells": [[0, 0, 0, 0], [1, 0, 0, 1]]}]}
    theory_part = curve({"tf": [0.3, 0.2], "rf": [0.4, 0.3]}, {"tf": [0.28, 0.19], "rf": [0.41, 0.33]})
    simulation_part = curve({"tf": [0.31, 0.21], "rf": [0.35, 0.2]}, {"tf": [0.0, 0.0], "rf": [0.0, 0.0]})
    for part in (theory_part, simulation_part):  # a part on datasets has no GCM theory, only the approximation
        for protocol in part["curves"].values():
            protocol["theory"] = None
    result = assemble(diagram, record, [[(theory_part, None)], [(simulation_part, None)]])
    assert result["gain_basis"] == "simulation" and result["theory"] is None and result["complete"]
    assert result["gain"] == [[pytest.approx(0.04), pytest.approx(-0.01)]]
    # read from the theory part only; a value that did not converge is null, and no cell fails for it
    assert result["gaussian_equivalent"] == {"tf": [[0.28, None]], "rf": [[0.41, None]]}
    assert assemble(on_datasets(theory=None), {**record, "parts": record["parts"][1:]},
                    [[(simulation_part, None)]])["gaussian_equivalent"] is None


def test_the_catalogue_entry_names_the_datasets_as_fixed_parameters():
    entry = catalogue_entry("pd-x", on_datasets(), True, "2026-01-01T00:00:00+00:00")
    assert entry.parameters["source.dataset"] == SOURCE and entry.parameters["target.dataset"] == TARGET
    assert entry.parameters["target.test_fraction"] == 0.2 and "network.n_samples" not in entry.parameters
