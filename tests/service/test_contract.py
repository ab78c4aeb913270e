"""The contract: schema defaults equal the engine's, versions agree, cache keys are canonical."""

import pytest
from pydantic import ValidationError

import worker.science
from service import schemas
from service.cache_key import cache_key, job_id
from service.kinds import KINDS, kind_of_job
from service.schemas.gcm import GCMRequest
from service.schemas.learning_curve import LearningCurveRequest
from worker.science.specs import LearningCurveSpec

LC = KINDS["learning_curve"]


def test_science_version_mirror_matches_the_engine():
    assert schemas.SCIENCE_VERSION == worker.science.SCIENCE_VERSION


def test_schema_defaults_are_the_engine_defaults():
    from_schema = LearningCurveSpec.from_dict(LearningCurveRequest().model_dump(mode="json"))
    assert from_schema == LearningCurveSpec()


def test_every_schema_field_reaches_the_engine():
    request = LearningCurveRequest.model_validate({
        "source": {"latent_dim": 30, "input_dim": 70, "activation": "tanh", "seed": 5},
        "target": {"feature_noise": 0.2, "teacher_noise": 0.3, "feature_substitution": 0.1, "latent_change": -4,
                   "seed": 9},
        "network": {"hidden_units": 40, "activation": "relu", "n_samples": 300, "epochs": 7, "learning_rate": 0.002,
                    "weight_decay": 0.0, "batch_size": 32, "seed": 4, "test_samples": 100},
        "readout": {"loss": "square", "regularisation": "optimal"}, "alphas": [0.3], "protocols": ["rf", "finetune"],
        "theory": {"mc_samples": 999, "seed": 8, "solver": {"quadrature_nodes_per_panel": 12, "tolerance": 1e-9,
                                                             "max_iterations": 77, "damping": 0.5}},
        "simulation": {"seeds": [3, 5], "test_samples": 50, "epochs": 2, "learning_rate": 0.5}})
    spec = LearningCurveSpec.from_dict(request.model_dump(mode="json"))
    assert spec.source.activation == "tanh" and spec.target.latent_change == -4 and spec.network.batch_size == 32
    assert spec.readout.regularisation == "optimal" and spec.theory.solver.max_iterations == 77
    assert spec.simulation.seeds == (3, 5) and spec.target_training.learning_rate == 0.5


def test_cache_key_ignores_key_order_and_spelled_out_defaults():
    a = LearningCurveRequest.model_validate({"alphas": [1.0, 2.0], "network": {"epochs": 5, "hidden_units": 10}})
    b = LearningCurveRequest.model_validate({"network": {"hidden_units": 10, "epochs": 5, "seed": 0},
                                             "alphas": [1.0, 2.0], "simulation": {"seeds": [0, 1]},
                                             "readout": {"regularisation": 0.1, "loss": "logistic"}})
    assert cache_key(LC, a) == cache_key(LC, b)
    assert job_id(LC, LearningCurveRequest()) == job_id(LC, LearningCurveRequest.model_validate({}))
    c = LearningCurveRequest.model_validate({"alphas": [1.0, 2.0], "network": {"epochs": 6, "hidden_units": 10}})
    assert cache_key(LC, a) != cache_key(LC, c)


def test_job_ids_name_their_kind_and_reject_anything_else():
    identifier = job_id(LC, LearningCurveRequest())
    assert identifier.startswith("lc-") and kind_of_job(identifier) is LC
    gcm = GCMRequest.model_validate({"spectrum": {"omega": [1.0], "t": [0.5], "rho": 1.0, "gamma": 1.0}})
    assert kind_of_job(job_id(KINDS["gcm"], gcm)) is KINDS["gcm"]
    for bad in ("lc-123", "xx-" + "0" * 40, "lc-" + "g" * 40, "../etc/passwd", ""):
        assert kind_of_job(bad) is None


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
    ({"sourc": {}}, ("sourc",)),
])
def test_invalid_learning_curve_fields_are_named(data, location):
    with pytest.raises(ValidationError) as info:
        LearningCurveRequest.model_validate(data)
    assert any(tuple(e["loc"])[:len(location)] == location for e in info.value.errors()), info.value.errors()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_are_refused(value):
    with pytest.raises(ValidationError):
        LearningCurveRequest.model_validate({"target": {"teacher_noise": value}})
    with pytest.raises(ValidationError):
        GCMRequest.model_validate({"spectrum": {"omega": [1.0, value], "t": [0.1, 0.1], "rho": 1.0, "gamma": 1.0}})


def test_gcm_request_needs_exactly_one_model():
    with pytest.raises(ValidationError, match="exactly one"):
        GCMRequest.model_validate({})
    with pytest.raises(ValidationError, match="rows have different lengths"):
        GCMRequest.model_validate({"covariances": {"omega": [[1.0, 0.0], [0.0]], "phi": [[0.1], [0.1]],
                                                   "theta": [1.0]}})
