"""How much work and memory a request would take, estimated before anything is queued.

Per-field bounds live in the contract; these combined bounds catch requests whose fields are each
fine but whose product is not (e.g. N x K x mc_samples, grid cells x seeds). Estimates count
floating-point operations of the dominant matrix products and float64 bytes of the largest
arrays alive at once; the limits are settings (``TLPROBE_MAX_WORK``, ``TLPROBE_MAX_MEMORY_BYTES``,
``TLPROBE_MAX_GCM_WORK``, ``TLPROBE_MAX_DIAGRAM_WORK``, ``TLPROBE_MAX_DIAGRAM_TRAINING_RUNS``) and
the 422 message reports estimate and limit. Each job kind names its check (``tlprobe.kinds``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from tlprobe.contract.common import Protocol, TuningRule, is_oracle
from tlprobe.contract.datasets import DatasetDescription, held_out
from tlprobe.contract.gcm import GCMRequest
from tlprobe.contract.learning_curve import LearningCurveRequest, SimulationParams, TuningParams, target_samples
from tlprobe.contract.phase_diagram import PhaseDiagramRequest

from .diagrams.plan import Plan, plan
from .settings import Settings

BYTES = 8
MC_CHUNK = 2048
#: L-BFGS iterations assumed per readout fit (each a forward and a backward product)
READOUT_ITERATIONS = 300
#: solves per point of the optimal-lambda search (worker/science/gcm/optimal.py), counted as fixed-lambda solves:
#: about 5.5 along a curve and 8.4 for a lone alpha (bench.optimal_lambda_agreement at science version 5: 165 and
#: 285 evaluations of the map against 30 to 34 for a solve); rounded up to 9. Its fallback, the bounded Brent
#: search, takes about 25.
OPTIMAL_SOLVES = 9
#: one GCM fixed-point solve of a readout's curve at one alpha (p of a few hundred, the default solver), in
#: flop-equivalents: measured 5 ms against 0.7 s for the tf spectra at the defaults (8.7e9 in this count), so
#: 1/130 of those. It matters when a diagram has 10,000 cells: their solves are then a tenth or more of its work.
THEORY_SOLVE = 7e7
#: the fixed cost of one optimiser step (Python and numpy calls, whatever the sizes), in flop-equivalents:
#: about 100 to 200 us on the reference machine, where the work limit buys about 4e10 flops a second.
#: Without it a batch of 1 costs nothing: make fuzz found batch_size 1 with K = 1 accepted under a 1e10
#: budget and running 600,000 steps past a two-minute timeout.
STEP_OVERHEAD = 5e6


def optimiser_steps(samples: int, batch_size: int | None, epochs: int) -> int:
    """Steps of a training run: epochs x mini-batches per epoch (one per epoch for full batch)."""
    batch = min(batch_size or samples, samples)
    return epochs * -(-samples // batch)


def checkpoint_count(budget: int) -> int:
    """How many checkpoints a tuned run of ``budget`` epochs is scored at (``worker.science.tuning``:
    spaced by sqrt(2) from the budget down to 1; the start counted for finetune)."""
    count, epoch = 0, float(budget)
    while epoch >= 0.5:
        count += 1
        epoch /= 2 ** 0.5
    return count + 1


@dataclass(frozen=True)
class Run:
    """Training runs of a network protocol per seed and alpha: ``count`` runs of ``epochs`` epochs on a
    ``share`` of the n_t samples, each scored at ``checkpoints`` checkpoints on ``held`` held-out samples
    (``held`` None: the held-out fold, ``share`` of the rest)."""

    epochs: int
    batch_size: int | None
    count: int
    share: float = 1.0
    checkpoints: int = 0
    held: int | None = None


def network_runs(protocol: Protocol, simulation: SimulationParams, tuning: TuningParams) -> list[Run]:
    """The training runs a network protocol makes per seed and alpha under the request's tuning rule:
    the fixed rule one run (finetune's early stopping one more); best_achievable one run per candidate
    penalty, scored on the validation samples; practitioner one per candidate and fold on the other
    folds, scored on the fold, then the refit on every sample (counted at the full budget)."""
    params = simulation.scratch if protocol is Protocol.scratch else simulation.finetune
    candidates = len(tuning.weight_decays if protocol is Protocol.scratch else tuning.anchor_strengths)
    marks = checkpoint_count(params.epochs)
    if tuning.rule is TuningRule.fixed or tuning.rule is None:
        stopping = protocol is Protocol.finetune and simulation.finetune.validation_fraction > 0
        return [Run(params.epochs, params.batch_size, 2 if stopping else 1)]
    if tuning.rule is TuningRule.best_achievable:
        return [Run(params.epochs, params.batch_size, candidates, 1.0, marks, tuning.validation_samples)]
    folds = tuning.folds
    return [Run(params.epochs, params.batch_size, candidates * folds, (folds - 1) / folds, marks),
            Run(params.epochs, params.batch_size, 1)]


def training_runs_per_seed(protocols: list[Protocol], simulation: SimulationParams, tuning: TuningParams) -> int:
    """scratch/finetune training runs per seed and alpha, the tuning's included."""
    return sum(run.count for p in protocols if p in (Protocol.scratch, Protocol.finetune)
               for run in network_runs(p, simulation, tuning))


class BudgetExceeded(ValueError):
    pass


@dataclass(frozen=True)
class Cost:
    work: float
    memory: float
    training: float = 0.0  # the part of ``work`` spent training the source network


@dataclass(frozen=True)
class _Sizes:
    """What a learning curve's cost depends on beyond its fields: N, the latent dimension drawn per
    synthetic sample (0 for datasets: nothing is generated), and the sample counts actually used."""

    inputs: int
    latent: int
    source_test: int
    covariance_samples: int
    simulation_test: int
    data_bytes: float = 0.0


def _sizes(request: LearningCurveRequest, datasets: Mapping[str, DatasetDescription] | None) -> _Sizes:
    src, net, theory, sim = request.source, request.network, request.theory, request.simulation
    mc = theory.mc_samples if theory is not None else 0
    sim_test = sim.test_samples if sim is not None else 0
    if not request.uses_datasets:
        return _Sizes(src.input_dim, src.latent_dim + max(request.target.latent_change, 0), net.test_samples, mc, sim_test)
    if not datasets:
        raise ValueError("a request on datasets is costed with their descriptions")
    source, target = datasets[src.dataset], datasets[request.target.dataset]
    # raw arrays, their standardised copies and the features of the whole target set
    data_bytes = BYTES * 3.0 * (source.samples + target.samples) * target.input_dim
    return _Sizes(target.input_dim, 0, min(net.test_samples, held_out(source.samples, src.test_fraction)),
                  min(mc, target.samples), min(sim_test, held_out(target.samples, request.target.test_fraction)),
                  data_bytes)


def learning_curve_cost(request: LearningCurveRequest,
                        datasets: Mapping[str, DatasetDescription] | None = None) -> Cost:
    """``datasets``: the descriptions of the datasets a request on datasets reads (by id)."""
    net = request.network
    sizes = _sizes(request, datasets)
    d, n, k = sizes.latent, sizes.inputs, net.hidden_units
    # a deeper network adds K x K products per sample: (L - 1) K^2 beside N K in the source network's
    # layers, (l - 1) K^2 in the readouts' features (tf at layer l, rf at depth l)
    deep, layer = (net.hidden_layers - 1) * k * k, (request.transfer_layer - 1) * k * k
    batch = net.batch_size or net.n_samples
    training = 4.0 * net.n_samples * (n * k + deep) * net.epochs
    training += 2.0 * (net.n_samples + sizes.source_test) * (d * n + n * k + deep)
    training += STEP_OVERHEAD * optimiser_steps(net.n_samples, net.batch_size, net.epochs)
    memory = {"training": BYTES * (net.n_samples * (n + 1) + 3 * batch * k * net.hidden_layers + 6 * (k * n + deep))
              + sizes.data_bytes}
    work = training
    dims = {p: (n if p == Protocol.linear else k) for p in request.readout_protocols}
    # finetune's probe is a tf readout (fitted per seed and alpha, lambda chosen like tf's) even
    # when tf is not requested
    fitted = dict(dims)
    if request.simulation is not None and Protocol.finetune in request.protocols:
        fitted.setdefault(Protocol.tf, k)
    solved = fitted if request.readout.oracle else dims
    if request.theory is not None:
        m = sizes.covariance_samples
        for protocol, p in solved.items():
            through = 0 if protocol == Protocol.linear else layer  # the features' K x K layers
            if request.uses_datasets:  # covariances of the data (and of its two halves), three spectra
                work += 2.0 * m * (n * p + through + p * p / 2 + p * n) + 3 * 30.0 * p**3
            elif protocol == Protocol.linear:
                work += 2.0 * n * n * d + 30.0 * n**3
            else:
                work += 2.0 * m * (d * n + n * k + layer + k * k / 2 + k * d) + 3 * 30.0 * k**3
            memory[f"spectra:{protocol}"] = BYTES * (4 * p * p + MC_CHUNK * (n + p + d)) + sizes.data_bytes
            # per alpha: the curve's solve (a search when optimal), and its two halves' at that lambda when the
            # spectra are estimated from samples (all but the linear protocol's closed form)
            halves = 2 if request.uses_datasets or protocol != Protocol.linear else 0
            searched = 1 if request.readout.fixed else OPTIMAL_SOLVES  # the theory runs at the oracle unless fixed
            work += len(request.alphas) * (searched + halves) * THEORY_SOLVE
    if request.simulation is not None:
        sim, tuning = request.simulation, request.tuning
        seeds = len(sim.seeds)
        n_train = [target_samples(a, n) for a in request.alphas]
        widest = max(dims.values(), default=n)
        rule = tuning.rule if tuning.tuned else None
        lambda_tuned = rule is not None and not request.readout.fixed and not (
            request.readout.oracle and request.theory is not None)
        validation = tuning.validation_samples if rule is TuningRule.best_achievable else 0
        # readout fits per (seed, alpha), each on a share of the samples: one at a given lambda; tuned, one per
        # candidate on every sample and the refit (best_achievable), or per candidate and fold on the other
        # folds and the refit (practitioner)
        grid, folds = len(tuning.regularisations), tuning.folds
        if not lambda_tuned:
            fits = 1.0
        elif rule is TuningRule.best_achievable:
            fits = grid + 1.0
        else:
            fits = grid * (folds - 1) + 1.0
        for protocol, p in fitted.items():
            through = 0 if protocol == Protocol.linear else layer  # the features' K x K layers
            per_seed = 2.0 * (sizes.simulation_test + validation) * (d * n + n * p + through) + 2.0 * validation * p * grid
            per_seed += sum(2.0 * t * (d * n + n * p + through) + 4.0 * READOUT_ITERATIONS * t * p * fits for t in n_train)
            work += seeds * per_seed
        # network protocols, each with its own schedule and the runs its tuning makes (scratch trains the source
        # network's L layers, finetune the first l of them)
        for protocol in (p for p in request.protocols if p in (Protocol.scratch, Protocol.finetune)):
            extra = deep if protocol is Protocol.scratch else layer
            for run in network_runs(protocol, sim, tuning):
                for t in n_train:
                    share = max(1, int(t * run.share))
                    held = run.held if run.held is not None else t - share
                    work += seeds * run.count * (4.0 * share * (n * k + extra) * run.epochs
                                                 + STEP_OVERHEAD * optimiser_steps(share, run.batch_size, run.epochs)
                                                 + 2.0 * run.checkpoints * held * (n * k + extra))
        if validation:
            work += seeds * 2.0 * validation * d * n  # the validation samples drawn
        memory["simulation"] = BYTES * (max(n_train) * (n + 2 * widest) + (sizes.simulation_test + validation)
                                        * (n + len(fitted) * widest) + 2 * n * k)
        memory["simulation"] += sizes.data_bytes
    return Cost(work=work, memory=max(memory.values()), training=training)


def gcm_work(request: GCMRequest) -> float:
    p = len(request.spectrum.omega) if request.spectrum is not None else len(request.covariances.omega)
    solves = len(request.sample_complexities) * (OPTIMAL_SOLVES if is_oracle(request.regularisation) else 1)
    channel = 2 * 8 * request.solver.quadrature_nodes_per_panel * 20  # prox nodes x Newton steps
    return float(solves * request.solver.max_iterations * (10 * p + channel))


def training_runs(request: PhaseDiagramRequest) -> int:
    """scratch/finetune trainings a diagram needs: cells x seeds x the runs per seed and alpha of each
    network protocol (``network_runs``: one, or one per tuning candidate (and fold))."""
    if request.simulation is None:
        return 0
    cells = len(request.x_axis.values) * len(request.y_axis.values)
    per_seed = training_runs_per_seed(request.all_protocols, request.simulation, request.tuning)
    return cells * len(request.simulation.seeds) * per_seed


def phase_diagram_cost(layout: Plan, datasets: Mapping[str, DatasetDescription] | None = None) -> Cost:
    """Each source network is trained once for the whole diagram (one per value of an axis over the
    network or the source task); every curve of every part (a tile's several) adds the rest of its cost.
    ``datasets``: the descriptions of the datasets a diagram on datasets reads (by id)."""
    per_network: dict[tuple, float] = {}
    work = memory = 0.0
    for part in layout.parts:
        for curve in part.curves:
            cost = learning_curve_cost(curve, datasets)
            per_network[curve.source, curve.network] = cost.training
            work, memory = work + cost.work - cost.training, max(memory, cost.memory)
    training = sum(per_network.values())
    return Cost(work=training + work, memory=memory, training=training)


def _check_memory(cost: Cost, settings: Settings) -> None:
    if cost.memory > settings.max_memory_bytes:
        raise BudgetExceeded(f"estimated peak memory {cost.memory / 1e9:.3g} GB exceeds the limit "
                             f"{settings.max_memory_bytes / 1e9:.3g} GB: reduce sizes or sample counts")


def check_learning_curve(request: LearningCurveRequest, settings: Settings,
                         datasets: Mapping[str, DatasetDescription] | None = None) -> None:
    """Raise BudgetExceeded, naming estimate and limit, when a request is too large to run."""
    cost = learning_curve_cost(request, datasets)
    if cost.work > settings.max_work:
        raise BudgetExceeded(f"estimated work {cost.work:.3g} floating-point operations exceeds the limit "
                             f"{settings.max_work:.3g}: reduce network.epochs, network.n_samples, sizes, "
                             f"theory.mc_samples, simulation seeds or alphas")
    _check_memory(cost, settings)


def check_gcm(request: GCMRequest, settings: Settings) -> None:
    work = gcm_work(request)
    if work > settings.max_gcm_work:
        raise BudgetExceeded(f"estimated solver work {work:.3g} exceeds the limit {settings.max_gcm_work:.3g}: "
                             "reduce solver.max_iterations, the number of sample_complexities or the spectrum size")


def check_phase_diagram(request: PhaseDiagramRequest, settings: Settings, layout: Plan | None = None,
                        datasets: Mapping[str, DatasetDescription] | None = None) -> None:
    """``layout``: the diagram's plan when the caller has made it already (it is made once per submission);
    ``datasets``: the descriptions of the datasets it reads, on datasets."""
    runs = training_runs(request)
    if runs > settings.max_diagram_training_runs:
        raise BudgetExceeded(f"{runs} scratch/finetune training runs (cells x seeds x runs per cell: one, or one per "
                             f"tuning candidate and fold) exceed the limit {settings.max_diagram_training_runs} per "
                             "diagram: use fewer cells, seeds or tuning candidates")
    cost = phase_diagram_cost(layout or plan(request, settings.diagram_chunk_alphas, settings.diagram_tiles), datasets)
    if cost.work > settings.max_diagram_work:
        raise BudgetExceeded(f"estimated work {cost.work:.3g} floating-point operations for the whole diagram "
                             f"exceeds the limit {settings.max_diagram_work:.3g}: use fewer cells, smaller "
                             "sizes, fewer Monte Carlo samples or seeds")
    _check_memory(cost, settings)
