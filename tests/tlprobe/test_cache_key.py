"""Cache keys are canonical: key order and spelled-out defaults do not change them."""

import pytest

from tlprobe.cache_key import cache_key, job_id
from tlprobe.contract.common import Protocol
from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe.kinds import KINDS
from worker.science.learning_curve import network_key, spectra_key

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


#: keys computed before datasets were added to the contract (issue 10): a synthetic request must keep
#: its canonical JSON, and so its cache key and its cached result, whatever else the contract gains.
#: They were computed at schema and science version 1; the tests compute them at those versions, so a
#: later version bump (which rightly changes every key) does not hide a change of the canonical JSON.
#: The readout's default lambda changed from 0.1 to "optimal" on purpose (issue 9): requests that
#: relied on the old default spell it out, which gives them the canonical JSON they had.
OLD_DEFAULT = {"readout": {"regularisation": 0.1}}
PINNED_VERSIONS = {"SCHEMA_VERSION": "1", "SCIENCE_VERSION": "1"}
PINNED = [
    ("learning_curve", OLD_DEFAULT, "e49237a99f42a73e1686f9a5a42112dd3bdd3e4323dd1e68ee48b98ee09cb2ce"),
    ("learning_curve", {"source": {"latent_dim": 5, "input_dim": 20},
                        "network": {"hidden_units": 10, "n_samples": 50, "epochs": 2}, "alphas": [1.0],
                        "theory": {"mc_samples": 500}, "simulation": None, **OLD_DEFAULT},
     "7afab87d1d6bf2174b3d6dd4c722408c0a0b482f3a0b188f3ee68793ef1449e3"),
    ("learning_curve", {"source": {"latent_dim": 30, "input_dim": 120, "activation": "relu", "seed": 7},
                        "target": {"feature_noise": 0.3, "teacher_noise": 0.1, "latent_change": -5, "seed": 3},
                        "protocols": ["tf", "rf", "linear", "scratch", "finetune"],
                        "readout": {"regularisation": "optimal"}, "simulation": {"seeds": [3, 5], "epochs": 20}},
     "ca528f61024476f7428eb76b9ad63f66c61b61e79d701e50a703d965fb0c3995"),
    ("phase_diagram", OLD_DEFAULT, "78c812634a1d1459f604ca2fc22950b6bcef6c442563e9f7c6e2b105a95f62a2"),
    ("phase_diagram", {"y_axis": {"name": "feature_noise", "values": [0, 0.5]}, "simulation": {"seeds": 1},
                       "baseline": "scratch", **OLD_DEFAULT}, "2ed3a596b8bb6352d07346197438f93a70910e06a744e75109f8e6532f11f09d"),
    ("source_network", {}, "52c157dcb21fca84a306701449fc8ad60f2d7a09e34f877b193fd1122d44c4dc"),
]


@pytest.mark.parametrize("kind, request_, key", PINNED)
def test_synthetic_cache_keys_are_pinned(monkeypatch, kind, request_, key):
    for name, value in PINNED_VERSIONS.items():
        monkeypatch.setattr(f"tlprobe.cache_key.{name}", value)
    assert cache_key(KINDS[kind], KINDS[kind].request.model_validate(request_)) == key


def test_synthetic_artifact_keys_are_pinned(monkeypatch):
    monkeypatch.setattr("worker.science.artifacts.SCIENCE_VERSION", PINNED_VERSIONS["SCIENCE_VERSION"])
    request = LearningCurveRequest()
    assert network_key(request) == "network:1320de17bea2a9a8d6cf1ed7e0921c2cd0cb070f"
    assert spectra_key(request, Protocol.tf) == "spectra:971bd4be868fca133ca66430eb632271f0277f87"
    assert spectra_key(request, Protocol.linear) == "spectra:1e0ce19da45d6eaf188147ea8e91104c36cae315"
