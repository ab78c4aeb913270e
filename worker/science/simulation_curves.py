"""The simulation part of a learning curve: what chooses each protocol's hyperparameters, the finite-size
runs of ``simulate`` for every seed and alpha, and the contract's ``SimulationCurve`` per protocol, which
names the rule behind every hyperparameter and the value each run used.

A readout's lambda is the request's number (``fixed``); with 'oracle' (or its old name 'optimal') and a
solved curve, the curve's optimum per alpha (``oracle``; on datasets the Gaussian-equivalent model's,
``gaussian_equivalent``); otherwise ('tuned', or 'optimal' without a theory) the request's tuning rule
chooses it per seed and alpha: ``validation`` (best_achievable) or ``cross_validation`` (practitioner).
scratch's weight decay and epochs and finetune's anchor strength and epochs are the request's numbers
under the fixed rule and chosen by the tuning rule otherwise. finetune probes the source network with the
tf readout at tf's lambda, whether or not tf is requested, so its numbers do not depend on the other
protocols of the request.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tlprobe.contract.common import Protocol, TuningRule
from tlprobe.contract.learning_curve import ChosenHyperparameter, LearningCurveRequest, SimulationCurve

from .curve_run import CurveRun
from .features import FeatureMap
from .json_safe import finite_or_none
from .network import TwoLayerNetwork
from .simulate import (
    CROSS_VALIDATION,
    VALIDATION,
    FinetuneProtocol,
    ProtocolSimulation,
    ReadoutProtocol,
    ScratchProtocol,
    TargetSamples,
    Tuning,
    sample_sizes,
    simulate,
)
from .tuning import checkpoints

#: what a tuning rule's choices are called in results
RULE_CHOICE = {TuningRule.best_achievable: VALIDATION, TuningRule.practitioner: CROSS_VALIDATION}


def engine_tuning(spec: LearningCurveRequest) -> Tuning | None:
    """The engine's ``Tuning`` of the request's rule (None under the fixed rule)."""
    tuning = spec.tuning
    if not tuning.tuned:
        return None
    return Tuning(rule=RULE_CHOICE[tuning.rule], regularisations=tuple(tuning.regularisations),
                  weight_decays=tuple(tuning.weight_decays), anchor_strengths=tuple(tuning.anchor_strengths),
                  folds=tuning.folds, validation_samples=tuning.validation_samples)


def readout_lambdas(spec: LearningCurveRequest, names: list[str], solved: dict[str, dict[str, Any]], solved_by: str
                    ) -> tuple[dict[str, list[float] | None], dict[str, str]]:
    """Each readout's lambda per alpha (None: the tuning rule chooses it per seed) and what chose it
    (``solved``: the solved curves by protocol name; ``solved_by``: what solved them, "theory" or
    "gaussian_equivalent")."""
    readout = spec.readout
    if readout.fixed:
        fixed = float(readout.regularisation)
        return {name: [fixed] * len(spec.alphas) for name in names}, {name: "fixed" for name in names}
    lambdas: dict[str, list[float] | None] = {}
    chosen_by: dict[str, str] = {}
    for name in names:
        if readout.oracle and solved.get(name) is not None:
            lambdas[name] = list(solved[name]["regularisation"])
            chosen_by[name] = "oracle" if solved_by == "theory" else "gaussian_equivalent"
        elif spec.tuning.tuned:
            lambdas[name], chosen_by[name] = None, RULE_CHOICE[spec.tuning.rule]
        else:  # the contract refuses this: the fixed rule with a lambda nobody gives
            raise ValueError(f"{name}: no lambda to use under tuning rule {spec.tuning.rule}")
    return lambdas, chosen_by


def _by_alpha(values: np.ndarray) -> list[list[float]]:
    """(seeds, alphas) -> [alpha][seed]."""
    return [[float(v) for v in row] for row in values.T]


def _hyperparameters(spec: LearningCurveRequest, protocol: str, result: ProtocolSimulation,
                     chosen_by: dict[str, str]) -> dict[str, ChosenHyperparameter]:
    tuning, sim = spec.tuning, spec.simulation
    rule = RULE_CHOICE.get(tuning.rule, "fixed")
    lambda_grid = list(tuning.regularisations)
    entries: dict[str, tuple[str, list[float] | None]] = {}
    if protocol == Protocol.scratch.value:
        tuned = tuning.tuned
        entries["weight_decay"] = (rule, list(tuning.weight_decays)) if tuned else ("fixed", None)
        entries["epochs"] = (rule, [float(e) for e in checkpoints(sim.scratch.epochs, False)]) if tuned \
            else ("fixed", None)
    elif protocol == Protocol.finetune.value:
        probe_by = chosen_by["tf"]
        entries["regularisation"] = (probe_by, lambda_grid if probe_by in (VALIDATION, CROSS_VALIDATION) else None)
        if tuning.tuned:
            entries["anchor_strength"] = (rule, list(tuning.anchor_strengths))
            entries["epochs"] = (rule, [float(e) for e in checkpoints(sim.finetune.epochs, True)])
        else:
            entries["anchor_strength"] = ("fixed", None)
            entries["epochs"] = ("early_stopping", None) if sim.finetune.validation_fraction else ("fixed", None)
    else:
        by = chosen_by[protocol]
        entries["regularisation"] = (by, lambda_grid if by in (VALIDATION, CROSS_VALIDATION) else None)
    return {name: ChosenHyperparameter(chosen_by=by, values=_by_alpha(result.chosen[name]), candidates=candidates)
            for name, (by, candidates) in entries.items()}


def _per_alpha(values: np.ndarray) -> list[float | None]:
    """(seeds, alphas) -> the value per alpha where every seed used the same, else None."""
    return [float(column[0]) if np.all(column == column[0]) else None for column in values.T]


def simulation_curves(run: CurveRun, spec: LearningCurveRequest, maps: dict[Protocol, FeatureMap],
                      network: TwoLayerNetwork, samples: TargetSamples, solved: dict[str, dict[str, Any]],
                      solved_by: str, probe_map: FeatureMap | None = None) -> dict[str, SimulationCurve]:
    """Simulate every requested protocol on ``samples``: readouts on ``maps``, scratch from a seeded
    initialisation, finetune probing ``network`` on the tf map (``maps``, or ``probe_map`` when tf is
    not requested) at tf's lambda."""
    sim = spec.simulation
    names = [p.value for p in spec.readout_protocols]
    finetuning = Protocol.finetune in spec.protocols
    tf_map = maps.get(Protocol.tf, probe_map)
    lambdas, chosen_by = readout_lambdas(spec, names + (["tf"] if finetuning and "tf" not in names else []), solved,
                                         solved_by)
    loss = spec.readout.loss.value
    readouts = {p.value: ReadoutProtocol(maps[p], loss, lambdas[p.value]) for p in spec.readout_protocols}
    probe_readout = ReadoutProtocol(tf_map, "logistic", lambdas["tf"]) if finetuning and "tf" not in names else None
    tuned = spec.tuning.tuned
    networks: dict[str, ScratchProtocol | FinetuneProtocol] = {}
    for protocol in spec.protocols:
        if protocol is Protocol.scratch:
            networks[protocol.value] = ScratchProtocol(spec.network.hidden_units, spec.network.activation.value,
                                                       sim.scratch, spec.network.hidden_layers, tuned)
        elif protocol is Protocol.finetune:
            networks[protocol.value] = FinetuneProtocol(network, tf_map, lambdas["tf"], sim.finetune, tuned)
    with run.timed("simulation"):
        sims = simulate(samples, spec.alphas, sim.seeds, readouts=readouts, networks=networks,
                        tuning=engine_tuning(spec), probe_readout=probe_readout, progress=run.reporter("simulation"))
    sizes = sample_sizes(spec.alphas, samples.input_dim)
    curves = {}
    for protocol, result in sims.items():
        has_lambda = "regularisation" in result.chosen
        lambda_by = chosen_by["tf"] if protocol == Protocol.finetune.value else chosen_by.get(protocol)
        curves[protocol] = SimulationCurve(
            n_samples=sizes,
            regularisation=_per_alpha(result.chosen["regularisation"]) if has_lambda else None,
            regularisation_chosen_by=lambda_by if has_lambda else None,
            hyperparameters=_hyperparameters(spec, protocol, result, chosen_by),
            test_error_mean=finite_or_none(result.mean),
            test_error_sem=finite_or_none(result.sem),
            test_errors=[finite_or_none(row) for row in result.test_errors.T],  # [alpha][seed]
            train_error_mean=finite_or_none(result.train_errors.mean(axis=0)),
            train_loss_mean=None if result.train_losses is None else finite_or_none(result.train_losses.mean(axis=0)),
            optimiser_converged=[bool(x) for x in result.converged.all(axis=0)],
            epochs=None if result.epochs is None else [[int(e) for e in row] for row in result.epochs.T],
        )
    return curves
