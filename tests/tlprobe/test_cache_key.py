"""Cache keys are canonical: key order and spelled-out defaults do not change them."""


from tlprobe.cache_key import cache_key, job_id
from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe.kinds import KINDS

LC = KINDS["learning_curve"]


def test_cache_key_ignores_key_order_and_spelled_out_defaults():
    a = LearningCurveRequest.model_validate({"alphas": [1.0, 2.0], "network": {"epochs": 5, "hidden_units": 10}})
    b = LearningCurveRequest.model_validate({"network": {"hidden_units": 10, "epochs": 5, "seed": 0},
                                             "alphas": [1.0, 2.0], "simulation": {"seeds": [0, 1]},
                                             "readout": {"regularisation": "optimal", "loss": "logistic"}})
    assert cache_key(LC, a) == cache_key(LC, b)
    assert job_id(LC, LearningCurveRequest()) == job_id(LC, LearningCurveRequest.model_validate({}))
    c = LearningCurveRequest.model_validate({"alphas": [1.0, 2.0], "network": {"epochs": 6, "hidden_units": 10}})
    assert cache_key(LC, a) != cache_key(LC, c)
