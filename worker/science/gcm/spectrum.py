"""What the GCM equations need of the data (MODEL.md section 4).

With Omega = U diag(omega) U^T: omega_i, t_i = ((U^T Phi theta)_i)^2, rho = theta^T Psi theta / k and
gamma = k / p. A valid Gaussian model also needs the teacher to be no better explained by the
features than it is large: theta^T Phi^T Omega^+ Phi theta / k = sum_i t_i / omega_i / k <= rho
(otherwise V* = rho - m^2/q turns negative on the way). The request's rules are the contract's
(``tlprobe.contract.gcm``), applied again here to every spectrum built from user data; the joint
covariance's positive semi-definiteness (an eigen-decomposition) is checked only here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tlprobe.contract.gcm import TOLERANCE, spectrum_problem

from ..invalid_spec import InvalidSpec

Array = np.ndarray


@dataclass(frozen=True)
class Spectrum:
    omega: Array  # eigenvalues of Omega, shape (p,)
    t: Array  # squared projections of Phi theta on the eigenvectors, shape (p,)
    rho: float
    gamma: float

    @property
    def p(self) -> int:
        return self.omega.shape[0]

    @property
    def k(self) -> float:
        return self.gamma * self.p

    @classmethod
    def checked(cls, omega, t, rho, gamma, field: str = "spectrum") -> "Spectrum":
        """A validated spectrum from user data (the contract's rules); raises InvalidSpec naming the field."""
        omega = _finite_vector(omega, f"{field}.omega")
        t = _finite_vector(t, f"{field}.t")
        for name, value in (("rho", rho), ("gamma", gamma)):
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
                raise InvalidSpec(f"{field}.{name}", f"must be a finite number > 0, got {value!r}")
        problem = spectrum_problem(omega.tolist(), t.tolist(), float(rho), float(gamma))
        if problem is not None:
            raise InvalidSpec(f"{field}.{problem[0]}", problem[1])
        return cls(omega=np.clip(omega, 0.0, None), t=t, rho=float(rho), gamma=float(gamma))

    @classmethod
    def from_covariances(cls, omega, phi, theta, psi=None, field: str = "covariances") -> "Spectrum":
        """Validate (Omega, Phi, Psi, theta) and reduce them to a spectrum. Psi defaults to I_k."""
        omega = _finite_matrix(omega, f"{field}.omega")
        phi = _finite_matrix(phi, f"{field}.phi")
        theta = _finite_vector(theta, f"{field}.theta")
        p, k = phi.shape
        if omega.shape != (p, p):
            raise InvalidSpec(f"{field}.omega", f"must be p x p = {p} x {p} (p = rows of phi), got {omega.shape}")
        if theta.shape != (k,):
            raise InvalidSpec(f"{field}.theta", f"must have k = {k} entries (k = columns of phi), got {theta.shape[0]}")
        psi = np.eye(k) if psi is None else _finite_matrix(psi, f"{field}.psi")
        if psi.shape != (k, k):
            raise InvalidSpec(f"{field}.psi", f"must be k x k = {k} x {k}, got {psi.shape}")
        for name, matrix in (("omega", omega), ("psi", psi)):
            _check_symmetric(matrix, f"{field}.{name}")
        joint = np.block([[psi, phi.T], [phi, omega]])
        joint_eig = np.linalg.eigvalsh(0.5 * (joint + joint.T))
        if joint_eig[0] < -TOLERANCE * max(joint_eig[-1], 1e-300):
            raise InvalidSpec(field, "the joint covariance [[psi, phi^T], [phi, omega]] is not positive "
                              f"semi-definite (min eigenvalue {joint_eig[0]:.3g})")
        rho = float(theta @ psi @ theta) / k
        if rho <= 0:
            raise InvalidSpec(f"{field}.theta", "theta^T psi theta must be > 0")
        return reduce_to_spectrum(0.5 * (omega + omega.T), phi, theta, rho)


def reduce_to_spectrum(omega: Array, phi: Array, theta: Array, rho: float | None = None) -> Spectrum:
    """Eigen-decompose a (trusted, symmetric PSD) Omega; rho defaults to |theta|^2 / k (Psi = I)."""
    p, k = phi.shape
    eigenvalues, vectors = np.linalg.eigh(omega)
    projections = vectors.T @ (phi @ theta)
    if rho is None:
        rho = float(theta @ theta) / k
    return Spectrum(omega=np.clip(eigenvalues, 0.0, None), t=projections**2, rho=rho, gamma=k / p)


def _finite_vector(values, field: str) -> Array:
    array = _finite_array(values, field)
    if array.ndim != 1 or array.size == 0:
        raise InvalidSpec(field, f"must be a non-empty vector, got shape {array.shape}")
    return array


def _finite_matrix(values, field: str) -> Array:
    array = _finite_array(values, field)
    if array.ndim != 2 or array.size == 0:
        raise InvalidSpec(field, f"must be a non-empty matrix, got shape {array.shape}")
    return array


def _finite_array(values, field: str) -> Array:
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InvalidSpec(field, "must be numbers in a rectangular array") from None
    if not np.all(np.isfinite(array)):
        raise InvalidSpec(field, "contains NaN or infinite values")
    return array


def _check_symmetric(matrix: Array, field: str) -> None:
    if matrix.shape[0] != matrix.shape[1]:
        raise InvalidSpec(field, f"must be square, got {matrix.shape}")
    scale = max(float(np.max(np.abs(matrix))), 1e-300)
    if np.max(np.abs(matrix - matrix.T)) > TOLERANCE * scale:
        raise InvalidSpec(field, "must be symmetric")
