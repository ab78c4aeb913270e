"""POST /v1/gcm: bring your own Gaussian covariate model (a spectrum or covariances).

Everything about the model that costs no more than reading it is checked here, before a job is
queued, with the field named: shapes (Omega p x p, Phi p x k, Psi k x k, theta k long), finiteness,
symmetry, the necessary conditions of positive semi-definiteness that only look at pairs of entries
(diagonals >= 0, every 2 x 2 principal minor of [[Psi, Phi^T], [Phi, Omega]] >= 0), theta^T Psi theta
> 0, and for a spectrum all of its rules (omega >= 0, t >= 0, t = 0 where omega = 0, the teacher
variance the features explain at most rho). Pure Python, O(p^2) for covariances (about 0.3 s at the
largest p = k = 600, a tenth of which is parsing), so the service loads nothing numerical.

Positive semi-definiteness of the joint covariance itself needs an eigen-decomposition, O((p + k)^3):
the worker checks it first thing (under a second for the largest model) and the job fails with
``invalid input: covariances: ... not positive semi-definite``. docs/api.md says so.
"""

from __future__ import annotations

import math
from itertools import repeat
from operator import gt, mul, sub
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic import Strict as StrictType

from .common import Float, Loss, Regularisation, SolvedCurve, SolverParams, Strict, given, one_of

MAX_SPECTRUM = 20_000
MAX_COVARIANCE_DIM = 600
#: relative tolerance of the symmetry, semi-definiteness and consistency checks (covariances from
#: Monte Carlo or from a user's float64 computation are exact to far better than this); the worker's
#: eigenvalue check uses the same
TOLERANCE = 1e-8
Positive = Annotated[float, StrictType(), Field(gt=0.0)]


def spectrum_problem(omega: list[float], t: list[float], rho: float, gamma: float) -> tuple[str, str] | None:
    """The first rule a spectrum breaks, as (field, reason), or None. O(p)."""
    if len(omega) != len(t):
        return "t", f"has {len(t)} entries but omega has {len(omega)}"
    scale = max(max(abs(x) for x in omega), 1e-300)
    if min(omega) < -TOLERANCE * scale:
        return "omega", f"eigenvalues must be >= 0 (Omega is a covariance), min is {min(omega):.3g}"
    if min(t) < 0:
        return "t", "entries are squares and must be >= 0"
    top = max(max(omega), 1e-300)
    t_scale = max(max(t), 1e-300)
    if any(o <= TOLERANCE * top and ti > TOLERANCE * t_scale for o, ti in zip(omega, t)):
        return "t", "t_i > 0 where omega_i = 0: Phi theta leaves the range of Omega"
    k = gamma * len(omega)
    explained = math.fsum(ti / o for o, ti in zip(omega, t) if o > TOLERANCE * top) / k
    if not explained <= rho * (1 + 1e-6):
        return "rho", (f"the features explain more teacher variance ({explained:.6g}) than rho = {rho:.6g}: not a "
                       "valid joint Gaussian model")
    return None


class SpectrumParams(Strict):
    omega: list[Float] = Field(min_length=1, max_length=MAX_SPECTRUM, description="Eigenvalues of Omega (>= 0).")
    t: list[Float] = Field(min_length=1, max_length=MAX_SPECTRUM,
                           description="t_i = ((U^T Phi theta)_i)^2 (>= 0, and 0 where omega_i is 0); as many as omega.")
    rho: Positive = Field(description="theta^T Psi theta / k; at least sum_i t_i / omega_i / k (what the features explain).")
    gamma: Positive = Field(description="k / p.")

    @model_validator(mode="after")
    def _valid(self) -> "SpectrumParams":
        problem = spectrum_problem(self.omega, self.t, self.rho, self.gamma)
        if problem is not None:
            raise ValueError(f"{problem[0]}: {problem[1]}")
        return self


Row = Annotated[list[Float], Field(min_length=1, max_length=MAX_COVARIANCE_DIM)]
Matrix = Annotated[list[Row], Field(min_length=1, max_length=MAX_COVARIANCE_DIM)]


def _columns(matrix: list[list[float]]) -> int:
    widths = {len(row) for row in matrix}
    if len(widths) != 1:
        raise ValueError("rows have different lengths")
    return widths.pop()


def _scale(matrix: list[list[float]]) -> float:
    return max(max(max(row), -min(row)) for row in matrix)


def _check_covariance(matrix: list[list[float]], size: int, what: str) -> None:
    """A size x size symmetric matrix with diagonals >= 0 and 2 x 2 principal minors >= 0 (within
    TOLERANCE relative to its largest entry, times its size for the minors, as the worker's eigenvalue
    check is relative to the largest eigenvalue). Loops in C (map over rows)."""
    if len(matrix) != size or _columns(matrix) != size:
        raise ValueError(f"must be {what} = {size} x {size}, got {len(matrix)} x {_columns(matrix)}")
    scale = max(_scale(matrix), 1e-300)
    symmetry, slack = TOLERANCE * scale, TOLERANCE * scale * size
    shifted = [matrix[i][i] + slack for i in range(size)]  # the diagonal of matrix + slack I
    for i, value in enumerate(shifted):
        if value < 0:
            raise ValueError(f"diagonal entry [{i}][{i}] = {matrix[i][i]:.3g} < 0: not a covariance")
    for i, (row, column) in enumerate(zip(matrix, zip(*matrix))):
        upper, lower = row[i + 1:], column[i + 1:]  # each pair once
        if upper != list(lower) and any(map(gt, map(abs, map(sub, upper, lower)), repeat(symmetry))):
            j = next(j for j in range(size) if abs(row[j] - column[j]) > symmetry)
            raise ValueError(f"must be symmetric: [{i}][{j}] = {row[j]:.6g} but [{j}][{i}] = {column[j]:.6g}")
        if _minor_negative(upper, shifted[i], shifted[i + 1:]):
            j = next(j for j in range(size) if row[j] * row[j] > shifted[i] * shifted[j])
            raise ValueError(f"not positive semi-definite: [{i}][{j}]^2 > [{i}][{i}] [{j}][{j}]")


def _minor_negative(row: list[float], shifted_own: float, shifted: list[float]) -> bool:
    """Some 2 x 2 matrix [[a, b], [b, c]] (b in ``row``, a + s = ``shifted_own``, c + s in ``shifted``)
    has an eigenvalue below -s: b^2 > (a + s)(c + s), given a + s, c + s >= 0."""
    return any(map(gt, map(mul, row, row), map(mul, repeat(shifted_own), shifted)))


class CovarianceParams(Strict):
    omega: Matrix = Field(description="E[phi phi^T], p x p, symmetric positive semi-definite (p <= 600).")
    phi: Matrix = Field(description="E[phi c^T], p x k (p = rows of omega, k <= 600); with omega and psi, a positive "
                                    "semi-definite joint covariance [[psi, phi^T], [phi, omega]].")
    psi: Matrix | None = Field(None, validate_default=True, json_schema_extra=one_of,
                               description="E[c c^T], k x k, symmetric positive semi-definite (default identity).")
    theta: Row = Field(description="Teacher vector, k entries, with theta^T psi theta > 0.")

    @field_validator("omega")
    @classmethod
    def _omega(cls, omega: list[list[float]]) -> list[list[float]]:
        _check_covariance(omega, len(omega), "p x p")
        return omega

    @field_validator("phi")
    @classmethod
    def _phi(cls, phi: list[list[float]], info: ValidationInfo) -> list[list[float]]:
        _columns(phi)
        omega = info.data.get("omega")
        if omega is not None:
            if len(phi) != len(omega):
                raise ValueError(f"must have p = {len(omega)} rows (p = rows of omega), got {len(phi)}")
        return phi

    @field_validator("psi")
    @classmethod
    def _psi(cls, psi: list[list[float]] | None, info: ValidationInfo) -> list[list[float]] | None:
        phi = info.data.get("phi")
        if psi is not None and phi is not None:
            _check_covariance(psi, len(phi[0]), "k x k (k = columns of phi)")
        return psi

    @field_validator("theta")
    @classmethod
    def _theta(cls, theta: list[float], info: ValidationInfo) -> list[float]:
        phi = info.data.get("phi")
        if phi is None or "psi" not in info.data:
            return theta
        k = len(phi[0])
        if len(theta) != k:
            raise ValueError(f"must have k = {k} entries (k = columns of phi), got {len(theta)}")
        psi = info.data["psi"]
        if psi is None:
            variance = math.fsum(map(mul, theta, theta))
        else:
            variance = math.fsum(map(mul, theta, (math.fsum(map(mul, row, theta)) for row in psi)))
        if not variance > 0:
            raise ValueError(f"theta^T psi theta must be > 0, got {variance:.3g}")
        return theta

    @model_validator(mode="after")
    def _joint_pairs(self) -> "CovarianceParams":
        """2 x 2 minors across the blocks: phi_ij^2 <= omega_ii psi_jj."""
        k = len(self.phi[0])
        psi_diagonal = [1.0] * k if self.psi is None else [self.psi[j][j] for j in range(k)]
        scale = max(_scale(self.phi), _scale(self.omega), max(abs(x) for x in psi_diagonal), 1e-300)
        slack = TOLERANCE * scale * (len(self.omega) + k)
        shifted_psi = [x + slack for x in psi_diagonal]
        for i, row in enumerate(self.phi):
            shifted_own = self.omega[i][i] + slack
            if _minor_negative(row, shifted_own, shifted_psi):
                j = next(j for j in range(k) if row[j] * row[j] > shifted_own * shifted_psi[j])
                raise ValueError(f"phi[{i}][{j}]^2 > omega[{i}][{i}] psi[{j}][{j}]: the joint covariance "
                                 "[[psi, phi^T], [phi, omega]] is not positive semi-definite")
        return self


class GCMRequest(Strict):
    # exactly one of spectrum and covariances, as an object
    model_config = ConfigDict(json_schema_extra={
        "oneOf": [given("spectrum"), given("covariances")],
        "examples": [{"spectrum": {"omega": [1.0, 2.0], "t": [0.2, 0.4], "rho": 1.0, "gamma": 1.0}},
                     {"covariances": {"omega": [[1.0, 0.2], [0.2, 1.0]], "phi": [[0.1], [0.1]], "theta": [1.0]},
                      "regularisation": "optimal"}],
    })

    spectrum: SpectrumParams | None = Field(None, json_schema_extra=one_of,
                                            description="The model as a spectrum (exactly one of spectrum and covariances).")
    covariances: CovarianceParams | None = Field(None, json_schema_extra=one_of,
                                                 description="The model as covariances (exactly one of spectrum and "
                                                             "covariances).")
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
