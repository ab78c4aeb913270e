"""What a phase-diagram axis may range over: a correlation knob, alpha, or any numeric parameter
that shapes the prediction (MODEL.md section 5). One registry says, for each axis, which request
field it sets; a value is valid exactly when that field accepts it (the field's own bounds)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from pydantic import BaseModel, TypeAdapter, ValidationError

from .learning_curve import Alpha, NetworkParams, ReadoutParams, SourceParams, TargetParams


class AxisName(str, Enum):
    feature_noise = "feature_noise"
    teacher_noise = "teacher_noise"
    feature_substitution = "feature_substitution"
    latent_change = "latent_change"
    label_noise = "label_noise"
    alpha = "alpha"
    latent_dim = "latent_dim"
    input_dim = "input_dim"
    source_label_noise = "source_label_noise"
    hidden_units = "hidden_units"
    hidden_layers = "hidden_layers"
    n_samples = "n_samples"
    epochs = "epochs"
    regularisation = "regularisation"
    transfer_layer = "transfer_layer"


@dataclass(frozen=True)
class AxisField:
    #: the request section whose field the axis sets; None for alpha (a learning curve's alphas)
    section: str | None
    field: str
    integer: bool
    label: str
    #: whether the axis means anything when source and target are uploaded datasets: alpha and the
    #: parameters of the network and the readout do; the knobs and the synthetic source's sizes do not
    on_datasets: bool = False

    @property
    def path(self) -> str:
        return self.field if self.section is None else f"{self.section}.{self.field}"

    @property
    def trains_networks(self) -> bool:
        """An axis over a network (or its source task's size) needs one source network per value."""
        return self.section in ("source", "network")

    def cast(self, value: float) -> int | float:
        return int(value) if self.integer else float(value)


AXES: dict[AxisName, AxisField] = {
    AxisName.feature_noise: AxisField("target", "feature_noise", False, "feature noise"),
    AxisName.teacher_noise: AxisField("target", "teacher_noise", False, "teacher noise"),
    AxisName.feature_substitution: AxisField("target", "feature_substitution", False, "feature substitution"),
    AxisName.latent_change: AxisField("target", "latent_change", True, "latent change (D_t - D_s)"),
    AxisName.label_noise: AxisField("target", "label_noise", False, "target label noise p"),
    AxisName.alpha: AxisField(None, "alpha", False, "alpha (n_t / N)", on_datasets=True),
    AxisName.latent_dim: AxisField("source", "latent_dim", True, "source latent dimension D"),
    AxisName.input_dim: AxisField("source", "input_dim", True, "input dimension N"),
    AxisName.source_label_noise: AxisField("source", "label_noise", False, "source label noise"),
    AxisName.hidden_units: AxisField("network", "hidden_units", True, "hidden units K", on_datasets=True),
    AxisName.hidden_layers: AxisField("network", "hidden_layers", True, "hidden layers L", on_datasets=True),
    AxisName.n_samples: AxisField("network", "n_samples", True, "source samples n_s", on_datasets=True),
    AxisName.epochs: AxisField("network", "epochs", True, "source training epochs", on_datasets=True),
    AxisName.regularisation: AxisField("readout", "regularisation", False, "readout lambda", on_datasets=True),
    AxisName.transfer_layer: AxisField("readout", "transfer_layer", True, "transfer layer l", on_datasets=True),
}
SECTIONS: dict[str, type[BaseModel]] = {"source": SourceParams, "target": TargetParams, "network": NetworkParams,
                                        "readout": ReadoutParams}
_ALPHA = TypeAdapter(Alpha)
DATASET_AXES = [name for name, axis in AXES.items() if axis.on_datasets]


def check_axis_on_datasets(name: AxisName) -> None:
    """ValueError naming the axis when it has no meaning on uploaded datasets (a knob of the synthetic
    target, or a size of the synthetic source)."""
    if not AXES[name].on_datasets:
        raise ValueError(f"axis {name.value} ({AXES[name].label}) sets {AXES[name].path} of the synthetic model, "
                         "which has no meaning when source and target are datasets; on datasets an axis may be "
                         + ", ".join(axis.value for axis in DATASET_AXES))


def check_axis_values(name: AxisName, values: list[float]) -> None:
    """ValueError naming the axis and the first value its field refuses (not an integer, out of bounds)."""
    axis = AXES[name]
    for value in values:
        if axis.integer and not float(value).is_integer():
            raise ValueError(f"{name.value} value {value:g}: {axis.path} takes integers")
        try:
            if axis.section is None:
                _ALPHA.validate_python(axis.cast(value))
            else:
                SECTIONS[axis.section].model_validate({axis.field: axis.cast(value)})
        except ValidationError as exc:
            raise ValueError(f"{name.value} value {value:g}: {axis.path} {exc.errors()[0]['msg'].lower()}") from None
