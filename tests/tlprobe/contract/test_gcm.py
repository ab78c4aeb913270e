"""The GCM request: exactly one model, rectangular matrices."""

import pytest
from pydantic import ValidationError

from tlprobe.contract.gcm import GCMRequest
from tlprobe.kinds import KINDS

LC = KINDS["learning_curve"]


def test_gcm_request_needs_exactly_one_model():
    with pytest.raises(ValidationError, match="exactly one"):
        GCMRequest.model_validate({})
    with pytest.raises(ValidationError, match="rows have different lengths"):
        GCMRequest.model_validate({"covariances": {"omega": [[1.0, 0.0], [0.0]], "phi": [[0.1], [0.1]],
                                                   "theta": [1.0]}})
