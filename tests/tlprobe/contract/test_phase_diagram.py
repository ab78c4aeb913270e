"""The phase-diagram request: axes, cells and baselines that cannot be computed are refused."""


import pytest
from pydantic import ValidationError

from tlprobe.contract.phase_diagram import PhaseDiagramRequest


def request(**changes) -> PhaseDiagramRequest:
    return PhaseDiagramRequest.model_validate(changes)


@pytest.mark.parametrize("changes, message", [
    ({"x_axis": {"name": "alpha", "values": [1, 2]}, "y_axis": {"name": "alpha", "values": [1, 2]}}, "must differ"),
    ({"x_axis": {"name": "feature_noise", "values": [0.5, 0.2]}}, "strictly increasing"),
    ({"x_axis": {"name": "teacher_noise", "values": [0.5, 1.5]}}, "[0, 1]"),
    ({"x_axis": {"name": "latent_change", "values": [0.5]}}, "integers"),
    ({"x_axis": {"name": "latent_change", "values": [-50, 0]}}, "empty the latent space"),
    ({"baseline": "scratch"}, "exists only in simulation"),
    ({"x_axis": {"name": "alpha", "values": [i / 10 + 0.1 for i in range(30)]},
      "y_axis": {"name": "feature_noise", "values": [i / 30 for i in range(30)]}}, "at most 400"),
])
def test_invalid_diagrams_are_refused(changes, message):
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        request(**changes)
