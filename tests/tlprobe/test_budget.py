"""Budgets: a diagram trains each of its source networks once, and pays for every part."""

import pytest

from tlprobe.budget import BudgetExceeded, check_phase_diagram, learning_curve_cost, phase_diagram_cost
from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe.contract.phase_diagram import PhaseDiagramRequest
from tlprobe.diagrams.plan import plan
from tlprobe.settings import Settings


def test_a_diagram_pays_one_training_per_source_network():
    one = PhaseDiagramRequest.model_validate({"y_axis": {"name": "teacher_noise", "values": [0, 0.5]}})
    two = PhaseDiagramRequest.model_validate({"y_axis": {"name": "n_samples", "values": [1000, 3000]}})
    training = {n: learning_curve_cost(LearningCurveRequest(network={"n_samples": n}, simulation=None)).training
                for n in (1000, 2000, 3000)}
    assert phase_diagram_cost(plan(one, 2)).training == pytest.approx(training[2000])
    assert phase_diagram_cost(plan(two, 2)).training == pytest.approx(training[1000] + training[3000])


def test_many_large_networks_on_an_axis_exceed_the_budget():
    diagram = PhaseDiagramRequest.model_validate({"y_axis": {"name": "hidden_units", "values": [1000, 2000, 3000, 4000]},
                                                  "network": {"n_samples": 100_000, "epochs": 1000}})
    with pytest.raises(BudgetExceeded, match="for the whole diagram"):
        check_phase_diagram(diagram, Settings(redis_url="redis://unused:1/0"))
