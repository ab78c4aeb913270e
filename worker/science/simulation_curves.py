"""The simulation part of a learning curve: each protocol's lambda per alpha, then the finite-size runs
of ``simulate`` for every seed and alpha, as the contract's ``SimulationCurve`` per protocol.

A readout's lambda is the request's fixed one; with 'optimal', the one its solved curve chose (the
theory, on datasets the Gaussian-equivalent curve), or, without a solved curve, cross-validation on the
training sets (``simulate.cross_validated_regularisation``). finetune probes the source network with
the tf readout at tf's lambda, whether or not tf is requested, so its numbers do not depend on the other
protocols of the request.
"""

from __future__ import annotations

from typing import Any

from tlprobe.contract.common import Protocol
from tlprobe.contract.learning_curve import LearningCurveRequest, SimulationCurve

from .curve_run import CurveRun
from .features import FeatureMap
from .json_safe import finite_or_none
from .network import TwoLayerNetwork
from .simulate import (
    FinetuneProtocol,
    ReadoutProtocol,
    ScratchProtocol,
    TargetSamples,
    cross_validated_regularisation,
    sample_sizes,
    simulate,
)


def simulation_regularisation(run: CurveRun, spec: LearningCurveRequest, maps: dict[Protocol, FeatureMap],
                              samples: TargetSamples, solved: dict[str, dict[str, Any]], solved_by: str
                              ) -> tuple[dict[str, list[float]], dict[str, str]]:
    """Each readout protocol's lambda per alpha in the simulation (``maps``: the requested readout
    protocols, and tf for finetune's probe), and how it was chosen (the module docstring; ``solved``:
    the solved curves by protocol name, ``solved_by``: what solved them)."""
    names = [p.value for p in maps]
    if not spec.readout.optimal:
        fixed = float(spec.readout.regularisation)
        return {name: [fixed] * len(spec.alphas) for name in names}, {name: "fixed" for name in names}
    lambdas = {name: solved[name]["regularisation"] for name in names if solved.get(name) is not None}
    chosen_by = {name: solved_by for name in lambdas}
    missing = {p.value: fmap for p, fmap in maps.items() if p.value not in lambdas}
    if missing:
        with run.timed("cross_validation"):
            lambdas.update(cross_validated_regularisation(samples, spec.alphas, spec.simulation.seeds, missing,
                                                          spec.readout.loss.value, progress=run.reporter("cross_validation")))
        chosen_by.update({name: "cross_validation" for name in missing})
    return lambdas, chosen_by


def simulation_curves(run: CurveRun, spec: LearningCurveRequest, maps: dict[Protocol, FeatureMap],
                      network: TwoLayerNetwork, samples: TargetSamples, solved: dict[str, dict[str, Any]],
                      solved_by: str, probe_map: FeatureMap | None = None) -> dict[str, SimulationCurve]:
    """Simulate every requested protocol on ``samples``: readouts on ``maps``, scratch from a seeded
    initialisation, finetune probing ``network`` on the tf map (``maps``, or ``probe_map`` when tf is
    not requested) at tf's lambda."""
    sim = spec.simulation
    lambda_maps = {p: maps[p] for p in spec.readout_protocols}
    if Protocol.finetune in spec.protocols:
        lambda_maps.setdefault(Protocol.tf, maps.get(Protocol.tf, probe_map))
    lambdas, chosen_by = simulation_regularisation(run, spec, lambda_maps, samples, solved, solved_by)
    readouts = {p.value: ReadoutProtocol(maps[p], spec.readout.loss.value, lambdas[p.value])
                for p in spec.readout_protocols}
    networks: dict[str, ScratchProtocol | FinetuneProtocol] = {}
    for protocol in spec.protocols:
        if protocol is Protocol.scratch:
            networks[protocol.value] = ScratchProtocol(spec.network.hidden_units, spec.network.activation.value,
                                                       sim.scratch, spec.network.hidden_layers)
        elif protocol is Protocol.finetune:
            networks[protocol.value] = FinetuneProtocol(network, lambda_maps[Protocol.tf], lambdas["tf"], sim.finetune)
    with run.timed("simulation"):
        sims = simulate(samples, spec.alphas, sim.seeds, readouts=readouts, networks=networks,
                        progress=run.reporter("simulation"))
    sizes = sample_sizes(spec.alphas, samples.input_dim)
    curves = {}
    for protocol, result in sims.items():
        probe = protocol == Protocol.finetune.value
        curves[protocol] = SimulationCurve(
            n_samples=sizes,
            regularisation=lambdas["tf"] if probe else result.regularisation,
            regularisation_chosen_by=chosen_by["tf"] if probe else (
                chosen_by[protocol] if result.regularisation is not None else None),
            test_error_mean=finite_or_none(result.mean),
            test_error_sem=finite_or_none(result.sem),
            test_errors=[finite_or_none(row) for row in result.test_errors.T],  # [alpha][seed]
            train_error_mean=finite_or_none(result.train_errors.mean(axis=0)),
            train_loss_mean=None if result.train_losses is None else finite_or_none(result.train_losses.mean(axis=0)),
            optimiser_converged=[bool(x) for x in result.converged.all(axis=0)],
            epochs=None if result.epochs is None else [[int(e) for e in row] for row in result.epochs.T],
        )
    return curves
