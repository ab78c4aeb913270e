"""The published schema (openapi/openapi.json) states the cross-field rules JSON Schema can express,
and says the same as the validation: each body below is schema-valid exactly when the API's
contract accepts it."""

import json

import jsonschema_rs
import pytest
from pydantic import ValidationError

from service.openapi_export import PATH
from tlprobe.contract.gcm import GCMRequest
from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe.contract.phase_diagram import PhaseDiagramRequest

SPEC = json.loads(PATH.read_text())
MODELS = {"GCMRequest": GCMRequest, "LearningCurveRequest": LearningCurveRequest,
          "PhaseDiagramRequest": PhaseDiagramRequest}
DATASET = {"dataset": "ds-" + "a" * 40}
SPECTRUM = {"omega": [1.0], "t": [0.1], "rho": 1.0, "gamma": 1.0}
COVARIANCES = {"omega": [[1.0]], "phi": [[0.1]], "theta": [1.0]}


def schema_valid(name: str, body: dict) -> bool:
    schema = {"$ref": f"#/components/schemas/{name}", "components": SPEC["components"]}
    return jsonschema_rs.Draft202012Validator(schema).is_valid(body)


def accepted(name: str, body: dict) -> bool:
    try:
        MODELS[name].model_validate(body)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("name, body, valid", [
    ("GCMRequest", {"spectrum": SPECTRUM}, True),
    ("GCMRequest", {"covariances": COVARIANCES, "spectrum": None}, True),
    ("GCMRequest", {}, False),  # exactly one of spectrum and covariances
    ("GCMRequest", {"spectrum": SPECTRUM, "covariances": COVARIANCES}, False),
    ("GCMRequest", {"spectrum": None, "covariances": None}, False),
    ("GCMRequest", {"spectrum": SPECTRUM, "regularisation": -1}, False),
    ("GCMRequest", {"spectrum": SPECTRUM, "regularisation": "optimal"}, True),
    ("LearningCurveRequest", {}, True),
    ("LearningCurveRequest", {"source": DATASET, "target": DATASET}, True),
    ("LearningCurveRequest", {"source": DATASET}, False),  # both datasets or both synthetic
    ("LearningCurveRequest", {"target": DATASET}, False),
    ("LearningCurveRequest", {"source": DATASET, "target": {"feature_noise": 0.1}}, False),
    ("LearningCurveRequest", {"theory": None, "simulation": None}, False),  # nothing to compute
    ("LearningCurveRequest", {"simulation": None, "protocols": ["scratch"]}, False),  # no theory for scratch
    ("LearningCurveRequest", {"simulation": None, "protocols": ["scratch", "rf"]}, True),
    ("LearningCurveRequest", {"protocols": ["tf", "tf"]}, False),
    ("LearningCurveRequest", {"simulation": {"seeds": 33}}, False),
    ("LearningCurveRequest", {"simulation": {"seeds": 10**18}}, False),
    ("LearningCurveRequest", {"simulation": {"seeds": [3, 3]}}, False),
    ("LearningCurveRequest", {"simulation": {"seeds": [3, 4]}}, True),
    ("LearningCurveRequest", {"simulation": {"seeds": 32}}, True),
    ("LearningCurveRequest", {"readout": {"regularisation": 2e6}}, False),
    ("PhaseDiagramRequest", {}, True),
    ("PhaseDiagramRequest", {"baseline": "scratch"}, False),  # a simulation baseline needs a simulation
    ("PhaseDiagramRequest", {"baseline": "finetune", "simulation": None}, False),
    ("PhaseDiagramRequest", {"baseline": "scratch", "simulation": {}}, True),
    ("PhaseDiagramRequest", {"theory": None}, False),  # nothing to compute (simulation is null by default)
    ("PhaseDiagramRequest", {"theory": None, "simulation": {}}, True),
    ("PhaseDiagramRequest", {"x_axis": {"name": "alpha", "values": [1, 1]}}, False),
    ("PhaseDiagramRequest", {"protocols": ["rf", "rf"]}, False),
    ("PhaseDiagramRequest", {"source": DATASET}, False),  # both datasets or both synthetic
    ("PhaseDiagramRequest", {"source": DATASET, "target": DATASET, "simulation": {},
                             "y_axis": {"name": "n_samples", "values": [100, 200]}}, True),
    ("PhaseDiagramRequest", {"source": DATASET, "target": DATASET,  # on datasets the cells are simulated
                             "y_axis": {"name": "n_samples", "values": [100, 200]}}, False),
])
def test_the_schema_states_what_the_contract_checks(name, body, valid):
    assert schema_valid(name, body) == valid
    assert accepted(name, body) == valid


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_published_examples_are_valid_requests(name):
    examples = SPEC["components"]["schemas"][name]["examples"]
    assert examples
    for example in examples:
        assert schema_valid(name, example) and accepted(name, example)
