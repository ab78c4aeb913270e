"""Frozen specifications of everything the engine computes, validated on construction.

These mirror the HTTP schemas in ``service.schemas`` but hold only what the mathematics needs:
range checks that make a spec meaningful (sizes positive, knobs in range, finite numbers). Resource
bounds (how large a request may be) are service policy and live with the schemas.
Every failed check raises :class:`InvalidSpec` naming the field, e.g. ``target.feature_noise``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from .activations import ACTIVATIONS, HIDDEN_ACTIVATIONS
from .errors import InvalidSpec

READOUT_PROTOCOLS = ("tf", "rf", "linear")
NETWORK_PROTOCOLS = ("scratch", "finetune")
PROTOCOLS = READOUT_PROTOCOLS + NETWORK_PROTOCOLS
LOSSES = ("logistic", "square")
OPTIMAL = "optimal"


def _require(condition: bool, name: str, reason: str) -> None:
    if not condition:
        raise InvalidSpec(name, reason)


def _finite(value: Any, name: str) -> None:
    _require(isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value),
             name, f"must be a finite number, got {value!r}")


def _integer(value: Any, name: str, minimum: int | None = None) -> None:
    _require(isinstance(value, int) and not isinstance(value, bool), name, f"must be an integer, got {value!r}")
    if minimum is not None:
        _require(value >= minimum, name, f"must be >= {minimum}, got {value}")


def _unit_interval(value: Any, name: str) -> None:
    _finite(value, name)
    _require(0.0 <= value <= 1.0, name, f"must lie in [0, 1], got {value}")


def _seed(value: Any, name: str) -> None:
    _integer(value, name, minimum=0)


@dataclass(frozen=True)
class SourceSpec:
    latent_dim: int = 50
    input_dim: int = 200
    activation: str = "erf"
    seed: int = 0

    def __post_init__(self) -> None:
        _integer(self.latent_dim, "source.latent_dim", 1)
        _integer(self.input_dim, "source.input_dim", 1)
        _require(self.activation in ACTIVATIONS, "source.activation",
                 f"unknown activation {self.activation!r}; choose one of {sorted(ACTIVATIONS)}")
        _seed(self.seed, "source.seed")


@dataclass(frozen=True)
class TargetSpec:
    feature_noise: float = 0.0
    teacher_noise: float = 0.0
    feature_substitution: float = 0.0
    latent_change: int = 0
    seed: int = 1

    def __post_init__(self) -> None:
        for name in ("feature_noise", "teacher_noise", "feature_substitution"):
            _unit_interval(getattr(self, name), f"target.{name}")
        _integer(self.latent_change, "target.latent_change")
        _seed(self.seed, "target.seed")

    def check_against(self, source: SourceSpec) -> None:
        _require(source.latent_dim + self.latent_change >= 1, "target.latent_change",
                 f"latent_change {self.latent_change} would empty the latent space "
                 f"(source.latent_dim is {source.latent_dim}; need latent_change > {-source.latent_dim})")


@dataclass(frozen=True)
class NetworkSpec:
    hidden_units: int = 200
    activation: str = "erf"
    n_samples: int = 2000
    epochs: int = 300
    learning_rate: float = 0.01
    weight_decay: float = 1e-4
    batch_size: int | None = None  # None: full batch
    seed: int = 0
    test_samples: int = 10000

    def __post_init__(self) -> None:
        _integer(self.hidden_units, "network.hidden_units", 1)
        _require(self.activation in HIDDEN_ACTIVATIONS, "network.activation",
                 f"hidden activation must be one of {list(HIDDEN_ACTIVATIONS)}, got {self.activation!r}")
        _integer(self.n_samples, "network.n_samples", 1)
        _integer(self.epochs, "network.epochs", 1)
        _finite(self.learning_rate, "network.learning_rate")
        _require(self.learning_rate > 0, "network.learning_rate", "must be > 0")
        _finite(self.weight_decay, "network.weight_decay")
        _require(self.weight_decay >= 0, "network.weight_decay", "must be >= 0")
        if self.batch_size is not None:
            _integer(self.batch_size, "network.batch_size", 1)
        _seed(self.seed, "network.seed")
        _integer(self.test_samples, "network.test_samples", 1)


@dataclass(frozen=True)
class ReadoutSpec:
    loss: str = "logistic"
    regularisation: float | str = 0.1

    def __post_init__(self) -> None:
        _require(self.loss in LOSSES, "readout.loss", f"must be one of {list(LOSSES)}, got {self.loss!r}")
        if self.regularisation != OPTIMAL:
            _finite(self.regularisation, "readout.regularisation")
            _require(self.regularisation >= 0, "readout.regularisation", "must be >= 0 or 'optimal'")

    @property
    def optimal(self) -> bool:
        return self.regularisation == OPTIMAL


@dataclass(frozen=True)
class SolverSettings:
    """Numerical settings of the GCM fixed-point iteration (MODEL.md section 4)."""

    quadrature_nodes_per_panel: int = 16
    tolerance: float = 1e-10
    max_iterations: int = 5000
    damping: float = 1.0

    def __post_init__(self) -> None:
        _integer(self.quadrature_nodes_per_panel, "theory.quadrature_nodes_per_panel", 4)
        _finite(self.tolerance, "theory.tolerance")
        _require(0 < self.tolerance < 1e-2, "theory.tolerance", "must lie in (0, 1e-2)")
        _integer(self.max_iterations, "theory.max_iterations", 1)
        _finite(self.damping, "theory.damping")
        _require(0 < self.damping <= 1, "theory.damping", "must lie in (0, 1]")


@dataclass(frozen=True)
class TheorySpec:
    mc_samples: int = 50000
    seed: int = 0
    solver: SolverSettings = field(default_factory=SolverSettings)

    def __post_init__(self) -> None:
        _integer(self.mc_samples, "theory.mc_samples", 2)
        _seed(self.seed, "theory.seed")


@dataclass(frozen=True)
class SimulationSpec:
    seeds: tuple[int, ...] = (0, 1)
    test_samples: int = 5000
    # target training of scratch / finetune; None: the source network's epochs and learning rate
    epochs: int | None = None
    learning_rate: float | None = None

    def __post_init__(self) -> None:
        if self.epochs is not None:
            _integer(self.epochs, "simulation.epochs", 1)
        if self.learning_rate is not None:
            _finite(self.learning_rate, "simulation.learning_rate")
            _require(self.learning_rate > 0, "simulation.learning_rate", "must be > 0")
        _require(len(self.seeds) >= 1, "simulation.seeds", "needs at least one seed")
        _require(len(set(self.seeds)) == len(self.seeds), "simulation.seeds", "seeds must be distinct")
        for seed in self.seeds:
            _seed(seed, "simulation.seeds")
        _integer(self.test_samples, "simulation.test_samples", 1)


@dataclass(frozen=True)
class LearningCurveSpec:
    source: SourceSpec = field(default_factory=SourceSpec)
    target: TargetSpec = field(default_factory=TargetSpec)
    network: NetworkSpec = field(default_factory=NetworkSpec)
    readout: ReadoutSpec = field(default_factory=ReadoutSpec)
    alphas: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)
    protocols: tuple[str, ...] = READOUT_PROTOCOLS
    theory: TheorySpec | None = field(default_factory=TheorySpec)
    simulation: SimulationSpec | None = field(default_factory=SimulationSpec)

    def __post_init__(self) -> None:
        self.target.check_against(self.source)
        _require(len(self.alphas) >= 1, "alphas", "needs at least one sample complexity")
        for alpha in self.alphas:
            _finite(alpha, "alphas")
            _require(alpha > 0, "alphas", f"every alpha = n_t / N must be > 0, got {alpha}")
        _require(len(self.protocols) >= 1, "protocols", "needs at least one protocol")
        _require(len(set(self.protocols)) == len(self.protocols), "protocols", "protocols must be distinct")
        for protocol in self.protocols:
            _require(protocol in PROTOCOLS, "protocols", f"unknown protocol {protocol!r}; choose from {list(PROTOCOLS)}")
        _require(self.theory is not None or self.simulation is not None, "theory",
                 "theory and simulation are both null: nothing to compute")
        if self.readout.optimal:
            _require(self.theory is not None, "readout.regularisation",
                     "'optimal' is chosen by the theory, so theory must not be null")
        if self.simulation is None:
            theory_protocols = [p for p in self.protocols if p in READOUT_PROTOCOLS]
            _require(bool(theory_protocols), "protocols",
                     "scratch and finetune have no theory; add a simulation or a readout protocol")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def target_training(self) -> NetworkSpec:
        """Optimiser settings of the scratch / finetune simulations on the target."""
        sim = self.simulation
        if sim is None:
            return self.network
        return replace(self.network, epochs=sim.epochs or self.network.epochs,
                       learning_rate=sim.learning_rate or self.network.learning_rate)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "LearningCurveSpec":
        """Build from plain JSON-like data (missing keys take defaults); raises InvalidSpec."""
        data = dict(data)
        theory = data.pop("theory", {})
        simulation = data.pop("simulation", {})
        known = {"source", "target", "network", "readout", "alphas", "protocols"}
        unknown = set(data) - known
        _require(not unknown, sorted(unknown)[0] if unknown else "", "unknown field")
        kwargs: dict[str, Any] = {}
        for name, kind in (("source", SourceSpec), ("target", TargetSpec), ("network", NetworkSpec),
                           ("readout", ReadoutSpec)):
            if name in data:
                kwargs[name] = _build(kind, data[name], name)
        if "alphas" in data:
            kwargs["alphas"] = tuple(data["alphas"])
        if "protocols" in data:
            kwargs["protocols"] = tuple(data["protocols"])
        if theory is not None:
            theory = dict(theory)
            solver = theory.pop("solver", {})
            theory["solver"] = _build(SolverSettings, solver or {}, "theory.solver")
        kwargs["theory"] = None if theory is None else _build(TheorySpec, theory, "theory")
        if simulation is not None and "seeds" in simulation:
            simulation = {**simulation, "seeds": tuple(simulation["seeds"])}
        kwargs["simulation"] = None if simulation is None else _build(SimulationSpec, simulation, "simulation")
        return cls(**kwargs)


def _build(kind: type, values: Any, name: str) -> Any:
    _require(isinstance(values, dict), name, "must be an object")
    try:
        return kind(**values)
    except TypeError as exc:  # unknown keyword
        raise InvalidSpec(name, str(exc)) from None
