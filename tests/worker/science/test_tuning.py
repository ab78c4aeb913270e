"""The tuning rules (MODEL.md section 10): every hyperparameter a curve reports, rebuilt by hand from the
documented rule (fresh validation samples, or k-fold cross-validation on the training samples), and the
test error of the network or readout it chose."""

import numpy as np
import pytest

from tlprobe.contract.learning_curve import LearningCurveRequest
from worker.science.artifacts import MemoryArtifactStore
from worker.science.curve_orchestrator import run_learning_curve
from worker.science.curve_run import CurveRun
from worker.science.features import READOUT_FEATURES
from worker.science.finetune import _trainer, probe
from worker.science.network import Trainer, initial_network
from worker.science.readout import cross_validation_errors, fit_readout
from worker.science.seeding import Stream, generator
from worker.science.source_network import train_source_network
from worker.science.synthetic_source import SyntheticSource
from worker.science.tuning import checkpoints

WEIGHT_DECAYS, ANCHORS = [1e-4, 1e-2], [0.5, 50.0]
LAMBDAS = [1e-3, 1e-1, 10.0]
BODY = {"source": {"latent_dim": 8, "input_dim": 30}, "target": {"feature_noise": 0.4},
        "network": {"hidden_units": 20, "n_samples": 300, "epochs": 30}, "alphas": [0.5, 2.0],
        "protocols": ["tf", "rf", "linear", "scratch", "finetune"], "theory": {"mc_samples": 2000},
        "simulation": {"seeds": [2, 5], "test_samples": 700, "scratch": {"epochs": 12}, "finetune": {"epochs": 8}},
        "tuning": {"validation_samples": 400, "folds": 3, "regularisations": LAMBDAS, "weight_decays": WEIGHT_DECAYS,
                   "anchor_strengths": ANCHORS}}


def test_checkpoints_are_spaced_by_root_two_down_from_the_budget():
    assert checkpoints(300) == [1, 2, 3, 5, 7, 9, 13, 19, 27, 38, 53, 75, 106, 150, 212, 300]
    assert checkpoints(8, with_start=True) == [0, 1, 2, 3, 4, 6, 8]
    assert checkpoints(1) == [1]


def _setup(rule: str):
    spec = LearningCurveRequest.model_validate({**BODY, "tuning": {**BODY["tuning"], "rule": rule}})
    data, store = SyntheticSource(spec), MemoryArtifactStore()
    result = run_learning_curve(data, store).model_dump(mode="json")
    network, _ = train_source_network(CurveRun(store), data)
    maps = {p: data.centred(READOUT_FEATURES[p].build(spec, 30, network)) for p in spec.readout_protocols}
    return spec, data, result, network, maps


def _wrong(outputs, labels) -> int:
    return int(np.sum(np.where(outputs >= 0, 1.0, -1.0) != labels))


def _first_fewest(errors: dict) -> tuple:
    """The key with the fewest errors, the first in the dict's order among ties."""
    fewest = min(errors.values())
    return next(key for key, value in errors.items() if value == fewest)


def _network_errors(make, penalties, budget, start, x, y, held_x, held_y, errors):
    """Add each (penalty, epoch)'s held-out errors to ``errors``; the networks scored, by key."""
    networks = {}
    for penalty in sorted(penalties, reverse=True):  # strongest first: ties go to it
        trainer = make(penalty, x, y)
        for epoch in range(budget + 1):
            if epoch in checkpoints(budget, start):
                errors[(penalty, epoch)] = errors.get((penalty, epoch), 0) + _wrong(trainer.network.output(held_x),
                                                                                     held_y)
                networks[(penalty, epoch)] = trainer.result().network
            if epoch < budget:
                trainer.epoch()
    return networks


def _makers(spec, network, maps, x_seed, n, lam=None):
    """Training runs as the engine makes them: every per-alpha draw from the seed and n_t."""
    init = initial_network(20, 30, "erf", generator(x_seed, Stream.SIM_NETWORK_INIT))

    def scratch(wd, x, y):
        return Trainer(init, x, y, learning_rate=0.01, weight_decay=wd, batch_size=None,
                       rng=generator(x_seed, Stream.MINIBATCH_ORDER, n))

    def finetune(mu, x, y):
        start = probe(network, maps["tf"], x, y, lam)
        return _trainer(start, network, x, y, lam, spec.simulation.finetune.model_copy(update={"regularisation": mu}),
                        generator(x_seed, Stream.MINIBATCH_ORDER, n))

    return scratch, finetune


def test_best_achievable_chooses_every_hyperparameter_on_fresh_validation_samples():
    spec, data, result, network, maps = _setup("best_achievable")
    samples = data.target_samples()
    curves = result["curves"]
    assert result["tuning"] == "best_achievable"
    for s, seed in enumerate((2, 5)):
        val_x, val_y = samples.validation_set(seed, 400)
        _, check_x, _ = data.target_task.sample(400, generator(seed, Stream.SIM_VALIDATION_DATA))
        assert np.array_equal(check_x, val_x)  # the documented stream
        test_x, test_y = samples.test_set(seed)
        assert not np.array_equal(val_x[:10], test_x[:10])
        for a, n in enumerate((15, 60)):
            x, y = samples.training_set(seed, n)
            chosen = {}
            for protocol, fmap in maps.items():
                errors = {lam: _wrong(fmap(val_x) @ fit_readout(fmap(x), y, "logistic", lam).weights, val_y)
                          for lam in sorted(LAMBDAS, reverse=True)}
                lam = chosen[protocol] = _first_fewest(errors)
                sim = curves[protocol]["simulation"]
                assert sim["hyperparameters"]["regularisation"]["values"][a][s] == lam
                assert sim["hyperparameters"]["regularisation"]["chosen_by"] == "validation"
                readout = fit_readout(fmap(x), y, "logistic", lam)
                assert sim["test_errors"][a][s] == np.mean(np.where(fmap(test_x) @ readout.weights >= 0, 1, -1) != test_y)
            scratch_maker, finetune_maker = _makers(spec, network, maps, seed, n, chosen["tf"])
            for protocol, make, penalties, budget, start, name in (
                    ("scratch", scratch_maker, WEIGHT_DECAYS, 12, False, "weight_decay"),
                    ("finetune", finetune_maker, ANCHORS, 8, True, "anchor_strength")):
                errors: dict = {}
                networks = _network_errors(make, penalties, budget, start, x, y, val_x, val_y, errors)
                penalty, epochs = _first_fewest(errors)
                hyper = curves[protocol]["simulation"]["hyperparameters"]
                assert (hyper[name]["values"][a][s], hyper["epochs"]["values"][a][s]) == (penalty, epochs), protocol
                assert hyper[name]["chosen_by"] == hyper["epochs"]["chosen_by"] == "validation"
                assert curves[protocol]["simulation"]["test_errors"][a][s] == networks[(penalty, epochs)].error(test_x,
                                                                                                               test_y)
            assert curves["finetune"]["simulation"]["hyperparameters"]["regularisation"]["values"][a][s] == chosen["tf"]
    assert curves["scratch"]["simulation"]["hyperparameters"]["epochs"]["candidates"] == [1, 2, 3, 4, 6, 8, 12]
    assert curves["finetune"]["simulation"]["hyperparameters"]["epochs"]["candidates"] == [0, 1, 2, 3, 4, 6, 8]
    for protocol in ("tf", "rf", "linear"):  # the theory runs at its oracle, this rule's limit
        assert curves[protocol]["theory"]["regularisation_chosen_by"] == "oracle"


def test_the_practitioner_cross_validates_on_the_training_samples_and_refits():
    spec, data, result, network, maps = _setup("practitioner")
    samples, curves = data.target_samples(), result["curves"]
    assert result["tuning"] == "practitioner"
    for s, seed in enumerate((2, 5)):
        test_x, test_y = samples.test_set(seed)
        for a, n in enumerate((15, 60)):
            x, y = samples.training_set(seed, n)
            chosen = {}
            for protocol, fmap in maps.items():
                errors = cross_validation_errors(fmap(x), y, "logistic", generator(seed, Stream.CV_FOLDS, n),
                                                 tuple(LAMBDAS), 3)
                errors_by = {lam: errors[LAMBDAS.index(lam)] for lam in sorted(LAMBDAS, reverse=True)}
                chosen[protocol] = _first_fewest(errors_by)
                hyper = curves[protocol]["simulation"]["hyperparameters"]["regularisation"]
                assert (hyper["values"][a][s], hyper["chosen_by"]) == (chosen[protocol], "cross_validation")
            # the networks' folds: the same partition as the readouts'
            folds = generator(seed, Stream.CV_FOLDS, n).permutation(n) % 3
            scratch_maker, finetune_maker = _makers(spec, network, maps, seed, n, chosen["tf"])
            for protocol, make, penalties, budget, start, name in (
                    ("scratch", scratch_maker, WEIGHT_DECAYS, 12, False, "weight_decay"),
                    ("finetune", finetune_maker, ANCHORS, 8, True, "anchor_strength")):
                errors: dict = {}
                for fold in range(3):
                    fit, held = folds != fold, folds == fold
                    _network_errors(make, penalties, budget, start, x[fit], y[fit], x[held], y[held], errors)
                penalty, epochs = _first_fewest(errors)
                hyper = curves[protocol]["simulation"]["hyperparameters"]
                assert (hyper[name]["values"][a][s], hyper["epochs"]["values"][a][s]) == (penalty, epochs), protocol
                trainer = make(penalty, x, y)  # refitted on every training sample
                for _ in range(epochs):
                    trainer.epoch()
                assert curves[protocol]["simulation"]["test_errors"][a][s] == trainer.result().network.error(test_x,
                                                                                                              test_y)


def test_the_fixed_rule_names_every_given_value():
    body = {**BODY, "tuning": {"rule": "fixed"}, "readout": {"regularisation": 0.3},
            "simulation": {**BODY["simulation"], "finetune": {"epochs": 8, "regularisation": 5.0}}}
    result = run_learning_curve(SyntheticSource(LearningCurveRequest.model_validate(body))).model_dump(mode="json")
    curves = result["curves"]
    for protocol in ("tf", "rf", "linear", "finetune"):
        sim = curves[protocol]["simulation"]
        assert sim["regularisation"] == [0.3, 0.3] and sim["regularisation_chosen_by"] == "fixed"
        assert sim["hyperparameters"]["regularisation"] == {"chosen_by": "fixed", "values": [[0.3, 0.3]] * 2,
                                                            "candidates": None}
    scratch, finetune = curves["scratch"]["simulation"]["hyperparameters"], curves["finetune"]["simulation"]["hyperparameters"]
    assert scratch["weight_decay"]["values"] == [[1e-4, 1e-4]] * 2 and scratch["epochs"]["values"] == [[12, 12]] * 2
    assert finetune["anchor_strength"]["values"] == [[5.0, 5.0]] * 2 and finetune["epochs"]["values"] == [[8, 8]] * 2
    assert {h["chosen_by"] for h in (*scratch.values(), *finetune.values())} == {"fixed"}
    assert curves["tf"]["theory"]["regularisation_chosen_by"] == "fixed"


@pytest.mark.parametrize("readout", ["oracle", "optimal"])
def test_the_oracle_is_named_and_its_lambda_used_by_the_simulation(readout):
    body = {**BODY, "protocols": ["linear", "finetune"], "readout": {"regularisation": readout}}
    result = run_learning_curve(SyntheticSource(LearningCurveRequest.model_validate(body))).model_dump(mode="json")
    theory, sim = result["curves"]["linear"]["theory"], result["curves"]["linear"]["simulation"]
    assert theory["regularisation_chosen_by"] == "oracle" and sim["regularisation_chosen_by"] == "oracle"
    assert sim["regularisation"] == theory["regularisation"]
    # finetune's probe at tf's oracle; its own anchor strength and epochs by the request's rule
    finetune = result["curves"]["finetune"]["simulation"]["hyperparameters"]
    assert finetune["regularisation"]["chosen_by"] == "oracle"
    assert finetune["anchor_strength"]["chosen_by"] == finetune["epochs"]["chosen_by"] == "validation"


@pytest.mark.parametrize("rule", ["practitioner", "fixed"])
def test_an_alphas_numbers_do_not_depend_on_the_other_alphas_requested(rule):
    # every per-alpha draw (folds, mini-batch orders, finetune's held-out part) comes from the seed and n_t:
    # a phase diagram's part holding several alphas gives each cell what its own learning curve gives
    body = {**BODY, "network": {**BODY["network"], "epochs": 10}, "theory": None,
            "simulation": {"seeds": [2], "test_samples": 300, "scratch": {"epochs": 6, "batch_size": 16},
                           "finetune": {"epochs": 4, "batch_size": 16}},
            "tuning": {**BODY["tuning"], "rule": rule}}
    if rule == "fixed":
        body = {**body, "readout": {"regularisation": 0.1},
                "simulation": {**body["simulation"], "finetune": {"epochs": 4, "batch_size": 16, "validation_fraction": 0.3}}}
    both = run_learning_curve(SyntheticSource(LearningCurveRequest.model_validate(body))).model_dump(mode="json")
    alone = run_learning_curve(SyntheticSource(LearningCurveRequest.model_validate({**body, "alphas": [2.0]}))
                               ).model_dump(mode="json")
    for protocol in BODY["protocols"]:
        two, one = both["curves"][protocol]["simulation"], alone["curves"][protocol]["simulation"]
        assert two["test_errors"][1] == one["test_errors"][0], protocol
        assert {k: v["values"][1] for k, v in two["hyperparameters"].items()} == \
            {k: v["values"][0] for k, v in one["hyperparameters"].items()}, protocol
