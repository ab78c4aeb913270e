"""The learning-curve request: every invalid field is named; NaN and inf are refused."""

import pytest
from pydantic import ValidationError

from tlprobe.contract.gcm import GCMRequest
from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe.kinds import KINDS

LC = KINDS["learning_curve"]


@pytest.mark.parametrize("data, location", [
    ({"source": {"latent_dim": 0}}, ("source", "latent_dim")),
    ({"source": {"input_dim": 10**9}}, ("source", "input_dim")),
    ({"target": {"feature_noise": 1.01}}, ("target", "feature_noise")),
    ({"alphas": []}, ("alphas",)),
    ({"alphas": [0.0]}, ("alphas", 0)),
    ({"protocols": ["transfer"]}, ("protocols", 0)),
    ({"network": {"activation": "sign"}}, ("network", "activation")),
    ({"readout": {"regularisation": -0.1}}, ("readout", "regularisation")),
    ({"simulation": {"seeds": 0}}, ("simulation", "seeds")),
    ({"simulation": {"seeds": [1, 1]}}, ("simulation", "seeds")),
    ({"simulation": {"finetune": {"validation_fraction": 0.6}}}, ("simulation", "finetune", "validation_fraction")),
    ({"simulation": {"finetune": {"anchor": "target"}}}, ("simulation", "finetune", "anchor")),
    ({"simulation": {"finetune": {"regularisation": -1.0}}}, ("simulation", "finetune", "regularisation")),
    ({"simulation": {"scratch": {"epochs": 0}}}, ("simulation", "scratch", "epochs")),
    ({"sourc": {}}, ("sourc",)),
    ({"target": {"label_noise": 0.5}}, ("target", "label_noise")),
    ({"source": {"label_noise": -0.1}}, ("source", "label_noise")),
    ({"network": {"hidden_layers": 4}}, ("network", "hidden_layers")),
    ({"readout": {"transfer_layer": 0}}, ("readout", "transfer_layer")),
])
def test_invalid_learning_curve_fields_are_named(data, location):
    with pytest.raises(ValidationError) as info:
        LearningCurveRequest.model_validate(data)
    assert any(tuple(e["loc"])[:len(location)] == location for e in info.value.errors()), info.value.errors()


def test_a_transfer_layer_beyond_the_networks_depth_is_refused():
    with pytest.raises(ValidationError, match="readout.transfer_layer 3 exceeds network.hidden_layers 2"):
        LearningCurveRequest.model_validate({"network": {"hidden_layers": 2}, "readout": {"transfer_layer": 3}})
    request = LearningCurveRequest.model_validate({"network": {"hidden_layers": 3}, "readout": {"transfer_layer": 2}})
    assert request.transfer_layer == 2
    assert LearningCurveRequest.model_validate({"network": {"hidden_layers": 3}}).transfer_layer == 3


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_are_refused(value):
    with pytest.raises(ValidationError):
        LearningCurveRequest.model_validate({"target": {"teacher_noise": value}})
    with pytest.raises(ValidationError):
        GCMRequest.model_validate({"spectrum": {"omega": [1.0, value], "t": [0.1, 0.1], "rho": 1.0, "gamma": 1.0}})


def test_regression_a_huge_seed_count_is_refused_without_building_the_list():
    # found by fuzzing: {"seeds": 167836199} took 36 s and gigabytes to refuse; 2^40 would exhaust memory
    with pytest.raises(ValidationError, match="less than or equal to 32"):
        LearningCurveRequest.model_validate({"simulation": {"seeds": 2**40}})


@pytest.mark.parametrize("data, minimum", [
    ({"alphas": [1e-300]}, "1/N = 0.005"),  # issue 12: n_t = round(alpha N) = 0 ran on a clamped size
    ({"alphas": [1.0, 0.0049]}, "1/N = 0.005"),
    ({"alphas": [0.05], "source": {"input_dim": 10}}, "1/N = 0.1"),
])
def test_an_alpha_below_one_sample_is_refused_naming_the_minimum(data, minimum):
    with pytest.raises(ValidationError) as info:
        LearningCurveRequest.model_validate(data)
    error = info.value.errors()[0]
    assert error["loc"] == ("alphas",) and minimum in error["msg"]


def test_the_smallest_alpha_is_accepted():
    assert LearningCurveRequest.model_validate({"alphas": [0.005]}).alphas == [0.005]
    assert LearningCurveRequest.model_validate({"alphas": [0.1], "source": {"input_dim": 10}}).alphas == [0.1]


@pytest.mark.parametrize("field", ["epochs", "learning_rate"])
def test_the_replaced_shared_schedule_is_refused_with_its_replacement_named(field):
    # scratch and finetune used to share simulation.epochs / learning_rate (issue 9)
    with pytest.raises(ValidationError, match=f"simulation.{field} was replaced by simulation.scratch.{field} and "
                                              f"simulation.finetune.{field}"):
        LearningCurveRequest.model_validate({"simulation": {field: 10}})


DATASETS = {"source": {"dataset": "ds-" + "a" * 40}, "target": {"dataset": "ds-" + "b" * 40}}


def test_the_default_tuning_rule_is_best_achievable_on_synthetic_tasks_and_practitioner_on_datasets():
    synthetic, on_datasets = LearningCurveRequest(), LearningCurveRequest.model_validate(DATASETS)
    assert synthetic.tuning.rule.value == "best_achievable" and synthetic.readout.regularisation == "tuned"
    assert on_datasets.tuning.rule.value == "practitioner"
    spelled = LearningCurveRequest.model_validate({"tuning": {"rule": "best_achievable"}})
    assert LC.job_id(spelled) == LC.job_id(synthetic) == LC.job_id(LearningCurveRequest.model_validate({"tuning": {}}))
    # the dumped request (results and job payloads carry it) validates to itself
    assert LearningCurveRequest.model_validate(on_datasets.model_dump()) == on_datasets


@pytest.mark.parametrize("data, message", [
    ({**DATASETS, "tuning": {"rule": "best_achievable"}}, "datasets do not have"),
    ({"theory": None, "readout": {"regularisation": "oracle"}}, "'oracle' is the theory's optimum"),
    ({"tuning": {"rule": "fixed"}}, "give readout.regularisation as a number or 'oracle'"),
    ({"tuning": {"rule": "fixed"}, "theory": None, "readout": {"regularisation": "optimal"},
      "protocols": ["tf", "scratch"]}, r"as a number \(it is 'optimal'\)"),
    ({"simulation": {"scratch": {"weight_decay": 1e-3}}}, "chooses scratch's weight decay"),
    ({"tuning": {"rule": "practitioner"}, "simulation": {"finetune": {"regularisation": 5.0}}},
     "chooses finetune's anchor strength"),
    ({"simulation": {"finetune": {"validation_fraction": 0.2}}}, "chooses finetune's epochs"),
    ({"tuning": {"weight_decays": [1e-4, 1e-4]}}, "distinct"),
    ({"tuning": {"weight_decays": [11.0]}}, "at most 10"),
])
def test_the_tuning_rule_and_the_fields_it_chooses_are_consistent(data, message):
    with pytest.raises(ValidationError, match=message):
        LearningCurveRequest.model_validate(data)


@pytest.mark.parametrize("data", [
    {"tuning": {"rule": "fixed"}, "readout": {"regularisation": 0.1}, "simulation": {"scratch": {"weight_decay": 1e-3}}},
    {"tuning": {"rule": "fixed"}, "readout": {"regularisation": "oracle"}},
    {"tuning": {"rule": "fixed"}, "protocols": ["scratch"], "theory": None},  # no readout lambda needed
    {"theory": None, "readout": {"regularisation": "optimal"}},  # compatibility: 'tuned' without a theory
    {**DATASETS, "readout": {"regularisation": "optimal"}},
])
def test_consistent_tuning_requests_are_accepted(data):
    LearningCurveRequest.model_validate(data)
