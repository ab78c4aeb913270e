"""POST /v1/learning-curves: the request (every field defaulted, so {} is valid) and the result."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Mapping

from pydantic import ConfigDict, Field, ValidationInfo, WrapValidator, field_validator, model_validator
from pydantic import Strict as StrictType

from .common import (
    CROSS_VALIDATION_FOLDS,
    CROSS_VALIDATION_GRID,
    ORACLE,
    READOUT_PROTOCOLS,
    TUNED,
    Activation,
    ChosenBy,
    Float,
    HiddenActivation,
    Int,
    LabelNoise,
    Loss,
    Protocol,
    ReadoutRegularisation,
    Seed,
    SolvedCurve,
    SolverParams,
    Strict,
    TuningRule,
    UnitInterval,
    is_null,
    is_oracle,
    one_of,
)
from .datasets import DatasetDescription, DatasetSource, DatasetTarget, ReadsDatasets, by_shape, training_split

MAX_SEEDS = 32
MAX_ALPHAS = 64
#: hidden layers of the source network (MODEL.md section 9)
MAX_HIDDEN_LAYERS = 3

#: target-training defaults of scratch and finetune, chosen by bench/finetune_study.py (docs/finetune.md)
SCRATCH_EPOCHS, SCRATCH_LEARNING_RATE, SCRATCH_WEIGHT_DECAY = 300, 0.01, 1e-4
FINETUNE_EPOCHS, FINETUNE_LEARNING_RATE, FINETUNE_REGULARISATION = 100, 3e-3, 20.0
FINETUNE_ANCHOR, FINETUNE_VALIDATION_FRACTION = "source", 0.0
#: what the tuning rules choose among (docs/model.md, "How hyperparameters are chosen"; the pilot behind
#: these grids is bench/tuning_grids.py): scratch's weight decay and finetune's anchor strength mu (per
#: sum of losses), each with its epochs chosen along the run; the readout's lambda on CROSS_VALIDATION_GRID
SCRATCH_WEIGHT_DECAYS = (1e-5, 3e-5, 1e-4, 3e-4)
FINETUNE_ANCHOR_STRENGTHS = (0.2, 2.0, 20.0, 200.0)
VALIDATION_SAMPLES = 5000
MAX_CANDIDATES = 32


class SourceParams(Strict):
    latent_dim: Int = Field(50, ge=1, le=2000, description="D: dimension of the source's latent space.")
    input_dim: Int = Field(200, ge=1, le=4000, description="N: input dimension, shared by source and target.")
    activation: Activation = Field(Activation.erf, description="sigma in x = sigma(F^T c / sqrt(D)).")
    seed: Seed = 0
    label_noise: LabelNoise = Field(0.0, description="p: each source label is flipped independently with probability "
                                                     "p; the source network trains (and is tested) on flipped labels.")


class TargetParams(Strict):
    feature_noise: UnitInterval = Field(0.0, description="epsilon: F_t = sqrt(1-eps) F + sqrt(eps) G.")
    teacher_noise: UnitInterval = Field(0.0, description="delta: theta_t = sqrt(1-delta) theta + sqrt(delta) theta'.")
    feature_substitution: UnitInterval = Field(0.0, description="Fraction of the kept feature rows replaced by fresh ones.")
    latent_change: Int = Field(0, ge=-1999, le=2000,
                               description="D_t - D_s: >0 appends fresh latent features, <0 drops the last ones.")
    seed: Seed = 1
    label_noise: LabelNoise = Field(
        0.0, description="p: each target label is flipped independently with probability p, in training and in test "
                         "samples alike; every test error (theory and simulation) is against these noisy labels.")


class NetworkParams(Strict):
    hidden_units: Int = Field(200, ge=1, le=4000, description="K: hidden units of each hidden layer.")
    hidden_layers: Int = Field(1, ge=1, le=MAX_HIDDEN_LAYERS,
                               description="L: hidden layers of width K of the source network (1: the two-layer network); "
                                           "scratch and finetune train the same architecture.")
    activation: HiddenActivation = Field(HiddenActivation.erf, description="sigma_h of the hidden layers.")
    n_samples: Int = Field(2000, ge=1, le=200_000, description="n_s: source training samples.")
    epochs: Int = Field(300, ge=1, le=5000)
    learning_rate: Float = Field(0.01, gt=0.0, le=10.0, description="Adam step size.")
    weight_decay: Float = Field(1e-4, ge=0.0, le=10.0, description="L2 penalty (wd/2)(|W|^2 + |a|^2) on the mean logistic loss.")
    batch_size: Int | None = Field(None, ge=1, le=200_000, description="Mini-batch size; null for full batch.")
    seed: Seed = 0
    test_samples: Int = Field(10_000, ge=1, le=200_000, description="Fresh source samples for the source test error.")


class ReadoutParams(Strict):
    loss: Loss = Loss.logistic
    regularisation: ReadoutRegularisation = Field(
        TUNED, description="l2 strength lambda >= 0 of the readout; 'tuned' (the default): chosen per alpha and seed by "
                           "the request's tuning rule among tuning.regularisations, like every protocol's "
                           "hyperparameters; or 'oracle' (alias 'optimal'): the lambda in [1e-5, 1e2] minimising the "
                           "theory's test error per alpha (it needs the teacher, so no practitioner can reach it; the "
                           "simulations use it too; on datasets the Gaussian-equivalent model's, fitted on the "
                           "training split). Without a theory 'oracle' is refused and 'optimal' means 'tuned'. The "
                           "theory itself runs at the oracle lambda unless this is a number.")

    transfer_layer: Int | None = Field(
        None, ge=1, le=MAX_HIDDEN_LAYERS, json_schema_extra=one_of,
        description="l in 1..network.hidden_layers: tf fits the readout on the source network's l-th hidden layer, rf "
                    "on a random network of depth l, finetune fine-tunes the source network's first l layers under "
                    "the probe's readout; null (the default): the last hidden layer.")

    @property
    def oracle(self) -> bool:
        return is_oracle(self.regularisation)

    @property
    def tuned(self) -> bool:
        return self.regularisation == TUNED

    @property
    def fixed(self) -> bool:
        return not isinstance(self.regularisation, str)


class TheoryParams(Strict):
    mc_samples: Int = Field(50_000, ge=2, le=2_000_000, description="M: Monte Carlo samples for the tf/rf covariances.")
    seed: Seed = 0
    solver: SolverParams = SolverParams()


SeedCount = Annotated[int, StrictType(), Field(ge=1, le=MAX_SEEDS, description=f"n: seeds 0..n-1 (1..{MAX_SEEDS}).")]
SeedList = Annotated[list[Seed], Field(min_length=1, max_length=MAX_SEEDS, json_schema_extra={"uniqueItems": True})]


class ScratchParams(Strict):
    """How ``scratch`` trains the two-layer network on the target, from a seeded random start.
    Defaults: docs/finetune.md (chosen by the study there)."""

    epochs: Int = Field(SCRATCH_EPOCHS, ge=1, le=5000)
    learning_rate: Float = Field(SCRATCH_LEARNING_RATE, gt=0.0, le=10.0, description="Adam step size.")
    weight_decay: Float = Field(SCRATCH_WEIGHT_DECAY, ge=0.0, le=10.0,
                                description="L2 penalty (wd/2)(|W|^2 + |a|^2) on the mean logistic loss.")
    batch_size: Int | None = Field(None, ge=1, le=200_000, description="Mini-batch size; null for full batch.")


class FinetuneParams(Strict):
    """How ``finetune`` trains: probe (the tf readout on the source features), then both layers,
    optionally stopped early on a held-out part of the target training set. Defaults: docs/finetune.md
    (chosen by the study there)."""

    epochs: Int = Field(FINETUNE_EPOCHS, ge=1, le=5000,
                        description="Most epochs of fine-tuning (with early stopping, the chosen number is at most this).")
    learning_rate: Float = Field(FINETUNE_LEARNING_RATE, gt=0.0, le=10.0, description="Adam step size.")
    regularisation: Float = Field(
        FINETUNE_REGULARISATION, ge=0.0, le=1e6,
        description="mu of the first layer's penalty (mu/2)|W - W_anchor|^2, added like the readout's lambda to the sum "
                    "of the logistic losses over the n_t samples (so its pull weakens as n_t grows; the readout keeps "
                    "the probe's lambda).")
    anchor: Literal["source", "zero"] = Field(
        FINETUNE_ANCHOR, description="What the first layer's penalty pulls toward: the source layer W_s (L2-SP) or zero.")
    validation_fraction: Float = Field(
        FINETUNE_VALIDATION_FRACTION, ge=0.0, le=0.5,
        description="Share of the target training set held out to choose the number of epochs (lowest held-out loss, "
                    "the probe included), after which the network is retrained on the whole set; 0: no early stopping.")
    batch_size: Int | None = Field(None, ge=1, le=200_000, description="Mini-batch size; null for full batch.")


def _candidates(default: tuple[float, ...], what: str):
    return Field(list(default), min_length=1, max_length=MAX_CANDIDATES, json_schema_extra={"uniqueItems": True},
                 description=what)


Candidate = Annotated[float, StrictType(), Field(ge=0.0, le=1e6)]


class TuningParams(Strict):
    """How every protocol's hyperparameters are chosen (MODEL.md section 10): the readout's lambda (tf, rf,
    linear; finetune's probe is tf's), scratch's weight decay and epochs, finetune's anchor strength and
    epochs. Epochs are chosen among checkpoints of one training run per candidate (up to the protocol's
    ``epochs``), so tuning costs about one run per weight decay or anchor strength."""

    rule: TuningRule | None = Field(
        None, description="best_achievable: on simulation.seeds' fresh validation samples drawn from the generator, "
                          "independent of the test samples (synthetic tasks only); practitioner: k-fold "
                          "cross-validation on the protocol's own n_t training samples, then a refit on all of them; "
                          "fixed: the request's numbers (readout.regularisation, simulation.scratch.weight_decay and "
                          "epochs, simulation.finetune.regularisation and epochs). Default (null): best_achievable on "
                          "synthetic tasks, practitioner on datasets.")
    validation_samples: Int = Field(VALIDATION_SAMPLES, ge=1, le=200_000,
                                    description="best_achievable: fresh validation samples per simulation seed.")
    folds: Int = Field(CROSS_VALIDATION_FOLDS, ge=2, le=10,
                       description="practitioner: folds of the cross-validation (fewer when n_t is smaller).")
    regularisations: list[Candidate] = _candidates(CROSS_VALIDATION_GRID, "The readout lambdas chosen among.")
    weight_decays: list[Candidate] = _candidates(SCRATCH_WEIGHT_DECAYS,
                                                 "scratch: the weight decays chosen among (on the mean loss).")
    anchor_strengths: list[Candidate] = _candidates(FINETUNE_ANCHOR_STRENGTHS,
                                                    "finetune: the anchor strengths mu chosen among (on the sum of "
                                                    "the losses, like simulation.finetune.regularisation).")

    @field_validator("regularisations", "weight_decays", "anchor_strengths")
    @classmethod
    def _distinct(cls, values: list[float], info: ValidationInfo) -> list[float]:
        if len(set(values)) != len(values):
            raise ValueError("candidates must be distinct")
        if info.field_name == "weight_decays" and max(values) > 10.0:
            raise ValueError("a weight decay is at most 10")
        return sorted(values)

    @property
    def tuned(self) -> bool:
        return self.rule is not None and self.rule is not TuningRule.fixed


def default_tuning_rule(data: Any) -> Any:
    """``tuning.rule`` filled in when absent or null (a model validator's "before" step): best_achievable on
    synthetic tasks, practitioner on datasets (which have no generator to draw validation data from). The
    rule is part of the validated request, so a request spelling out the default has the same cache key."""
    if not isinstance(data, dict):
        return data
    tuning = data.get("tuning")
    if isinstance(tuning, TuningParams):
        if tuning.rule is not None:
            return data
        tuning = {name: getattr(tuning, name) for name in TuningParams.model_fields}
    tuning = {} if tuning is None else tuning
    if not isinstance(tuning, dict) or tuning.get("rule") is not None:
        return data
    source = data.get("source")
    on_datasets = isinstance(source, DatasetSource) or (isinstance(source, dict) and "dataset" in source)
    rule = TuningRule.practitioner if on_datasets else TuningRule.best_achievable
    return {**data, "tuning": {**tuning, "rule": rule.value}}


def check_tuning(tuning: TuningParams, readout: "ReadoutParams", theory: "TheoryParams | None",
                 simulation: "SimulationParams | None", uses_datasets: bool, readout_lambda_used: bool) -> None:
    """The rules between the tuning rule and the fields it chooses (ValueError naming the field).
    ``readout_lambda_used``: some protocol fits a readout (tf, rf, linear, or finetune's probe)."""
    rule = tuning.rule
    if rule is TuningRule.best_achievable and uses_datasets:
        raise ValueError("tuning.rule best_achievable draws fresh validation data from the generator, which datasets "
                         "do not have: use 'practitioner' (cross-validation on the training samples) or 'fixed'")
    if readout.regularisation == ORACLE and theory is None:
        raise ValueError("readout.regularisation 'oracle' is the theory's optimum: give 'theory', or use 'tuned'")
    if rule is TuningRule.fixed and readout_lambda_used and not (readout.fixed or (readout.oracle and theory is not None)):
        alternatives = "a number" if theory is None else "a number or 'oracle'"
        raise ValueError(f"tuning.rule 'fixed' takes the request's numbers: give readout.regularisation as "
                         f"{alternatives} (it is {readout.regularisation!r})")
    if rule is TuningRule.fixed or simulation is None:
        return
    chosen = {("scratch", "weight_decay"): (SCRATCH_WEIGHT_DECAY, "scratch's weight decay among tuning.weight_decays"),
              ("finetune", "regularisation"): (FINETUNE_REGULARISATION,
                                               "finetune's anchor strength among tuning.anchor_strengths"),
              ("finetune", "validation_fraction"): (FINETUNE_VALIDATION_FRACTION, "finetune's epochs")}
    for (section, name), (default, what) in chosen.items():
        value = getattr(getattr(simulation, section), name)
        if value != default:
            raise ValueError(f"simulation.{section}.{name} is {value:g}, but tuning.rule {rule.value} chooses {what}: "
                             "give tuning.rule 'fixed' to set it yourself")


class SimulationParams(Strict):
    seeds: SeedCount | SeedList = Field(2, validate_default=True, json_schema_extra=one_of,
                                        description=f"Simulation seeds: a count n (seeds 0..n-1) or an explicit list "
                                                    f"of distinct seeds; at most {MAX_SEEDS}.")
    test_samples: Int = Field(5000, ge=1, le=200_000, description="Fresh target samples per seed for the test error.")
    scratch: ScratchParams = Field(ScratchParams(), description="Training of the scratch protocol on the target.")
    finetune: FinetuneParams = Field(FinetuneParams(), description="Training of the finetune protocol on the target.")

    @model_validator(mode="before")
    @classmethod
    def _replaced_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in ("epochs", "learning_rate"):
                if name in data:
                    raise ValueError(f"simulation.{name} was replaced by simulation.scratch.{name} and "
                                     f"simulation.finetune.{name}: scratch and finetune each have their own")
        return data

    @field_validator("seeds")
    @classmethod
    def _seed_list(cls, value: int | list[int]) -> list[int]:
        # the count's bounds are the type's, checked before this builds the list (a count of 10^9 must
        # not be materialised); kept here too, so that no caller can build one by skipping the type
        count = value if isinstance(value, int) else len(value)
        if not 1 <= count <= MAX_SEEDS:
            raise ValueError(f"between 1 and {MAX_SEEDS} seeds")
        seeds = list(range(value)) if isinstance(value, int) else value
        if len(set(seeds)) != len(seeds):
            raise ValueError("seeds must be distinct")
        return seeds


Alpha = Annotated[float, StrictType(), Field(gt=0.0, le=64.0)]


def target_samples(alpha: float, input_dim: int) -> int:
    """n_t = round(alpha N), at least 1: how many target samples a sample complexity alpha means."""
    return max(1, int(round(alpha * input_dim)))


def smallest_alpha(input_dim: int) -> float:
    """1 / N: the smallest alpha that means at least one target sample (n_t = alpha N >= 1). Below
    it n_t would round to 0 and the simulation would run on a clamped size the theory knows nothing of."""
    return 1.0 / input_dim


def alpha_problem(alpha: float, input_dim: int, where: str) -> str | None:
    """Why ``alpha`` is too small for N = ``input_dim`` (``where`` says where N comes from), or None."""
    if alpha * input_dim >= 1.0 - 1e-9:
        return None
    return (f"alpha {alpha:g} is below the smallest alpha 1/N = {smallest_alpha(input_dim):.6g} ({where} N = "
            f"{input_dim}): alpha N = {alpha * input_dim:.3g} target samples, less than one")


def check_latent_change(source: SourceParams, latent_change: float, name: str = "latent_change") -> None:
    if source.latent_dim + latent_change < 1:
        raise ValueError(f"{name} {latent_change:g} would empty the latent space "
                         f"(source.latent_dim is {source.latent_dim})")


def transfer_layer(readout: ReadoutParams, network: NetworkParams) -> int:
    """l: ``readout.transfer_layer``, or the network's last hidden layer when it is null."""
    return network.hidden_layers if readout.transfer_layer is None else readout.transfer_layer


def check_transfer_layer(readout: ReadoutParams, network: NetworkParams) -> None:
    if readout.transfer_layer is not None and readout.transfer_layer > network.hidden_layers:
        raise ValueError(f"readout.transfer_layer {readout.transfer_layer} exceeds network.hidden_layers "
                         f"{network.hidden_layers}: the source network has no such layer")


def check_computable(theory: TheoryParams | None, simulation: SimulationParams | None) -> None:
    """Rules every request with a theory and a simulation part obeys (learning curves, diagrams)."""
    if theory is None and simulation is None:
        raise ValueError("theory and simulation are both null: nothing to compute")


#: the source and target of a request: the synthetic model's parameters, or a dataset reference
Source = Annotated[SourceParams | DatasetSource, WrapValidator(by_shape(DatasetSource, SourceParams))]
Target = Annotated[TargetParams | DatasetTarget, WrapValidator(by_shape(DatasetTarget, TargetParams))]
#: the ``source`` field of the learning-curve and phase-diagram requests
SourceField = Annotated[Source, Field(json_schema_extra=one_of,
                                      description="The synthetic source task, or {\"dataset\": ID, ...}: an uploaded "
                                                  "dataset (then the target must be one too).")]


#: the rules between fields that JSON Schema can state, published with the request's schema (the
#: validators below enforce them; the rest are listed in the operation's description)
#: JSON Schema: source and target are both datasets or both synthetic
BOTH_DATASETS_OR_NEITHER = [
    {"required": ["source", "target"],
     "properties": {"source": {"required": ["dataset"]}, "target": {"required": ["dataset"]}}},
    {"properties": {"source": {"not": {"required": ["dataset"]}}, "target": {"not": {"required": ["dataset"]}}}},
]
LEARNING_CURVE_RULES = {
    "oneOf": BOTH_DATASETS_OR_NEITHER,
    "allOf": [
        {"not": {"allOf": [is_null("theory"), is_null("simulation")]}},  # something to compute
        # without a simulation, some protocol must have a theory
        {"if": is_null("simulation"),
         "then": {"properties": {"protocols": {"contains": {"enum": [p.value for p in READOUT_PROTOCOLS]}}}}},
    ],
    # a small curve (seconds on one core): the docs show it, and fuzzers start from it
    "examples": [{"source": {"latent_dim": 10, "input_dim": 40}, "target": {"feature_noise": 0.3},
                  "network": {"hidden_units": 30, "n_samples": 400, "epochs": 60}, "alphas": [0.5, 2.0],
                  "theory": {"mc_samples": 4000}, "simulation": {"seeds": 2, "test_samples": 1000}}],
}


class LearningCurveRequest(ReadsDatasets, Strict):
    model_config = ConfigDict(json_schema_extra=LEARNING_CURVE_RULES)

    source: SourceField = SourceParams()
    target: Target = Field(TargetParams(), json_schema_extra=one_of,
                           description="The synthetic target task, or {\"dataset\": ID, ...}.")
    network: NetworkParams = NetworkParams()
    readout: ReadoutParams = ReadoutParams()
    alphas: list[Alpha] = Field([0.25, 0.5, 1.0, 2.0, 4.0], min_length=1, max_length=MAX_ALPHAS,
                                description="Target sample complexities alpha = n_t / N.")
    protocols: list[Protocol] = Field(list(READOUT_PROTOCOLS), min_length=1, max_length=5,
                                      json_schema_extra={"uniqueItems": True}, description="Distinct protocols.")
    theory: TheoryParams | None = Field(TheoryParams(), json_schema_extra=one_of,
                                        description="null: no theory (scratch/finetune have none).")
    simulation: SimulationParams | None = Field(SimulationParams(), json_schema_extra=one_of,
                                                description="null: theory only.")
    tuning: TuningParams = Field(TuningParams(), description="How every protocol's hyperparameters are chosen.")

    _default_tuning_rule = model_validator(mode="before")(default_tuning_rule)

    @field_validator("alphas")
    @classmethod
    def _at_least_one_sample(cls, alphas: list[float], info: ValidationInfo) -> list[float]:
        """Synthetic source: N is source.input_dim (on datasets, ``dataset_problems`` checks the target's N)."""
        source = info.data.get("source")
        if isinstance(source, SourceParams):
            for index, alpha in enumerate(alphas):
                problem = alpha_problem(alpha, source.input_dim, "source.input_dim:")
                if problem is not None:
                    raise ValueError(f"alphas[{index}]: {problem}")
        return alphas

    @model_validator(mode="after")
    def _consistent(self) -> "LearningCurveRequest":
        if len(set(self.protocols)) != len(self.protocols):
            raise ValueError("protocols must be distinct")
        self.check_both_or_neither()
        if not self.uses_datasets:
            check_latent_change(self.source, self.target.latent_change, "target.latent_change")
        check_transfer_layer(self.readout, self.network)
        check_computable(self.theory, self.simulation)
        if self.simulation is None and not self.readout_protocols:
            raise ValueError("scratch and finetune have no theory: add a simulation or a readout protocol")
        finetune = self.simulation is not None and Protocol.finetune in self.protocols
        check_tuning(self.tuning, self.readout, self.theory, self.simulation, self.uses_datasets,
                     bool(self.readout_protocols) or finetune)
        return self

    @property
    def transfer_layer(self) -> int:
        """l: the hidden layer the readouts use (``readout.transfer_layer``, the last one by default)."""
        return transfer_layer(self.readout, self.network)

    @property
    def readout_protocols(self) -> list[Protocol]:
        """The requested protocols that fit a readout on fixed features (in request order)."""
        return [p for p in self.protocols if p in READOUT_PROTOCOLS]

    def dataset_problems(self, described: Mapping[str, DatasetDescription]) -> list[tuple[tuple, str]]:
        """What the request asks of its datasets that they cannot give, as (location, reason) pairs:
        the same N for source and target, n_s within the source's training split, every alpha within
        what the target's training split can supply (the reason names the largest possible alpha).
        ``described`` maps each of ``dataset_ids`` to its description."""
        if not self.uses_datasets:
            return []
        source, target = described[self.source.dataset], described[self.target.dataset]
        problems: list[tuple[tuple, str]] = []
        if source.input_dim != target.input_dim:
            problems.append((("target", "dataset"), f"target dataset {target.dataset_id} has N = {target.input_dim} "
                             f"inputs but source dataset {source.dataset_id} has N = {source.input_dim}: they must "
                             "be equal"))
        for name, ref, data in (("source", self.source, source), ("target", self.target, target)):
            if training_split(data.samples, ref.test_fraction) < 1:
                problems.append(((name, "test_fraction"), f"holding out {ref.test_fraction:g} of the {data.samples} "
                                 f"samples of {data.dataset_id} leaves none to train on"))
        source_pool = training_split(source.samples, self.source.test_fraction)
        if self.network.n_samples > source_pool >= 1:
            problems.append((("network", "n_samples"), f"n_samples {self.network.n_samples} exceeds the {source_pool} "
                             f"samples of the training split of source dataset {source.dataset_id} ({source.samples} "
                             f"samples, test_fraction {self.source.test_fraction:g})"))
        pool, n_inputs = training_split(target.samples, self.target.test_fraction), target.input_dim
        if pool >= 1:
            for index, alpha in enumerate(self.alphas):
                needed = target_samples(alpha, n_inputs)
                too_small = alpha_problem(alpha, n_inputs, f"target dataset {target.dataset_id} has")
                if too_small is not None:
                    problems.append((("alphas", index), too_small))
                elif needed > pool:
                    problems.append((("alphas", index), f"alpha {alpha:g} needs n_t = {needed} target samples but the "
                                     f"training split of target dataset {target.dataset_id} has {pool}: the largest "
                                     f"possible alpha is {pool / n_inputs:.6g} (= {pool} / N, N = {n_inputs})"))
        return problems



#: which error every test error of a learning curve is (theory, Gaussian-equivalent and simulation alike)
TEST_ERROR_MEANING = ("against the target's labels as the task gives them: with target.label_noise p > 0, labels "
                      "flipped with probability p (the error against the clean labels is (e - p) / (1 - 2p))")


class TheoryCurve(SolvedCurve):
    """Per alpha; ``sample_complexity`` is alpha_p = n_t / p, not alpha."""

    test_error: list[float | None] = Field(
        description="The GCM's test error per point, " + TEST_ERROR_MEANING + "; null where the iteration broke down "
                    "(see status).")
    regularisation_chosen_by: Literal["fixed", "oracle"] | None = Field(
        None, description="The request's lambda, or the oracle: the lambda minimising this curve's own test error "
                          "(the theory runs at the oracle unless readout.regularisation is a number; with 'tuned' it "
                          "is the limit the best_achievable rule approaches).")

    test_error_mc_error: list[float | None] | None = Field(
        description="Monte Carlo error of the test error (tf, rf): bias + spread from the two halves of the M samples.")


class ChosenHyperparameter(Strict):
    """One hyperparameter of one simulated protocol: what chose it and the value each run used."""

    chosen_by: ChosenBy = Field(description="fixed: the request's number; oracle: the theory's optimum; "
                                            "gaussian_equivalent: the optimum of the Gaussian-equivalent model (datasets, "
                                            "fitted on the training split); validation: the fewest errors on fresh "
                                            "validation samples (best_achievable); cross_validation: the fewest "
                                            "held-out errors in k-fold cross-validation on the training samples, "
                                            "then refitted on all of them (practitioner).")
    values: list[list[float]] = Field(description="[alpha][seed] the value used.")
    candidates: list[float] | None = Field(None, description="What the rule chose among (epochs: the checkpoints "
                                                             "of the run); null for fixed and oracle values.")


class SimulationCurve(Strict):
    n_samples: list[int] = Field(description="n_t = round(alpha N) per alpha.")
    regularisation: list[float | None] | None = Field(
        description="The readout's lambda per alpha (readout protocols; finetune: its probe's, the tf readout's); null "
                    "at an alpha where the seeds chose different lambdas (each seed's: hyperparameters).")
    regularisation_chosen_by: ChosenBy | None = Field(
        None, description="How lambda was chosen (see hyperparameters' chosen_by).")
    hyperparameters: dict[str, ChosenHyperparameter] = Field(
        default_factory=dict,
        description="Every hyperparameter of the protocol, what chose it and the values per alpha and seed: "
                    "regularisation (readout lambda; finetune: its probe's), weight_decay and epochs (scratch), "
                    "anchor_strength and epochs (finetune).")
    test_error_mean: list[float | None] = Field(
        description="Per alpha, the mean over seeds of the share of the test samples misclassified, " + TEST_ERROR_MEANING
                    + ".")
    test_error_sem: list[float | None] = Field(description="Standard error of the mean over seeds (null with one seed).")
    test_errors: list[list[float | None]] = Field(description="[alpha][seed] test errors.")
    train_error_mean: list[float | None]
    train_loss_mean: list[float | None] | None
    optimiser_converged: list[bool]
    epochs: list[list[int]] | None = Field(
        None, description="finetune: [alpha][seed] epochs of fine-tuning in the returned network (chosen by early "
                          "stopping; 0 is the probe, i.e. the tf readout).")


class GaussianEquivalentCurve(TheoryCurve):
    """An approximation, on datasets only: the GCM with Omega, Phi and Psi estimated from the target set
    and, as teacher, the least-squares linear rule on the (centred, standardised) target inputs. Real
    labels come from no such teacher; ``gap_to_simulation`` says how far the approximation is."""

    test_error_mc_error: list[float | None] | None = Field(
        description="Error of the estimate from the finite target set: bias + spread from its two halves.")
    gap_to_simulation: list[float | None] | None = Field(
        description="Gaussian-equivalent test error minus the simulation's mean, per alpha (null without simulation).")


class ProtocolCurve(Strict):
    feature_dim: int | None = Field(description="p: feature dimension of a readout protocol.")
    theory: TheoryCurve | None = Field(description="GCM theory (synthetic tasks; null on datasets).")
    simulation: SimulationCurve | None
    gaussian_equivalent: GaussianEquivalentCurve | None = Field(
        None, description="On datasets: the Gaussian-equivalent approximation (readout protocols, with theory).")


class SplitSummary(Strict):
    dataset: str
    samples: int
    training_split: int = Field(description="Samples left to train on after holding out the test split.")
    held_out: int
    test_samples: int = Field(description="Held-out samples actually used for testing.")


class DataSummary(Strict):
    """How a learning curve on datasets used them."""

    source: SplitSummary
    target: SplitSummary
    input_dim: int = Field(description="N")
    largest_alpha: float = Field(description="Target training split / N: the largest alpha this split supports.")
    constant_features: int = Field(description="Features constant on the source training split: centred, not scaled.")
    teacher_fit_error: float | None = Field(
        description="Out of sample: the share of the target's training-split labels that the least-squares linear "
                    "teacher gets wrong when fitted on the other folds (k-fold cross-validation, k = tuning.folds): "
                    "how far the labels are from a linear rule (null without theory). The teacher of the "
                    "Gaussian-equivalent model is fitted on the whole training split; no held-out label enters it.")
    teacher_fit_note: str | None = Field(
        None, description="Set when the training split has fewer than twice as many samples as inputs: the "
                          "least-squares fit is then close to interpolating, its error says little about the labels "
                          "and the Gaussian-equivalent model built on it little about the data.")


class LearningCurveResult(Strict):
    kind: Literal["learning_curve"] = "learning_curve"
    alphas: list[float]
    tuning: TuningRule | None = Field(None, description="The request's tuning rule: what chose the hyperparameters "
                                                        "the request did not fix (each curve's hyperparameters say "
                                                        "what chose each one).")
    source_test_error: float
    source_train_error: float
    source_train_loss: float
    target_latent_dim: int | None = Field(description="D_t of the synthetic target (null on datasets).")
    curves: dict[Protocol, ProtocolCurve]
    data: DataSummary | None = Field(None, description="On datasets: splits, standardisation, linear teacher.")
    meta: dict[str, Any]
