"""Shared types: enums, finite numbers, the strict base model."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic import Strict as StrictType

#: numbers in requests are strict: JSON true/false or "1.5" are not numbers (an int is a float)
Int = Annotated[int, StrictType()]
Float = Annotated[float, StrictType()]
Seed = Annotated[int, StrictType(), Field(ge=0, le=2**32 - 1, description="Random seed (0 .. 2^32-1).")]
UnitInterval = Annotated[float, StrictType(), Field(ge=0.0, le=1.0)]


class Strict(BaseModel):
    """Unknown fields are errors (a typo must not silently fall back to a default); NaN and inf
    are refused everywhere."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class Activation(str, Enum):
    erf = "erf"
    sign = "sign"
    tanh = "tanh"
    relu = "relu"


class HiddenActivation(str, Enum):
    erf = "erf"
    tanh = "tanh"
    relu = "relu"


class Protocol(str, Enum):
    tf = "tf"
    rf = "rf"
    linear = "linear"
    scratch = "scratch"
    finetune = "finetune"


READOUT_PROTOCOLS = (Protocol.tf, Protocol.rf, Protocol.linear)


class Loss(str, Enum):
    logistic = "logistic"
    square = "square"


class SolverParams(Strict):
    """Numerical settings of the GCM fixed-point iteration (defaults suit nearly every model)."""

    quadrature_nodes_per_panel: Int = Field(16, ge=4, le=64, description="Gauss-Legendre nodes per panel of the channel quadrature.")
    tolerance: Float = Field(1e-10, gt=1e-15, lt=1e-2, description="Stop when the relative change of V, q, m is below this.")
    max_iterations: Int = Field(5000, ge=1, le=100_000)
    damping: Float = Field(1.0, gt=0.0, le=1.0, description="Initial damping (halved automatically on oscillation).")
