"""Budgets: a diagram trains each of its source networks once, and pays for every part."""

import pytest

from tlprobe.contract.common import Protocol, TuningRule
from tlprobe.contract.learning_curve import LearningCurveRequest, SimulationParams
from tlprobe.contract.phase_diagram import PhaseDiagramRequest
from tlprobe_server.budget import (
    OPTIMAL_SOLVES,
    STEP_OVERHEAD,
    THEORY_SOLVE,
    BudgetExceeded,
    check_learning_curve,
    check_phase_diagram,
    learning_curve_cost,
    network_runs,
    phase_diagram_cost,
    training_runs,
)
from tlprobe_server.diagrams.plan import plan
from tlprobe_server.settings import Settings


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


def test_regression_each_optimiser_step_costs_something():
    # found by make fuzz: batch_size 1 with K = 1 was nearly free under the flop count alone, was accepted
    # under a 1e10 budget, and ran 600,000 steps past a two-minute timeout
    tiny = LearningCurveRequest.model_validate({"network": {"hidden_units": 1, "batch_size": 1}})
    assert learning_curve_cost(tiny).work >= 600_000 * STEP_OVERHEAD
    with pytest.raises(BudgetExceeded, match="estimated work"):
        check_learning_curve(tiny, Settings(max_work=1e10))
    huge = LearningCurveRequest.model_validate({"network": {"n_samples": 200_000, "batch_size": 1, "epochs": 5000,
                                                            "hidden_units": 1}})
    with pytest.raises(BudgetExceeded):
        check_learning_curve(huge, Settings())


def test_deeper_networks_and_later_transfer_layers_cost_their_k_by_k_layers():
    # each hidden layer beyond the first adds a K x K product per sample beside the first layer's N x K:
    # with N = K the source network's training costs about L times the two-layer one (measured epoch
    # times at N = K = 400, n = 4000: 1.9 and 2.6 to 3.5 times for L = 2, 3)
    def cost(**network):
        return learning_curve_cost(LearningCurveRequest.model_validate(
            {"source": {"input_dim": 200}, "network": {"hidden_units": 200, **network}}))

    one, two, three = (cost(hidden_layers=depth) for depth in (1, 2, 3))
    assert two.training / one.training == pytest.approx(2.0, rel=0.05)
    assert three.training / one.training == pytest.approx(3.0, rel=0.05)
    first = learning_curve_cost(LearningCurveRequest.model_validate(
        {"source": {"input_dim": 200}, "network": {"hidden_units": 200, "hidden_layers": 3},
         "readout": {"transfer_layer": 1}}))
    assert first.training == three.training and first.work < three.work  # readouts on layer 1 cost less
    diagram = PhaseDiagramRequest.model_validate({"y_axis": {"name": "hidden_layers", "values": [1, 2, 3]}})
    assert phase_diagram_cost(plan(diagram, 2)).training == pytest.approx(one.training + two.training + three.training)


def test_each_alpha_pays_for_its_solves_a_search_when_lambda_is_optimal():
    # tf and rf: spectra from Monte Carlo samples, so each alpha also solves the two halves' curves at its lambda
    def theory(alphas, regularisation):
        return learning_curve_cost(LearningCurveRequest(alphas=alphas, protocols=["tf", "rf"], simulation=None,
                                                        readout={"regularisation": regularisation})).work

    # one more alpha: tf's and rf's solves
    assert theory([1.0, 2.0], 0.1) - theory([1.0], 0.1) == pytest.approx(2 * (1 + 2) * THEORY_SOLVE)
    assert theory([1.0, 2.0], "optimal") - theory([1.0], "optimal") == pytest.approx(2 * (OPTIMAL_SOLVES + 2) * THEORY_SOLVE)
    linear = LearningCurveRequest(alphas=[1.0, 2.0], protocols=["linear"], simulation=None)
    assert (learning_curve_cost(linear).work - learning_curve_cost(linear.model_copy(update={"alphas": [1.0]})).work
            == pytest.approx(OPTIMAL_SOLVES * THEORY_SOLVE))  # closed-form spectra: no halves


def test_a_100_by_100_diagram_over_alpha_fits_the_default_budget_and_one_over_two_knobs_pays_for_its_spectra():
    settings = Settings(redis_url="redis://unused:1/0")
    noise = [i / 99 for i in range(100)]
    over_alpha = PhaseDiagramRequest.model_validate({"x_axis": {"name": "alpha", "values": [0.04 * (i + 1) for i in range(100)]},
                                                     "y_axis": {"name": "feature_noise", "values": noise}})
    check_phase_diagram(over_alpha, settings)  # 100 spectra pairs, 10,000 alphas solved
    # 10,000 targets: 10,000 pairs of spectra, each from M Monte Carlo samples: 50,000 (the default) just fits
    # (1.9e14 of 2e14), twice as many do not
    knobs = {"x_axis": {"name": "teacher_noise", "values": noise}, "y_axis": {"name": "feature_noise", "values": noise}}
    check_phase_diagram(PhaseDiagramRequest.model_validate(knobs), settings)
    with pytest.raises(BudgetExceeded, match="for the whole diagram"):
        check_phase_diagram(PhaseDiagramRequest.model_validate({**knobs, "theory": {"mc_samples": 100_000}}), settings)


def test_the_tuning_is_counted():
    def cost(tuning, protocols=("scratch",), readout="tuned"):
        body = {"protocols": list(protocols), "theory": None, "tuning": tuning, "readout": {"regularisation": readout}}
        return learning_curve_cost(LearningCurveRequest.model_validate(body)).work

    fixed, best, practitioner = cost({"rule": "fixed"}, readout=0.1), cost({"rule": "best_achievable"}), \
        cost({"rule": "practitioner"})
    assert fixed < best < practitioner
    assert cost({"rule": "best_achievable", "weight_decays": [1e-4]}) < best
    assert cost({"rule": "best_achievable", "validation_samples": 100}) < best  # the checkpoints' scoring
    # scratch's runs per seed and alpha: one; one per weight decay; one per weight decay and fold on 4/5 of
    # the samples, and the refit
    sim, request = SimulationParams(), LearningCurveRequest()
    runs = {rule: [(r.count, r.share) for r in network_runs(Protocol.scratch, sim, request.tuning.model_copy(
        update={"rule": TuningRule(rule)}))] for rule in ("fixed", "best_achievable", "practitioner")}
    assert runs == {"fixed": [(1, 1.0)], "best_achievable": [(4, 1.0)], "practitioner": [(20, 0.8), (1, 1.0)]}
    # a readout's lambda on a grid of 15 costs more than at a given lambda
    assert cost({"rule": "best_achievable"}, ("tf",)) > cost({"rule": "fixed"}, ("tf",), 0.1)


def test_a_diagram_counts_every_tuning_run():
    body = {"x_axis": {"name": "alpha", "values": [0.25, 0.5, 1, 2, 4]},
            "y_axis": {"name": "feature_noise", "values": [0, 0.25, 0.5, 0.75, 1]},
            "baseline": "scratch", "simulation": {"seeds": 2}}
    assert training_runs(PhaseDiagramRequest.model_validate(body)) == 25 * 2 * 4  # a run per weight decay
    practitioner = PhaseDiagramRequest.model_validate({**body, "tuning": {"rule": "practitioner"}})
    assert training_runs(practitioner) == 25 * 2 * (4 * 5 + 1)
    fixed = PhaseDiagramRequest.model_validate({**body, "tuning": {"rule": "fixed"}, "readout": {"regularisation": 0.1}})
    assert training_runs(fixed) == 25 * 2
    with pytest.raises(BudgetExceeded, match="1050 scratch/finetune training runs"):
        check_phase_diagram(practitioner, Settings(max_diagram_training_runs=1000))
