"""A learning curve on uploaded datasets (MODEL.md section 7), from arrays handed in by the caller.

The same stages as the synthetic curve (``learning_curve.py``), on real data (``data.py``):
  source_network           train (or reuse) the network on n_s samples of the source training split
                           (standardised); its error on the source's held-out split
  covariances:<p>          Omega, Phi, rho of the Gaussian-equivalent model from the target set (reused)
  gaussian_equivalent:<p>  the GCM curve on that model: an approximation, labelled as such
  simulation               every protocol, per seed and alpha, trained on the target training split
                           and tested on its held-out split
The engine's pieces are shared with the synthetic curve: the network training and its artifact,
the feature maps, the readout fits and network trainings of ``simulate``, the covariance
accumulators and the GCM solver. Features are centred by their mean over the whole target set,
the same vector in the Gaussian-equivalent model and in the simulation. The Gaussian-equivalent
error estimate uses the two halves of the (at most ``theory.mc_samples``) target samples, in an
order drawn from ``theory.seed``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from tlprobe.contract.common import Protocol
from tlprobe.contract.datasets import DatasetSource, DatasetTarget
from tlprobe.contract.learning_curve import LearningCurveRequest, NetworkParams

from . import SCIENCE_VERSION
from .artifacts import ArtifactStore, MemoryArtifactStore, artifact_key
from .covariances import sample_covariances
from .data import Dataset, LinearTeacher, SplitSamples, Standardisation, linear_teacher, ordered_chunks, split
from .errors import InvalidSpec
from .features import FeatureMap
from .gcm.losses import PROX_TOLERANCE
from .gcm.spectrum import reduce_to_spectrum
from .learning_curve import (
    READOUT_FEATURES,
    CurveRun,
    ProgressFn,
    empty_curves,
    network_key,
    simulation_curves,
    spectrum_arrays,
)
from .network import TwoLayerNetwork
from .results import finite_or_none
from .seeding import Stream, generator


def _silent(stage: str, done: int, total: int) -> None:
    return None


def centred_on(feature_map: FeatureMap, data: Dataset) -> FeatureMap:
    """The map with its mean over ``data`` subtracted (computed in chunks)."""
    total = np.zeros(feature_map.dim)
    for inputs in ordered_chunks(data, np.arange(data.samples), data.samples):
        total += feature_map.raw(inputs).sum(axis=0)
    return replace(feature_map, mean=total / data.samples)


def gaussian_equivalent_spectra(feature_map: FeatureMap, target: Dataset, teacher: LinearTeacher, samples: int,
                                rng: np.random.Generator, progress=None) -> dict[str, np.ndarray]:
    """Spectra of the Gaussian-equivalent model on ``samples`` target samples in a seeded order, and on
    their two halves (the arrays ``learning_curve.CurveRun.theory`` solves)."""
    order = rng.permutation(target.samples)[:samples]
    n_inputs = target.input_dim
    chunks = ((teacher.latents(inputs), feature_map(inputs)) for inputs in ordered_chunks(target, order, samples))
    estimate = sample_covariances(chunks, feature_map.dim, n_inputs, samples, progress)
    fields = teacher.latents(target.inputs[order]) @ teacher.theta
    half = samples // 2
    rhos = (np.mean(fields**2), np.mean(fields[:half] ** 2), np.mean(fields[half:] ** 2))
    arrays: dict[str, np.ndarray] = {"relative_spread": np.array(estimate.relative_spread)}
    for label, cov, rho in zip(("", "_a", "_b"), (estimate.full, *estimate.halves), rhos):
        spectrum = reduce_to_spectrum(cov.omega, cov.phi, teacher.theta, float(rho) / n_inputs)
        arrays.update(spectrum_arrays(spectrum, label))
    return arrays


def gaussian_equivalent_key(spec: LearningCurveRequest, protocol: Protocol) -> str:
    """What determines the model: the source (standardisation; the network for tf), the target set (all
    of it), the feature map, and which samples estimate the covariances."""
    return artifact_key("gaussian_equivalent", source=spec.source, target=spec.target.dataset,
                        features=READOUT_FEATURES[protocol].dependencies(spec),
                        samples={"mc_samples": spec.theory.mc_samples, "seed": spec.theory.seed})


def _split_summary(dataset_id: str, data: Dataset, pool: Dataset, test: Dataset, used: int) -> dict:
    return {"dataset": dataset_id, "samples": data.samples, "training_split": pool.samples, "held_out": test.samples,
            "test_samples": used}


@dataclass(frozen=True)
class SourceSplit:
    """The source dataset as the network sees it: its seeded split, standardised with the statistics of
    its training split (the map applied to the target too)."""

    spec: LearningCurveRequest
    pool: Dataset
    test: Dataset
    standardise: Standardisation

    @classmethod
    def of(cls, spec: LearningCurveRequest, data: Dataset) -> "SourceSplit":
        pool, test = split(data, spec.source.test_fraction, spec.source.seed)
        standardise = Standardisation.fit(pool.inputs)
        return cls(spec, standardise(pool), standardise(test), standardise)

    @property
    def test_samples(self) -> int:
        return min(self.spec.network.test_samples, self.test.samples)

    def network(self, run: CurveRun) -> tuple[TwoLayerNetwork, dict[str, float]]:
        """Train (or reuse) the source network on the first n_s samples of the training split; its
        error on the first ``test_samples`` of the held-out split."""
        n_s, tests = self.spec.network.n_samples, self.test_samples
        if n_s > self.pool.samples:
            raise InvalidSpec("network.n_samples", f"{n_s} exceeds the {self.pool.samples} samples of the source "
                                                   "training split")
        return run.source_network(
            network_key(self.spec), self.pool.input_dim, lambda: (self.pool.inputs[:n_s], self.pool.labels[:n_s]),
            lambda net: net.error(self.test.inputs[:tests], self.test.labels[:tests]))


def ensure_dataset_source_network(source: DatasetSource, network: NetworkParams, source_data: Dataset,
                                  store: ArtifactStore | None = None, progress: ProgressFn | None = None
                                  ) -> dict[str, Any]:
    """Train (or reuse) the source network on a dataset alone: what a phase diagram's parts share. The
    artifact is the one a learning curve with this source and network reads."""
    spec = LearningCurveRequest(source=source, target=DatasetTarget(dataset=source.dataset), network=network,
                                theory=None)
    run = CurveRun(spec, store if store is not None else MemoryArtifactStore(), progress or _silent)
    _, summary = SourceSplit.of(spec, source_data).network(run)
    return {"source_test_error": summary["test_error"], "source_train_error": summary["train_error"],
            "source_train_loss": summary["train_loss"],
            "meta": {"science_version": SCIENCE_VERSION, "timings": run.timings, "artifacts": run.artifacts}}


def run_dataset_curve(spec: LearningCurveRequest, source_data: Dataset, target_data: Dataset,
                      store: ArtifactStore | None = None, progress: ProgressFn | None = None) -> dict[str, Any]:
    """Simulation (and, with ``theory``, the Gaussian-equivalent curve) of every requested protocol over
    ``spec.alphas`` (alpha = n_t / N) on the source and target datasets ``spec`` names."""
    if not spec.uses_datasets:
        raise InvalidSpec("source", "a learning curve on datasets needs {\"dataset\": ID} as source and target")
    run = CurveRun(spec, store if store is not None else MemoryArtifactStore(), progress or _silent)
    n_inputs = source_data.input_dim
    if target_data.input_dim != n_inputs:
        raise InvalidSpec("target.dataset", f"N = {target_data.input_dim} differs from the source's N = {n_inputs}")
    source = SourceSplit.of(spec, source_data)
    source_pool, source_test, standardise = source.pool, source.test, source.standardise
    target_all = standardise(target_data)
    target_pool, target_test = split(target_all, spec.target.test_fraction, spec.target.seed)
    network, source_summary = source.network(run)
    source_tests = source.test_samples
    maps = {p: centred_on(READOUT_FEATURES[p].build(spec, n_inputs, network), target_all)
            for p in spec.readout_protocols}
    curves = empty_curves(spec, maps)
    # finetune's probe is the tf readout at tf's lambda whether or not tf is requested: its map, and
    # (with 'optimal') its Gaussian-equivalent curve to choose lambda, are made for it alone
    probe_only = spec.simulation is not None and Protocol.finetune in spec.protocols and Protocol.tf not in maps
    probe_map = centred_on(READOUT_FEATURES[Protocol.tf].build(spec, n_inputs, network), target_all) \
        if probe_only else None
    solved_maps = {**maps, Protocol.tf: probe_map} if probe_only and spec.readout.optimal else maps
    probe_curve = None
    teacher, estimates = None, {}
    if spec.theory is not None:
        teacher = linear_teacher(target_all)
        samples = min(spec.theory.mc_samples, target_all.samples)
        for protocol in solved_maps:
            def compute(protocol: Protocol = protocol) -> dict[str, np.ndarray]:
                return gaussian_equivalent_spectra(
                    solved_maps[protocol], target_all, teacher, samples, generator(spec.theory.seed, Stream.MC_COVARIANCE),
                    progress=lambda d, t: run.progress(f"covariances:{protocol.value}", d, t))

            with run.timed(f"covariances:{protocol.value}"):
                arrays = run.cached(f"gaussian_equivalent:{protocol.value}", gaussian_equivalent_key(spec, protocol),
                                    compute)
            curve = run.theory(protocol, arrays, n_inputs, stage="gaussian_equivalent")
            if protocol not in maps:  # finetune's probe alone
                probe_curve = curve
                continue
            curves[protocol.value]["gaussian_equivalent"] = {**curve, "gap_to_simulation": None}
            estimates[protocol.value] = {"samples": samples, "relative_spread": float(arrays["relative_spread"])}
    test_samples = min(spec.simulation.test_samples, target_test.samples) if spec.simulation is not None else 0
    if spec.simulation is not None:
        chosen = {p.value: curves[p.value]["gaussian_equivalent"] for p in spec.readout_protocols}
        if probe_curve is not None:
            chosen[Protocol.tf.value] = probe_curve
        sims = simulation_curves(run, maps, network, SplitSamples(target_pool, target_test, test_samples), chosen,
                                 "gaussian_equivalent", probe_map)
        for protocol, curve in sims.items():
            curves[protocol]["simulation"] = curve
            equivalent = curves[protocol]["gaussian_equivalent"]
            if equivalent is not None:
                equivalent["gap_to_simulation"] = [None if g is None or s is None else g - s for g, s in
                                                   zip(equivalent["test_error"], curve["test_error_mean"])]
    return {
        "alphas": list(spec.alphas),
        "source_test_error": source_summary["test_error"],
        "source_train_error": source_summary["train_error"],
        "source_train_loss": source_summary["train_loss"],
        "target_latent_dim": None,
        "curves": curves,
        "data": {
            "source": _split_summary(spec.source.dataset, source_data, source_pool, source_test, source_tests),
            "target": _split_summary(spec.target.dataset, target_data, target_pool, target_test,
                                     test_samples),
            "input_dim": n_inputs,
            "largest_alpha": target_pool.samples / n_inputs,
            "constant_features": int(np.sum(standardise.constant)),
            "teacher_fit_error": None if teacher is None else finite_or_none(teacher.fit_error),
        },
        "meta": {
            "science_version": SCIENCE_VERSION,
            "numerics": {"quadrature": "composite Gauss-Legendre panels adapted to the label step",
                         "prox_tolerance": PROX_TOLERANCE,
                         "standardisation": "per-feature mean and standard deviation of the source training split",
                         "solver": None if spec.theory is None else spec.theory.solver.model_dump()},
            "gaussian_equivalent": estimates,
            "timings": run.timings,
            "artifacts": run.artifacts,
        },
    }
