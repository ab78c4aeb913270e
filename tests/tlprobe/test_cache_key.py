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
                                             "readout": {"regularisation": "tuned", "loss": "logistic"},
                                             "tuning": {"rule": "best_achievable", "folds": 5}})
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
#: Issue 19 changed every canonical JSON on purpose, and schema version 2 says so: every request gained a
#: ``tuning`` section (every protocol's hyperparameters chosen by one named rule) and the readout's default
#: lambda became "tuned" (the first list below, with those changes); then four fields (source.label_noise,
#: target.label_noise, network.hidden_layers, readout.transfer_layer) were added. The keys were re-pinned
#: (still computed at the versions below, which only the monkeypatch sets); the keys with the tuning
#: section but before the four fields are kept beside them (``BEFORE_ISSUE_19``), and the canonical JSON
#: with exactly those four fields taken out must still give them: nothing else moved.
OLD_DEFAULT = {"readout": {"regularisation": 0.1}}
PINNED_VERSIONS = {"SCHEMA_VERSION": "1", "SCIENCE_VERSION": "1"}
#: per request section, the fields issue 19 added (at the values the requests below give them)
ISSUE_19_FIELDS = {"source": "label_noise", "target": "label_noise", "network": "hidden_layers",
                   "readout": "transfer_layer"}
PINNED = [
    ("learning_curve", OLD_DEFAULT, "d428c1e119735f8165729a46d917d42dc1c3a0988c90ac82c1d5d890bfcd0dfe"),
    ("learning_curve", {"source": {"latent_dim": 5, "input_dim": 20},
                        "network": {"hidden_units": 10, "n_samples": 50, "epochs": 2}, "alphas": [1.0],
                        "theory": {"mc_samples": 500}, "simulation": None, **OLD_DEFAULT},
     "7552fc040d2dfae7780927d9a3ddaae306372794357307864d781f191cc7d914"),
    ("learning_curve", {"source": {"latent_dim": 30, "input_dim": 120, "activation": "relu", "seed": 7},
                        "target": {"feature_noise": 0.3, "teacher_noise": 0.1, "latent_change": -5, "seed": 3},
                        "protocols": ["tf", "rf", "linear", "scratch", "finetune"],
                        "readout": {"regularisation": "optimal"},
                        "simulation": {"seeds": [3, 5], "scratch": {"epochs": 20}, "finetune": {"epochs": 20}}},
     "8518efdaec32068d1a8dfa9bea0f16f0951d74f7183a46dad76565851dd62ac2"),
    ("phase_diagram", OLD_DEFAULT, "43e49879efed3e39f6eee52ef3643b5801aeb14fab0822a2eb6ee4a3fa06fcf9"),
    ("phase_diagram", {"y_axis": {"name": "feature_noise", "values": [0, 0.5]}, "simulation": {"seeds": 1},
                       "baseline": "scratch", **OLD_DEFAULT}, "53b0164a7ae10b25c7c12a664bf0559ce8799bff3eb666d8f14b747589ee7924"),
    ("source_network", {}, "52c157dcb21fca84a306701449fc8ad60f2d7a09e34f877b193fd1122d44c4dc"),
]


BEFORE_ISSUE_19 = [key for _, _, key in PINNED]
PINNED = [(kind, request_, key) for (kind, request_, _), key in zip(PINNED, [
    "abd424123deb9aa18a8d35c1c199890a204b8e408bd5311fd87354c079ceafb2",
    "4055396b8e5499161e8b8fc0f5da2e84a790cab43724deb4c6632f3f12d3ab9c",
    "5e613fc411e6b4c398108cacf01023807aad98ce6ace2f4fc5e179473574c9d5",
    "1862a446493b18d1ef918e738748b342546b836b415f64ae63de1b7e4b8eda53",
    "8084d9abb09525fa13b34cfe10fe67e54ea6b476449aaeed2430414b11250906",
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
