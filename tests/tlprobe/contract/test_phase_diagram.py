"""The phase-diagram request: axes, cells and baselines that cannot be computed are refused, naming
the axis and the value."""

import re

import pytest
from pydantic import ValidationError

from tlprobe.contract.phase_diagram import PhaseDiagramRequest


def request(**changes) -> PhaseDiagramRequest:
    return PhaseDiagramRequest.model_validate(changes)


@pytest.mark.parametrize("changes, message", [
    ({"x_axis": {"name": "alpha", "values": [1, 2]}, "y_axis": {"name": "alpha", "values": [1, 2]}}, "must differ"),
    ({"x_axis": {"name": "feature_noise", "values": [0.5, 0.2]}}, "strictly increasing"),
    ({"x_axis": {"name": "teacher_noise", "values": [0.5, 1.5]}},
     "teacher_noise value 1.5: target.teacher_noise input should be less than or equal to 1"),
    ({"x_axis": {"name": "latent_change", "values": [0.5]}}, "latent_change value 0.5: target.latent_change takes integers"),
    ({"x_axis": {"name": "latent_change", "values": [-50, 0]}}, "empty the latent space"),
    ({"x_axis": {"name": "hidden_units", "values": [10, 20.5]}}, "hidden_units value 20.5: network.hidden_units takes integers"),
    ({"x_axis": {"name": "n_samples", "values": [100, 300000]}},
     "n_samples value 300000: network.n_samples input should be less than or equal to 200000"),
    ({"x_axis": {"name": "regularisation", "values": [-1, 1]}}, "regularisation value -1: readout.regularisation"),
    ({"x_axis": {"name": "input_dim", "values": [0, 100]}},
     "input_dim value 0: source.input_dim input should be greater than or equal to 1"),
    ({"y_axis": {"name": "n_samples", "values": [100, 200]}, "network": {"n_samples": 500}},
     "y_axis n_samples: network.n_samples is also given (500)"),
    ({"y_axis": {"name": "feature_noise", "values": [0, 0.5]}, "target": {"feature_noise": 0.2}},
     "y_axis feature_noise: target.feature_noise is also given (0.2)"),
    ({"x_axis": {"name": "alpha", "values": [1, 2]}, "alpha": 2.0}, "x_axis alpha: alpha is also given (2.0)"),
    ({"x_axis": {"name": "latent_dim", "values": [5, 50]}, "target": {"latent_change": -5}},
     "latent_change -5 would empty the latent space"),
    ({"baseline": "scratch"}, "exists only in simulation"),
    # issue 12: alpha N < 1 means less than one target sample (N = 200 by default)
    ({"x_axis": {"name": "alpha", "values": [1e-300, 1]}}, "alpha axis: alpha 1e-300 is below the smallest alpha 1/N = 0.005"),
    ({"x_axis": {"name": "feature_noise", "values": [0, 1]}, "alpha": 0.001}, "alpha: alpha 0.001 is below the smallest"),
    ({"x_axis": {"name": "input_dim", "values": [10, 100]}, "alpha": 0.05},
     "the smallest alpha 1/N = 0.1 (the smallest input_dim on the axis: N = 10)"),
    # issue 19: every transfer layer must exist in every cell's network; label noise stays below 1/2
    ({"x_axis": {"name": "transfer_layer", "values": [1, 2]}}, "transfer_layer 2 exceeds network.hidden_layers (1)"),
    ({"x_axis": {"name": "hidden_layers", "values": [1, 3]}, "readout": {"transfer_layer": 2}},
     "transfer_layer 2 exceeds the smallest hidden_layers on the axis (1)"),
    ({"x_axis": {"name": "hidden_layers", "values": [1, 4]}}, "hidden_layers value 4: network.hidden_layers"),
    ({"x_axis": {"name": "label_noise", "values": [0, 0.5]}},
     "label_noise value 0.5: target.label_noise input should be less than 0.5"),
    ({"x_axis": {"name": "alpha", "values": [i / 10 + 0.1 for i in range(101)]}}, "at most 100 items"),
    ({"x_axis": {"name": "alpha", "values": [i / 10 + 0.1 for i in range(30)]},
      "y_axis": {"name": "feature_noise", "values": [i / 30 for i in range(30)]}, "simulation": {"seeds": 1}},
     "900 cells with a simulation: at most 400 (up to 10000 theory-only"),
])
def test_invalid_diagrams_are_refused(changes, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        request(**changes)


def test_a_theory_only_diagram_may_have_100_values_per_axis():
    values = [i / 100 for i in range(100)]
    diagram = request(x_axis={"name": "alpha", "values": [0.04 * (i + 1) for i in range(100)]},
                      y_axis={"name": "feature_noise", "values": values})
    assert len(diagram.x_axis.values) * len(diagram.y_axis.values) == 10_000 and diagram.simulation is None


def test_an_axis_may_set_a_field_left_at_its_default():
    diagram = request(x_axis={"name": "hidden_units", "values": [20, 40]}, network={"epochs": 30})
    assert diagram.axis_fields == {"network.hidden_units", "target.teacher_noise"}


def test_a_diagram_spelled_out_with_every_default_is_the_same_diagram():
    # job payloads and results carry the request with every default filled in: it must validate again
    diagram = request(x_axis={"name": "n_samples", "values": [500, 1000]}, y_axis={"name": "alpha", "values": [1, 2]})
    again = PhaseDiagramRequest.model_validate(diagram.model_dump(mode="json"))
    assert again == diagram
