"""One learning curve, from a data source to the contract's result (``LearningCurveResult``): the same
stages for a synthetic task pair and for split datasets (``data_source``), which differ only in where
their data and covariances come from.

Stages, each reported through ``progress(stage, done, total)``:
  source_network          train (or reuse) the source network on the source (``source_network``)
  feature_mean:<p>        the population mean of a readout's feature map, where the source stores it
                          (synthetic, non-odd maps: Monte Carlo)
  covariances:<p>         the spectra of readout p: the synthetic task's GCM (Monte Carlo for tf / rf,
                          closed form for linear) or a dataset's Gaussian-equivalent model
  theory:<p>              the GCM curve over alpha_p = alpha N / p (``theory_curve``); on datasets the
  gaussian_equivalent:<p> approximation it is, under that name
  simulation              finite-size runs for every seed, alpha and protocol, each hyperparameter the
                          request leaves to its tuning rule chosen per seed and alpha (``simulation_curves``)
Artifacts (network, feature means, spectra) are read from / written to ``store`` under keys that
depend only on what determines them: a curve differing only in alphas, regularisation, loss, solver
settings or simulation reuses the trained network and the spectra. finetune's probe is the tf readout
at tf's lambda whether or not tf is requested: the tf map is then made for it alone, and with 'oracle'
and a theory, the tf curve that chooses its lambda (not returned).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from tlprobe.contract.common import Protocol
from tlprobe.contract.learning_curve import (
    GaussianEquivalentCurve,
    LearningCurveResult,
    ProtocolCurve,
    SimulationCurve,
    TheoryCurve,
)

from . import SCIENCE_VERSION
from .artifacts import ArtifactStore
from .curve_run import CurveRun, ProgressFn
from .data_source import DataSource
from .features import READOUT_FEATURES, FeatureMap
from .gcm.losses import PROX_TOLERANCE
from .network import TwoLayerNetwork
from .simulation_curves import simulation_curves
from .source_network import train_source_network
from .theory_curve import theory_curve


def feature_map(run: CurveRun, data: DataSource, protocol: Protocol, network: TwoLayerNetwork) -> FeatureMap:
    """Readout ``protocol``'s feature map for the request, centred on the target (its mean stored where
    the source gives it a key)."""
    raw = READOUT_FEATURES[protocol].build(data.spec, data.input_dim, network)
    key = data.feature_mean_key(protocol, raw)
    if key is None:
        return data.centred(raw)
    label = f"feature_mean:{protocol.value}"
    with run.timed(label):
        arrays = run.cached(label, key, lambda: {"mean": data.centred(raw).mean})
    return replace(raw, mean=arrays["mean"])


def spectra(run: CurveRun, data: DataSource, protocol: Protocol, fmap: FeatureMap) -> dict[str, np.ndarray]:
    stage, key = f"covariances:{protocol.value}", data.spectra_key(protocol)
    with run.timed(stage):
        return run.cached(f"{key.split(':', 1)[0]}:{protocol.value}", key,
                          lambda: data.spectra(protocol, fmap, run.reporter(stage)))


def solved_curve(run: CurveRun, data: DataSource, protocol: Protocol, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    stage = f"{data.theory_kind}:{protocol.value}"
    with run.timed(stage):
        run.progress(stage, 0, 1)
        curve = theory_curve(data.spec, arrays, data.input_dim, data.label_noise)
        run.progress(stage, 1, 1)
    return curve


def _protocol_curve(data: DataSource, protocol: Protocol, maps: dict[Protocol, FeatureMap],
                    solved: dict[str, Any] | None, simulation: SimulationCurve | None) -> ProtocolCurve:
    """One protocol's part of the result: its solved curve under the source's name for it (on datasets,
    with its gap to the simulation), and its simulation."""
    theory = equivalent = None
    if solved is not None and data.theory_kind == "gaussian_equivalent":
        gap = None if simulation is None else [None if g is None or s is None else g - s for g, s in
                                               zip(solved["test_error"], simulation.test_error_mean)]
        equivalent = GaussianEquivalentCurve(**solved, gap_to_simulation=gap)
    elif solved is not None:
        theory = TheoryCurve(**solved)
    return ProtocolCurve(feature_dim=maps[protocol].dim if protocol in maps else None, theory=theory,
                         simulation=simulation, gaussian_equivalent=equivalent)


def run_learning_curve(data: DataSource, store: ArtifactStore | None = None,
                       progress: ProgressFn | None = None) -> LearningCurveResult:
    """Theory (or its Gaussian-equivalent approximation) and simulation of every requested protocol over
    the request's alphas (alpha = n_t / N), on the data of ``data`` (its ``spec`` is the request)."""
    spec, run = data.spec, CurveRun(store, progress)
    network, source_summary = train_source_network(run, data)
    maps = {p: feature_map(run, data, p, network) for p in spec.readout_protocols}
    probe_map = None
    if spec.simulation is not None and Protocol.finetune in spec.protocols and Protocol.tf not in maps:
        probe_map = feature_map(run, data, Protocol.tf, network)  # finetune's probe alone
    solved: dict[str, dict[str, Any]] = {}
    estimates: dict[str, Any] = {}
    if spec.theory is not None:
        to_solve = {**maps, Protocol.tf: probe_map} if probe_map is not None and spec.readout.oracle else maps
        for protocol, fmap in to_solve.items():
            arrays = spectra(run, data, protocol, fmap)
            solved[protocol.value] = solved_curve(run, data, protocol, arrays)
            if protocol in maps and "relative_spread" in arrays:
                estimates[protocol.value] = {"samples": data.covariance_samples,
                                             "relative_spread": float(arrays["relative_spread"])}
    simulations: dict[str, SimulationCurve] = {}
    if spec.simulation is not None:
        simulations = simulation_curves(run, spec, maps, network, data.target_samples(), solved, data.theory_kind,
                                        probe_map)
    curves = {p: _protocol_curve(data, p, maps, solved.get(p.value) if p in maps else None, simulations.get(p.value))
              for p in spec.protocols}
    return LearningCurveResult(
        alphas=list(spec.alphas),
        tuning=spec.tuning.rule,
        source_test_error=source_summary["test_error"],
        source_train_error=source_summary["train_error"],
        source_train_loss=source_summary["train_loss"],
        target_latent_dim=data.target_latent_dim,
        curves=curves,
        data=data.data_summary(),
        meta={
            "science_version": SCIENCE_VERSION,
            "numerics": {"quadrature": "composite Gauss-Legendre panels adapted to the label step",
                         "prox_tolerance": PROX_TOLERANCE, **data.numerics,
                         "solver": None if spec.theory is None else spec.theory.solver.model_dump()},
            data.covariance_estimates: estimates,
            **run.meta(),
        },
    )
