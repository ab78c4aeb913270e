"""POST /v1/learning-curves: the request (every field defaulted, so {} is valid) and the result."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic import Strict as StrictType

from .common import (
    OPTIMAL,
    READOUT_PROTOCOLS,
    Activation,
    Float,
    HiddenActivation,
    Int,
    Loss,
    Protocol,
    Regularisation,
    Seed,
    SolvedCurve,
    SolverParams,
    Strict,
    UnitInterval,
    is_optimal,
)

MAX_SEEDS = 32
MAX_ALPHAS = 64


class SourceParams(Strict):
    latent_dim: Int = Field(50, ge=1, le=2000, description="D: dimension of the source's latent space.")
    input_dim: Int = Field(200, ge=1, le=4000, description="N: input dimension, shared by source and target.")
    activation: Activation = Field(Activation.erf, description="sigma in x = sigma(F^T c / sqrt(D)).")
    seed: Seed = 0


class TargetParams(Strict):
    feature_noise: UnitInterval = Field(0.0, description="epsilon: F_t = sqrt(1-eps) F + sqrt(eps) G.")
    teacher_noise: UnitInterval = Field(0.0, description="delta: theta_t = sqrt(1-delta) theta + sqrt(delta) theta'.")
    feature_substitution: UnitInterval = Field(0.0, description="Fraction of the kept feature rows replaced by fresh ones.")
    latent_change: Int = Field(0, ge=-1999, le=2000,
                               description="D_t - D_s: >0 appends fresh latent features, <0 drops the last ones.")
    seed: Seed = 1


class NetworkParams(Strict):
    hidden_units: Int = Field(200, ge=1, le=4000, description="K: hidden units of the two-layer network.")
    activation: HiddenActivation = Field(HiddenActivation.erf, description="sigma_h of the hidden layer.")
    n_samples: Int = Field(2000, ge=1, le=200_000, description="n_s: source training samples.")
    epochs: Int = Field(300, ge=1, le=5000)
    learning_rate: Float = Field(0.01, gt=0.0, le=10.0, description="Adam step size.")
    weight_decay: Float = Field(1e-4, ge=0.0, le=10.0, description="L2 penalty (wd/2)(|W|^2 + |a|^2) on the mean logistic loss.")
    batch_size: Int | None = Field(None, ge=1, le=200_000, description="Mini-batch size; null for full batch.")
    seed: Seed = 0
    test_samples: Int = Field(10_000, ge=1, le=200_000, description="Fresh source samples for the source test error.")


class ReadoutParams(Strict):
    loss: Loss = Loss.logistic
    regularisation: Regularisation = Field(
        OPTIMAL, description="l2 strength lambda >= 0 of the readout, or 'optimal' (the default): each protocol at its own "
                             "best lambda per alpha, so that protocols are compared at their best. With a theory, the "
                             "lambda in [1e-5, 1e2] minimising the theoretical test error (simulations use it too); "
                             "without one, the lambda of a half-decade grid over [1e-5, 1e2] with the fewest held-out "
                             "errors in 5-fold cross-validation on the training sets, pooled over seeds.")

    @property
    def optimal(self) -> bool:
        return is_optimal(self.regularisation)


class TheoryParams(Strict):
    mc_samples: Int = Field(50_000, ge=2, le=2_000_000, description="M: Monte Carlo samples for the tf/rf covariances.")
    seed: Seed = 0
    solver: SolverParams = SolverParams()


class SimulationParams(Strict):
    seeds: Int | list[Seed] = Field(2, validate_default=True, description=f"Simulation seeds: a count n (seeds 0..n-1) or an "
                                                                          f"explicit list; at most {MAX_SEEDS}.")
    test_samples: Int = Field(5000, ge=1, le=200_000, description="Fresh target samples per seed for the test error.")
    epochs: Int | None = Field(None, ge=1, le=5000,
                               description="scratch/finetune target training epochs (default: the network's).")
    learning_rate: Float | None = Field(None, gt=0.0, le=10.0,
                                        description="scratch/finetune learning rate (default: the network's).")

    @field_validator("seeds")
    @classmethod
    def _seed_list(cls, value: int | list[int]) -> list[int]:
        seeds = list(range(value)) if isinstance(value, int) else value
        if not 1 <= len(seeds) <= MAX_SEEDS:
            raise ValueError(f"between 1 and {MAX_SEEDS} seeds")
        if len(set(seeds)) != len(seeds):
            raise ValueError("seeds must be distinct")
        return seeds


Alpha = Annotated[float, StrictType(), Field(gt=0.0, le=64.0)]


def check_latent_change(source: SourceParams, latent_change: float, name: str = "latent_change") -> None:
    if source.latent_dim + latent_change < 1:
        raise ValueError(f"{name} {latent_change:g} would empty the latent space "
                         f"(source.latent_dim is {source.latent_dim})")


def check_computable(theory: TheoryParams | None, simulation: SimulationParams | None) -> None:
    """Rules every request with a theory and a simulation part obeys (learning curves, diagrams)."""
    if theory is None and simulation is None:
        raise ValueError("theory and simulation are both null: nothing to compute")


class LearningCurveRequest(Strict):
    source: SourceParams = SourceParams()
    target: TargetParams = TargetParams()
    network: NetworkParams = NetworkParams()
    readout: ReadoutParams = ReadoutParams()
    alphas: list[Alpha] = Field([0.25, 0.5, 1.0, 2.0, 4.0], min_length=1, max_length=MAX_ALPHAS,
                                description="Target sample complexities alpha = n_t / N.")
    protocols: list[Protocol] = Field(list(READOUT_PROTOCOLS), min_length=1, max_length=5)
    theory: TheoryParams | None = Field(TheoryParams(), description="null: no theory (scratch/finetune have none).")
    simulation: SimulationParams | None = Field(SimulationParams(), description="null: theory only.")

    @model_validator(mode="after")
    def _consistent(self) -> "LearningCurveRequest":
        if len(set(self.protocols)) != len(self.protocols):
            raise ValueError("protocols must be distinct")
        check_latent_change(self.source, self.target.latent_change, "target.latent_change")
        check_computable(self.theory, self.simulation)
        if self.simulation is None and not self.readout_protocols:
            raise ValueError("scratch and finetune have no theory: add a simulation or a readout protocol")
        return self

    @property
    def readout_protocols(self) -> list[Protocol]:
        """The requested protocols that fit a readout on fixed features (in request order)."""
        return [p for p in self.protocols if p in READOUT_PROTOCOLS]

    @property
    def target_training(self) -> NetworkParams:
        """Optimiser settings of the scratch / finetune simulations on the target: the network's,
        with the simulation's epochs and learning rate when it sets them."""
        sim = self.simulation
        if sim is None:
            return self.network
        return self.network.model_copy(update={"epochs": sim.epochs or self.network.epochs,
                                               "learning_rate": sim.learning_rate or self.network.learning_rate})


class TheoryCurve(SolvedCurve):
    """Per alpha; ``sample_complexity`` is alpha_p = n_t / p, not alpha."""

    test_error_mc_error: list[float | None] | None = Field(
        description="Monte Carlo error of the test error (tf, rf): bias + spread from the two halves of the M samples.")


class SimulationCurve(Strict):
    n_samples: list[int] = Field(description="n_t = round(alpha N) per alpha.")
    regularisation: list[float] | None = Field(description="The readout's lambda per alpha (readout protocols).")
    regularisation_chosen_by: Literal["fixed", "theory", "cross_validation"] | None = Field(
        None, description="How lambda was chosen: given by the request, the theory's optimum, or cross-validation.")
    test_error_mean: list[float | None]
    test_error_sem: list[float | None] = Field(description="Standard error of the mean over seeds (null with one seed).")
    test_errors: list[list[float | None]] = Field(description="[alpha][seed] test errors.")
    train_error_mean: list[float | None]
    train_loss_mean: list[float | None] | None
    optimiser_converged: list[bool]


class ProtocolCurve(Strict):
    feature_dim: int | None = Field(description="p: feature dimension of a readout protocol.")
    theory: TheoryCurve | None
    simulation: SimulationCurve | None


class LearningCurveResult(Strict):
    kind: Literal["learning_curve"] = "learning_curve"
    alphas: list[float]
    source_test_error: float
    source_train_error: float
    source_train_loss: float
    target_latent_dim: int
    curves: dict[Protocol, ProtocolCurve]
    meta: dict[str, Any]
