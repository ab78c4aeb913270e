"""Shared types: enums, finite numbers, the strict base model."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import Strict as StrictType

#: numbers in requests are strict: JSON true/false or "1.5" are not numbers (an int is a float)
Int = Annotated[int, StrictType()]
Float = Annotated[float, StrictType()]
Seed = Annotated[int, StrictType(), Field(ge=0, le=2**32 - 1, description="Random seed (0 .. 2^32-1).")]
UnitInterval = Annotated[float, StrictType(), Field(ge=0.0, le=1.0)]
#: a label-flip probability: below 1/2, where the labels still carry the teacher's sign
LabelNoise = Annotated[float, StrictType(), Field(ge=0.0, lt=0.5)]


#: the largest ``offset`` of a paginated list (Redis takes 64-bit offsets; no list comes near this)
MAX_OFFSET = 1_000_000_000

#: the value of a readout's ``regularisation`` that asks for the theory's best lambda per point: the
#: oracle (it minimises the theory's test error, which needs the teacher: no practitioner can reach it)
ORACLE = "oracle"
#: the name the oracle had until science version 4; still accepted, meaning the oracle
OPTIMAL = "optimal"
#: the readout's default: its lambda is chosen by the request's tuning rule (``TuningRule``), like every
#: other protocol's hyperparameters
TUNED = "tuned"
#: where the oracle looks for lambda: the theory's bounded search, and the grid (half decades) over
#: which the tuning rules choose a readout's lambda, with the number of folds of cross-validation
REGULARISATION_SEARCH = (1e-5, 1e2)
CROSS_VALIDATION_GRID = tuple(10.0 ** (exponent / 2) for exponent in range(-10, 5))
CROSS_VALIDATION_FOLDS = 5


def is_oracle(regularisation: float | str) -> bool:
    """True when lambda is to be chosen by the theory (per point): "oracle", or its old name "optimal"."""
    return regularisation in (ORACLE, OPTIMAL)


#: the solver's name for ``is_oracle`` (``gcm.solver``)
is_optimal = is_oracle


class TuningRule(str, Enum):
    """How every protocol's hyperparameters are chosen in a simulation (MODEL.md section 10)."""

    best_achievable = "best_achievable"  # on fresh validation data drawn from the generator (synthetic tasks)
    practitioner = "practitioner"  # k-fold cross-validation on the protocol's own n_t training samples
    fixed = "fixed"  # the request's numbers


#: what chose one hyperparameter of one curve, as results name it: the request's number, the theory's
#: optimum (the oracle; on datasets the Gaussian-equivalent model's, fitted on the training split),
#: fresh validation data (best achievable), k-fold cross-validation on the training set (practitioner), or
#: (finetune's epochs under the fixed rule with a validation_fraction) early stopping on a held-out part
ChosenBy = Literal["fixed", "oracle", "gaussian_equivalent", "validation", "cross_validation", "early_stopping"]


def one_of(schema: dict) -> None:
    """``json_schema_extra`` of a union whose branches exclude each other: published as ``oneOf``
    (exactly one branch holds, as the validation has it) rather than pydantic's ``anyOf``."""
    if "anyOf" in schema:
        schema["oneOf"] = schema.pop("anyOf")


def is_null(name: str) -> dict:
    """JSON Schema: ``name`` is given as null."""
    return {"required": [name], "properties": {name: {"type": "null"}}}


def given(name: str) -> dict:
    """JSON Schema: ``name`` is given as an object (not null, not absent)."""
    return {"required": [name], "properties": {name: {"type": "object"}}}


#: l2 strength lambda of a GCM solve: a number in [0, 1e6], or "oracle" (alias "optimal": the lambda
#: minimising the theory's test error per point)
Regularisation = Annotated[Annotated[float, StrictType(), Field(ge=0.0, le=1e6)] | Literal["oracle", "optimal"],
                           Field(json_schema_extra=one_of)]
#: a readout's lambda in a learning curve or diagram: also "tuned", chosen by the request's tuning rule
ReadoutRegularisation = Annotated[Annotated[float, StrictType(), Field(ge=0.0, le=1e6)]
                                  | Literal["tuned", "oracle", "optimal"], Field(json_schema_extra=one_of)]


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


#: protocols that fit only a readout on fixed features (they have a theory); the others train a network
READOUT_PROTOCOLS = (Protocol.tf, Protocol.rf, Protocol.linear)


class Loss(str, Enum):
    logistic = "logistic"
    square = "square"


class SolverParams(Strict):
    """Numerical settings of the GCM fixed-point iteration (defaults suit nearly every model)."""

    quadrature_nodes_per_panel: Int = Field(16, ge=4, le=64,
                                            description="Gauss-Legendre nodes per panel of the channel quadrature.")
    tolerance: Float = Field(1e-10, gt=1e-15, lt=1e-2, description="Stop when the relative change of V, q, m is below this.")
    max_iterations: Int = Field(5000, ge=1, le=100_000)
    damping: Float = Field(1.0, gt=0.0, le=1.0, description="Initial damping (halved automatically on oscillation).")


class SolvedCurve(Strict):
    """A GCM curve as the solver returns it (the engine's ``json_safe.gcm_points``): one entry per
    point in every list, in the order the points were asked."""

    sample_complexity: list[float] = Field(description="alpha_p = n / p per point (the solver's axis).")
    regularisation: list[float] = Field(description="lambda per point (the theory's optimum with 'oracle').")
    regularisation_at_bound: list[bool] = Field(description="'oracle': the minimum sits at the search bound.")
    test_error: list[float | None] = Field(description="null where the iteration broke down (see status).")
    train_loss: list[float | None] = Field(description="Mean training loss, without the penalty.")
    overlaps: dict[str, list[float | None]] = Field(description="The overlaps v, q, m per point.")
    converged: list[bool]
    status: list[str] = Field(description="converged, max_iterations, non_finite, negative_teacher_variance or "
                                          "degenerate (no valid start: Omega = 0, or rho underflowing).")
    iterations: list[int]
    residual: list[float | None] = Field(description="Last relative change of V, q, m.")
    p: int
    rho: float
    gamma: float
