"""The kind registry: job ids name their kind, and nothing else parses as an id."""


from tlprobe.contract.gcm import GCMRequest
from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe.kinds import KINDS, kind_of_job

LC = KINDS["learning_curve"]


def test_job_ids_name_their_kind_and_reject_anything_else():
    identifier = LC.job_id(LearningCurveRequest())
    assert identifier.startswith("lc-") and kind_of_job(identifier) is LC
    gcm = GCMRequest.model_validate({"spectrum": {"omega": [1.0], "t": [0.5], "rho": 1.0, "gamma": 1.0}})
    assert kind_of_job(KINDS["gcm"].job_id(gcm)) is KINDS["gcm"]
    for bad in ("lc-123", "xx-" + "0" * 40, "lc-" + "g" * 40, "../etc/passwd", ""):
        assert kind_of_job(bad) is None
