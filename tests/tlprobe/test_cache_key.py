"""Cache keys are canonical: key order and spelled-out defaults do not change them."""

import hashlib
import json

import pytest

from tlprobe.cache_key import cache_key, canonical_json
from tlprobe.contract.common import Protocol
from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe.kinds import KINDS
from worker.science.source_network import network_key
from worker.science.synthetic_source import spectra_key

LC = KINDS["learning_curve"]


def test_cache_key_ignores_key_order_and_spelled_out_defaults():
    a = LearningCurveRequest.model_validate({"alphas": [1.0, 2.0], "network": {"epochs": 5, "hidden_units": 10}})
    b = LearningCurveRequest.model_validate({"network": {"hidden_units": 10, "epochs": 5, "seed": 0},
                                             "alphas": [1.0, 2.0], "simulation": {"seeds": [0, 1]},
                                             "readout": {"regularisation": "optimal", "loss": "logistic"}})
    assert cache_key(LC.name, a) == cache_key(LC.name, b)
    assert LC.job_id(LearningCurveRequest()) == LC.job_id(LearningCurveRequest.model_validate({}))
    c = LearningCurveRequest.model_validate({"alphas": [1.0, 2.0], "network": {"epochs": 6, "hidden_units": 10}})
    assert cache_key(LC.name, a) != cache_key(LC.name, c)


#: keys computed before datasets were added to the contract (issue 10): a synthetic request must keep
#: its canonical JSON, and so its cache key and its cached result, whatever else the contract gains.
#: They were computed at schema and science version 1; the tests compute them at those versions, so a
#: later version bump (which rightly changes every key) does not hide a change of the canonical JSON.
#: The readout's default lambda changed from 0.1 to "optimal" on purpose (issue 9): requests that
#: relied on the old default spell it out, which gives them the canonical JSON they had.
#: The simulation section changed shape on purpose (issue 9: ``scratch`` and ``finetune`` each got
#: their own settings in place of the shared ``epochs`` / ``learning_rate``), so the keys of the
#: requests with a simulation were re-pinned then; the others kept theirs.
#: Issue 19 added four fields (source.label_noise, target.label_noise, network.hidden_layers,
#: readout.transfer_layer), so every canonical JSON gained them on purpose, and schema version 2 says so.
#: The keys were re-pinned then (still computed at the versions below, which only the monkeypatch sets);
#: the keys from before are kept beside them (``BEFORE_ISSUE_19``) and the canonical JSON with exactly
#: those four fields taken out must still give them: nothing else moved.
OLD_DEFAULT = {"readout": {"regularisation": 0.1}}
PINNED_VERSIONS = {"SCHEMA_VERSION": "1", "SCIENCE_VERSION": "1"}
#: per request section, the fields issue 19 added (at the values the requests below give them)
ISSUE_19_FIELDS = {"source": "label_noise", "target": "label_noise", "network": "hidden_layers",
                   "readout": "transfer_layer"}
PINNED = [
    ("learning_curve", OLD_DEFAULT, "5a964a1bc9ad487711c6d81d012efbfde72c356cc9a7c6799e66036100930923"),
    ("learning_curve", {"source": {"latent_dim": 5, "input_dim": 20},
                        "network": {"hidden_units": 10, "n_samples": 50, "epochs": 2}, "alphas": [1.0],
                        "theory": {"mc_samples": 500}, "simulation": None, **OLD_DEFAULT},
     "7afab87d1d6bf2174b3d6dd4c722408c0a0b482f3a0b188f3ee68793ef1449e3"),
    ("learning_curve", {"source": {"latent_dim": 30, "input_dim": 120, "activation": "relu", "seed": 7},
                        "target": {"feature_noise": 0.3, "teacher_noise": 0.1, "latent_change": -5, "seed": 3},
                        "protocols": ["tf", "rf", "linear", "scratch", "finetune"],
                        "readout": {"regularisation": "optimal"},
                        "simulation": {"seeds": [3, 5], "scratch": {"epochs": 20}, "finetune": {"epochs": 20}}},
     "d669f6c8166deaaddff92e5fa140231ce85edc3a90312a8f6bbcf65aff364be4"),
    ("phase_diagram", OLD_DEFAULT, "78c812634a1d1459f604ca2fc22950b6bcef6c442563e9f7c6e2b105a95f62a2"),
    ("phase_diagram", {"y_axis": {"name": "feature_noise", "values": [0, 0.5]}, "simulation": {"seeds": 1},
                       "baseline": "scratch", **OLD_DEFAULT}, "4391152a271b5ac4bd35343352e3dd24891eb49521b7746af93f0a0303f0bf6e"),
    ("source_network", {}, "52c157dcb21fca84a306701449fc8ad60f2d7a09e34f877b193fd1122d44c4dc"),
]


BEFORE_ISSUE_19 = [key for _, _, key in PINNED]
PINNED = [(kind, request_, key) for (kind, request_, _), key in zip(PINNED, [
    "12bfa63ae7c193e3b906a29fe054b5bad9391daab6cf5832ed8a9e89d5223059",
    "713568e39d144415dbfe4e80ba7c5fb6bbc4897d8965cd41341e902da75acaac",
    "6fa743257973848eb4a1406b4a47811aeb1c68739d35ed74f5c522665af905ca",
    "f07ccccaf5d003f33b82cb1167812b953396df87daaefde32799ca89d618f2cf",
    "2f396c3f3c2519773d8712d9cfba1bec308a698162bb136782e503a777dee463",
    "d83d9b48c541c1c5f2d37f39d6888620cecc221031d42850a6b7d4c5cc473a3a"])]


@pytest.mark.parametrize("kind, request_, key", PINNED)
def test_synthetic_cache_keys_are_pinned(monkeypatch, kind, request_, key):
    for name, value in PINNED_VERSIONS.items():
        monkeypatch.setattr(f"tlprobe.cache_key.{name}", value)
    request = KINDS[kind].request.model_validate(request_)
    assert cache_key(kind, request) == key
    assert KINDS[kind].job_id(request) == f"{KINDS[kind].prefix}-{key[:40]}"


def _without_issue_19_fields(value):
    """The request's JSON with the four fields of issue 19 removed, wherever their sections appear."""
    if isinstance(value, dict):
        return {k: _without_issue_19_fields(v) if not isinstance(v, dict) or k not in ISSUE_19_FIELDS else
                {f: _without_issue_19_fields(x) for f, x in v.items() if f != ISSUE_19_FIELDS[k]}
                for k, v in value.items()}
    return value


@pytest.mark.parametrize("kind, request_, key", [(k, r, old) for (k, r, _), old in zip(PINNED, BEFORE_ISSUE_19)])
def test_only_the_fields_of_issue_19_changed_the_canonical_json(kind, request_, key):
    request = KINDS[kind].request.model_validate(request_)
    old = json.dumps(_without_issue_19_fields(json.loads(canonical_json(request))), sort_keys=True, separators=(",", ":"))
    versions = "|".join(f"{name.split('_')[0].lower()}={value}" for name, value in PINNED_VERSIONS.items())
    assert hashlib.sha256(f"{kind}|{versions}|{old}".encode()).hexdigest() == key


def test_synthetic_artifact_keys_are_pinned(monkeypatch):
    monkeypatch.setattr("worker.science.artifacts.SCIENCE_VERSION", PINNED_VERSIONS["SCIENCE_VERSION"])
    request = LearningCurveRequest()
    assert network_key(request) == "network:1320de17bea2a9a8d6cf1ed7e0921c2cd0cb070f"
    assert spectra_key(request, Protocol.tf) == "spectra:971bd4be868fca133ca66430eb632271f0277f87"
    assert spectra_key(request, Protocol.linear) == "spectra:1e0ce19da45d6eaf188147ea8e91104c36cae315"
