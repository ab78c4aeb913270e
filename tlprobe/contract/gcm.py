"""POST /v1/gcm: bring your own Gaussian covariate model (a spectrum or covariances)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator
from pydantic import Strict as StrictType

from .common import Float, Loss, Regularisation, SolvedCurve, SolverParams, Strict

MAX_SPECTRUM = 20_000
MAX_COVARIANCE_DIM = 600
Positive = Annotated[float, StrictType(), Field(gt=0.0)]


class SpectrumParams(Strict):
    omega: list[Float] = Field(min_length=1, max_length=MAX_SPECTRUM, description="Eigenvalues of Omega (>= 0).")
    t: list[Float] = Field(min_length=1, max_length=MAX_SPECTRUM, description="t_i = ((U^T Phi theta)_i)^2.")
    rho: Positive = Field(description="theta^T Psi theta / k.")
    gamma: Positive = Field(description="k / p.")

    @model_validator(mode="after")
    def _same_length(self) -> "SpectrumParams":
        if len(self.omega) != len(self.t):
            raise ValueError(f"omega has {len(self.omega)} entries but t has {len(self.t)}")
        return self


Row = Annotated[list[Float], Field(min_length=1, max_length=MAX_COVARIANCE_DIM)]
Matrix = Annotated[list[Row], Field(min_length=1, max_length=MAX_COVARIANCE_DIM)]


class CovarianceParams(Strict):
    omega: Matrix = Field(description="E[phi phi^T], p x p.")
    phi: Matrix = Field(description="E[phi c^T], p x k.")
    psi: Matrix | None = Field(None, description="E[c c^T], k x k (default identity).")
    theta: Row = Field(description="Teacher vector, k entries.")

    @model_validator(mode="after")
    def _rectangular(self) -> "CovarianceParams":
        for name in ("omega", "phi", "psi"):
            matrix = getattr(self, name)
            if matrix is not None and len({len(row) for row in matrix}) != 1:
                raise ValueError(f"{name}: rows have different lengths")
        return self


class GCMRequest(Strict):
    spectrum: SpectrumParams | None = None
    covariances: CovarianceParams | None = None
    loss: Loss = Loss.logistic
    regularisation: Regularisation = 0.1
    sample_complexities: list[Annotated[float, StrictType(), Field(gt=0.0, le=1e4)]] = Field(
        [0.5, 1.0, 2.0, 4.0], min_length=1, max_length=200, description="alpha = n / p (the model's own axis).")
    solver: SolverParams = SolverParams()

    @model_validator(mode="after")
    def _one_model(self) -> "GCMRequest":
        if (self.spectrum is None) == (self.covariances is None):
            raise ValueError("give exactly one of 'spectrum' or 'covariances'")
        return self


class GCMResult(SolvedCurve):
    kind: Literal["gcm"] = "gcm"
    meta: dict[str, Any]
