"""One call from a full specification to a learning curve (theory and simulation per protocol).

Stages, each reported through ``progress(stage, done, total)``:
  source_network        train (or reuse) the source network; its source test error
  feature_mean:<p>      population mean of a non-odd feature map (Monte Carlo, reused)
  covariances:<p>       Omega, Phi (Monte Carlo for tf / rf, closed form for linear) -> spectra (reused)
  theory:<p>            GCM curve over alpha_p = alpha N / p on the full spectrum and its two halves
  simulation            finite-size runs for every seed, alpha and protocol
Artifacts (network, feature means, spectra) are read from / written to ``store`` under keys that
depend only on what determines them: a curve differing only in alphas, regularisation, loss,
solver settings or simulation reuses the trained network and the spectra.

The Monte Carlo error of a tf / rf theory value is |e_full - (e_a + e_b)/2| + |e_a - e_b| / 2, with
e_a, e_b the test errors on the spectra of the two halves of the M samples (at the same lambda):
the first term estimates the bias of using M samples (it scales like 1/M, and the halves have
twice the full sample's bias), the second the statistical spread.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from tlprobe.contract.common import Protocol
from tlprobe.contract.learning_curve import LearningCurveRequest, NetworkParams, SourceParams, TheoryParams

from . import SCIENCE_VERSION
from .artifacts import ArtifactStore, MemoryArtifactStore, artifact_key
from .chmm import Task, make_source, make_target
from .covariances import linear_covariances, monte_carlo_covariances
from .features import MEAN_SAMPLES, FeatureMap, centred, is_odd, linear_features, random_features, transferred_features
from .gcm.losses import PROX_TOLERANCE
from .gcm.solver import GCMPoint, solve_curve
from .gcm.spectrum import Spectrum, reduce_to_spectrum
from .network import TwoLayerNetwork, initial_network, train_network
from .results import finite_or_none, gcm_points
from .seeding import Stream, generator
from .simulate import (
    FinetuneProtocol,
    ReadoutProtocol,
    ScratchProtocol,
    TargetSamples,
    TaskSamples,
    cross_validated_regularisation,
    sample_sizes,
    simulate,
)

ProgressFn = Callable[[str, int, int], None]


def _silent(stage: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True)
class ReadoutFeatures:
    """How a readout protocol's feature map is made, and what determines it."""

    build: Callable[[LearningCurveRequest, int, TwoLayerNetwork], FeatureMap]  # (spec, N, source network)
    #: what, besides source and target, determines the map (part of its artifacts' keys)
    dependencies: Callable[[LearningCurveRequest], dict[str, Any]]
    #: covariances by Monte Carlo (True) or in closed form (False)
    monte_carlo: bool


READOUT_FEATURES: dict[Protocol, ReadoutFeatures] = {
    Protocol.tf: ReadoutFeatures(
        build=lambda spec, input_dim, network: transferred_features(network),
        dependencies=lambda spec: {"protocol": "tf", "network": spec.network}, monte_carlo=True),
    Protocol.rf: ReadoutFeatures(
        build=lambda spec, input_dim, network: random_features(
            spec.network.hidden_units, input_dim, spec.network.activation.value,
            generator(spec.network.seed, Stream.RANDOM_FEATURES)),
        dependencies=lambda spec: {"protocol": "rf", "hidden_units": spec.network.hidden_units,
                                   "activation": spec.network.activation.value, "seed": spec.network.seed},
        monte_carlo=True),
    Protocol.linear: ReadoutFeatures(
        build=lambda spec, input_dim, network: linear_features(input_dim),
        dependencies=lambda spec: {"protocol": "linear"}, monte_carlo=False),
}


class CurveRun:
    """One learning curve's run: the spec, the artifact store, progress, timings and the artifacts used."""

    def __init__(self, spec: LearningCurveRequest, store: ArtifactStore, progress: ProgressFn) -> None:
        self.spec, self.store, self.progress = spec, store, progress
        self.timings: dict[str, float] = {}
        self.artifacts: dict[str, dict[str, Any]] = {}

    @contextmanager
    def timed(self, stage: str):
        start = time.perf_counter()
        yield
        self.timings[stage] = round(self.timings.get(stage, 0.0) + time.perf_counter() - start, 4)

    def cached(self, label: str, key: str, compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        arrays = self.store.load(key)
        reused = arrays is not None
        if arrays is None:
            arrays = compute()
            self.store.save(key, arrays)
        self.artifacts[label] = {"key": key, "reused": reused}
        return arrays

    # --- source network -------------------------------------------------------------------
    def source_network(self, key: str, input_dim: int, training: Callable[[], tuple[np.ndarray, np.ndarray]],
                       test_error: Callable[[TwoLayerNetwork], float]) -> tuple[TwoLayerNetwork, dict[str, float]]:
        """Train (or reuse, by ``key``) the source network on ``training()`` (inputs, labels), and
        measure its source test error with ``test_error``."""
        net_spec = self.spec.network

        def compute() -> dict[str, np.ndarray]:
            inputs, labels = training()
            start = initial_network(net_spec.hidden_units, input_dim, net_spec.activation.value,
                                    generator(net_spec.seed, Stream.NETWORK_INIT))
            trained = train_network(start, inputs, labels, epochs=net_spec.epochs,
                                    learning_rate=net_spec.learning_rate, weight_decay=net_spec.weight_decay,
                                    batch_size=net_spec.batch_size, rng=generator(net_spec.seed, Stream.MINIBATCH_ORDER),
                                    progress=lambda d, t: self.progress("source_network", d, t))
            return {"first_layer": trained.network.first_layer, "second_layer": trained.network.second_layer,
                    "test_error": np.array(test_error(trained.network)), "train_error": np.array(trained.train_error),
                    "train_loss": np.array(trained.train_loss)}

        with self.timed("source_network"):
            arrays = self.cached("network", key, compute)
        network = TwoLayerNetwork(arrays["first_layer"], arrays["second_layer"], net_spec.activation.value)
        summary = {name: float(arrays[name]) for name in ("test_error", "train_error", "train_loss")}
        return network, summary

    def synthetic_source_network(self, source: Task) -> tuple[TwoLayerNetwork, dict[str, float]]:
        net_spec = self.spec.network
        return self.source_network(
            network_key(self.spec), source.input_dim,
            lambda: source.sample(net_spec.n_samples, generator(net_spec.seed, Stream.SOURCE_TRAIN_DATA))[1:],
            lambda network: _chunked_error(network, source, net_spec.test_samples,
                                           generator(net_spec.seed, Stream.SOURCE_TEST_DATA)))

    # --- feature maps ---------------------------------------------------------------------
    def feature_map(self, protocol: Protocol, target: Task, network: TwoLayerNetwork) -> FeatureMap:
        spec = self.spec
        fmap = READOUT_FEATURES[protocol].build(spec, target.input_dim, network)
        if is_odd(fmap, target) or fmap.weights is None:  # zero, or exact quadrature for linear
            return centred(fmap, target, rng=generator(spec.target.seed, Stream.FEATURE_MEAN))
        key = artifact_key("feature_mean", source=spec.source, target=spec.target,
                           features=READOUT_FEATURES[protocol].dependencies(spec), samples=MEAN_SAMPLES)
        with self.timed(f"feature_mean:{protocol.value}"):
            arrays = self.cached(f"feature_mean:{protocol.value}", key, lambda: {"mean": centred(
                fmap, target, rng=generator(spec.target.seed, Stream.FEATURE_MEAN)).mean})
        return FeatureMap(fmap.protocol, fmap.weights, fmap.activation, arrays["mean"])

    # --- theory ---------------------------------------------------------------------------
    def spectra(self, protocol: Protocol, fmap: FeatureMap, target: Task, theory: TheoryParams) -> dict[str, np.ndarray]:
        monte_carlo = READOUT_FEATURES[protocol].monte_carlo

        def compute() -> dict[str, np.ndarray]:
            if not monte_carlo:
                cov = linear_covariances(target)
                full = reduce_to_spectrum(cov.omega, cov.phi, target.teacher)
                return spectrum_arrays(full, "")
            estimate = monte_carlo_covariances(
                target, fmap, theory.mc_samples, generator(theory.seed, Stream.MC_COVARIANCE),
                progress=lambda d, t: self.progress(f"covariances:{protocol.value}", d, t))
            arrays: dict[str, np.ndarray] = {"relative_spread": np.array(estimate.relative_spread)}
            for label, cov in (("", estimate.full), ("_a", estimate.halves[0]), ("_b", estimate.halves[1])):
                arrays.update(spectrum_arrays(reduce_to_spectrum(cov.omega, cov.phi, target.teacher), label))
            return arrays

        key = spectra_key(self.spec, protocol)
        with self.timed(f"covariances:{protocol.value}"):
            return self.cached(f"spectra:{protocol.value}", key, compute)

    def theory(self, protocol: Protocol, arrays: dict[str, np.ndarray], input_dim: int,
               stage: str = "theory") -> dict[str, Any]:
        """The GCM curve on the spectra in ``arrays`` over alpha_p = alpha N / p, with the error from
        the spectra of the two halves of the samples when they are there."""
        spec, theory = self.spec, self.spec.theory
        full = _spectrum_from_arrays(arrays, "")
        alphas_p = [alpha * input_dim / full.p for alpha in spec.alphas]
        with self.timed(f"{stage}:{protocol.value}"):
            self.progress(f"{stage}:{protocol.value}", 0, 1)
            points = solve_curve(full, spec.readout.loss.value, spec.readout.regularisation, alphas_p, theory.solver)
            mc_error: list[float] | None = None
            if "omega_a" in arrays:
                lambdas = [p.regularisation for p in points]
                halves = [_solve_at(_spectrum_from_arrays(arrays, label), spec.readout.loss.value, lambdas, alphas_p,
                                    theory) for label in ("_a", "_b")]
                mc_error = [abs(p.test_error - 0.5 * (a.test_error + b.test_error)) + 0.5 * abs(a.test_error - b.test_error)
                            for p, a, b in zip(points, *halves)]
            self.progress(f"{stage}:{protocol.value}", 1, 1)
        return {**gcm_points(points, full), "test_error_mc_error": None if mc_error is None else finite_or_none(mc_error)}


def empty_curves(spec: LearningCurveRequest, maps: dict[Protocol, FeatureMap]) -> dict[str, dict[str, Any]]:
    return {p.value: {"feature_dim": (maps[p].dim if p in maps else None), "theory": None, "simulation": None,
                      "gaussian_equivalent": None} for p in spec.protocols}


def _simulation_regularisation(run: CurveRun, maps: dict[Protocol, FeatureMap], samples: TargetSamples,
                               solved: dict[str, dict[str, Any] | None], solved_by: str
                               ) -> tuple[dict[str, list[float]], dict[str, str]]:
    """Each readout protocol's lambda per alpha in the simulation (``maps``: the requested readout
    protocols, and tf for finetune's probe), and how it was chosen: the request's fixed lambda; with
    'optimal', the lambda its solved curve chose (``solved_by``: the theory, or on datasets the
    Gaussian-equivalent curve), or without one, cross-validation on the training sets."""
    spec = run.spec
    names = [p.value for p in maps]
    if not spec.readout.optimal:
        fixed = float(spec.readout.regularisation)
        return {name: [fixed] * len(spec.alphas) for name in names}, {name: "fixed" for name in names}
    lambdas = {name: solved[name]["regularisation"] for name in names if solved.get(name) is not None}
    chosen_by = {name: solved_by for name in lambdas}
    missing = {p.value: fmap for p, fmap in maps.items() if p.value not in lambdas}
    if missing:
        with run.timed("cross_validation"):
            lambdas.update(cross_validated_regularisation(
                samples, spec.alphas, spec.simulation.seeds, missing, spec.readout.loss.value,
                progress=lambda d, t: run.progress("cross_validation", d, t)))
        chosen_by.update({name: "cross_validation" for name in missing})
    return lambdas, chosen_by


def simulation_curves(run: CurveRun, maps: dict[Protocol, FeatureMap], network: TwoLayerNetwork,
                      samples: TargetSamples, solved: dict[str, dict[str, Any] | None],
                      solved_by: str, probe_map: FeatureMap | None = None) -> dict[str, dict[str, Any]]:
    """Simulate every requested protocol on ``samples`` (readouts on ``maps``; scratch from a seeded
    initialisation; finetune probing ``network`` on ``probe_map``, the tf map, at tf's lambda), each
    readout at the lambda of ``_simulation_regularisation``."""
    spec = run.spec
    sim = spec.simulation
    lambda_maps = {p: maps[p] for p in spec.readout_protocols}
    if Protocol.finetune in spec.protocols:
        lambda_maps.setdefault(Protocol.tf, maps.get(Protocol.tf, probe_map))
    lambdas, chosen_by = _simulation_regularisation(run, lambda_maps, samples, solved, solved_by)
    readouts = {p.value: ReadoutProtocol(maps[p], spec.readout.loss.value, lambdas[p.value])
                for p in spec.readout_protocols}
    networks: dict[str, ScratchProtocol | FinetuneProtocol] = {}
    for protocol in spec.protocols:
        if protocol is Protocol.scratch:
            networks[protocol.value] = ScratchProtocol(spec.network.hidden_units, spec.network.activation.value,
                                                       sim.scratch)
        elif protocol is Protocol.finetune:
            networks[protocol.value] = FinetuneProtocol(network, lambda_maps[Protocol.tf], lambdas["tf"], sim.finetune)
    with run.timed("simulation"):
        sims = simulate(samples, spec.alphas, sim.seeds, readouts=readouts, networks=networks,
                        progress=lambda d, t: run.progress("simulation", d, t))
    sizes = sample_sizes(spec.alphas, samples.input_dim)
    curves = {}
    for protocol, result in sims.items():
        probe = protocol == Protocol.finetune.value
        curves[protocol] = {
            "n_samples": sizes,
            "regularisation": lambdas["tf"] if probe else result.regularisation,
            "regularisation_chosen_by": chosen_by["tf"] if probe else (
                chosen_by[protocol] if result.regularisation is not None else None),
            "test_error_mean": finite_or_none(result.mean),
            "test_error_sem": finite_or_none(result.sem),
            "test_errors": [finite_or_none(row) for row in result.test_errors.T],  # [alpha][seed]
            "train_error_mean": finite_or_none(result.train_errors.mean(axis=0)),
            "train_loss_mean": None if result.train_losses is None else finite_or_none(result.train_losses.mean(axis=0)),
            "optimiser_converged": [bool(x) for x in result.converged.all(axis=0)],
            "epochs": None if result.epochs is None else [[int(e) for e in row] for row in result.epochs.T],
        }
    return curves


def _solve_at(spectrum: Spectrum, loss: str, lambdas: list[float], alphas_p: list[float],
              theory: TheoryParams) -> list[GCMPoint]:
    if len(set(lambdas)) == 1:
        return solve_curve(spectrum, loss, lambdas[0], alphas_p, theory.solver)
    return [solve_curve(spectrum, loss, lam, [alpha], theory.solver)[0] for lam, alpha in zip(lambdas, alphas_p)]


def _chunked_error(network: TwoLayerNetwork, task: Task, n: int, rng: np.random.Generator) -> float:
    wrong = 0
    for _, inputs, labels in task.sample_chunks(n, rng):
        wrong += int(np.sum(np.where(network.output(inputs) >= 0, 1.0, -1.0) != labels))
    return wrong / n


def spectrum_arrays(spectrum: Spectrum, label: str) -> dict[str, np.ndarray]:
    return {f"omega{label}": spectrum.omega, f"t{label}": spectrum.t,
            f"rho{label}": np.array(spectrum.rho), f"gamma{label}": np.array(spectrum.gamma)}


def _spectrum_from_arrays(arrays: dict[str, np.ndarray], label: str) -> Spectrum:
    return Spectrum(omega=arrays[f"omega{label}"], t=arrays[f"t{label}"], rho=float(arrays[f"rho{label}"]),
                    gamma=float(arrays[f"gamma{label}"]))


def network_key(spec: LearningCurveRequest) -> str:
    return artifact_key("network", source=spec.source, network=spec.network)


def spectra_key(spec: LearningCurveRequest, protocol: Protocol) -> str:
    features = READOUT_FEATURES[protocol]
    monte_carlo = {"mc_samples": spec.theory.mc_samples, "seed": spec.theory.seed} if features.monte_carlo else {}
    return artifact_key("spectra", source=spec.source, target=spec.target, features=features.dependencies(spec),
                        monte_carlo=monte_carlo)


def run_learning_curve(spec: LearningCurveRequest, store: ArtifactStore | None = None,
                       progress: ProgressFn | None = None) -> dict[str, Any]:
    """Theory and simulation of every requested protocol over ``spec.alphas`` (alpha = n_t / N)."""
    run = CurveRun(spec, store if store is not None else MemoryArtifactStore(), progress or _silent)
    source = make_source(spec.source)
    target = make_target(source, spec.target)
    network, source_summary = run.synthetic_source_network(source)
    readout_protocols = spec.readout_protocols
    maps = {p: run.feature_map(p, target, network) for p in readout_protocols}
    curves = empty_curves(spec, maps)
    monte_carlo: dict[str, Any] = {}
    if spec.theory is not None:
        for protocol in readout_protocols:
            arrays = run.spectra(protocol, maps[protocol], target, spec.theory)
            curves[protocol.value]["theory"] = run.theory(protocol, arrays, spec.source.input_dim)
            if "relative_spread" in arrays:
                monte_carlo[protocol.value] = {"samples": spec.theory.mc_samples,
                                               "relative_spread": float(arrays["relative_spread"])}
    if spec.simulation is not None:
        solved = {p.value: curves[p.value]["theory"] for p in readout_protocols}
        samples = TaskSamples(target, spec.simulation.test_samples)
        probe_map = None
        if Protocol.finetune in spec.protocols and Protocol.tf not in maps:
            # finetune's probe is the tf readout at tf's lambda, whether or not tf is requested: the
            # same theory chooses it (its spectra are the tf artifact), so finetune's numbers do not
            # depend on the other protocols of the request
            probe_map = run.feature_map(Protocol.tf, target, network)
            if spec.theory is not None and spec.readout.optimal:
                arrays = run.spectra(Protocol.tf, probe_map, target, spec.theory)
                solved[Protocol.tf.value] = run.theory(Protocol.tf, arrays, spec.source.input_dim)
        for protocol, curve in simulation_curves(run, maps, network, samples, solved, "theory", probe_map).items():
            curves[protocol]["simulation"] = curve
    return {
        "alphas": list(spec.alphas),
        "source_test_error": source_summary["test_error"],
        "source_train_error": source_summary["train_error"],
        "source_train_loss": source_summary["train_loss"],
        "target_latent_dim": target.latent_dim,
        "curves": curves,
        "data": None,
        "meta": {
            "science_version": SCIENCE_VERSION,
            "numerics": {"quadrature": "composite Gauss-Legendre panels adapted to the label step",
                         "prox_tolerance": PROX_TOLERANCE, "feature_mean_samples": MEAN_SAMPLES,
                         "solver": None if spec.theory is None else spec.theory.solver.model_dump()},
            "monte_carlo": monte_carlo,
            "timings": run.timings,
            "artifacts": run.artifacts,
        },
    }


def ensure_source_network(source: SourceParams, network: NetworkParams, store: ArtifactStore | None = None,
                          progress: ProgressFn | None = None) -> dict[str, Any]:
    """Train (or reuse) the source network alone: what a phase diagram's parts share."""
    spec = LearningCurveRequest(source=source, network=network, simulation=None)
    run = CurveRun(spec, store if store is not None else MemoryArtifactStore(), progress or _silent)
    _, summary = run.synthetic_source_network(make_source(source))
    return {"source_test_error": summary["test_error"], "source_train_error": summary["train_error"],
            "source_train_loss": summary["train_loss"],
            "meta": {"science_version": SCIENCE_VERSION, "timings": run.timings, "artifacts": run.artifacts}}
