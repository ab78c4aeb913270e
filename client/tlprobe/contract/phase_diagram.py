"""POST /v1/phase-diagrams: a grid over two axes (a correlation knob, alpha, or a numeric parameter
of the source task, the network or the readout) with each protocol's test error per cell, the gain
of transfer over a baseline, and the gain = 0 boundary.

On uploaded datasets (``{"dataset": ID}`` as source and target, MODEL.md section 7) the axes are
alpha and the numeric parameters of the network and the readout (``axes.DATASET_AXES``); the cells
are simulated (``simulation`` is required) and the gain is on the simulation. With ``theory``, the
Gaussian-equivalent curve of each readout protocol is returned beside it as its own grid, labelled
as the approximation it is; ``theory: null`` skips it. Every cell's hyperparameters are chosen by the
request's ``tuning`` rule, as in learning curves.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal, Mapping

from pydantic import ConfigDict, Field, field_validator, model_validator

from .axes import AXES, AxisName, check_axis_on_datasets, check_axis_values
from .common import READOUT_PROTOCOLS, Float, Protocol, Strict, TuningRule, given, one_of
from .datasets import DatasetDescription, DatasetSource, ReadsDatasets
from .learning_curve import (
    BOTH_DATASETS_OR_NEITHER,
    LearningCurveRequest,
    NetworkParams,
    ReadoutParams,
    SimulationParams,
    Source,
    SourceField,
    SourceParams,
    Target,
    TargetParams,
    TheoryParams,
    TuningParams,
    alpha_problem,
    check_computable,
    check_latent_change,
    check_tuning,
    default_tuning_rule,
)

MAX_AXIS_VALUES = 100
#: cells of a theory-only diagram (a picture at the resolution of a paper figure: 100 x 100)
MAX_CELLS = 10_000
#: cells of a diagram with a simulation: each simulated cell trains and fits per seed, and its parts are not
#: tiled (``tlprobe_server.diagrams.plan``); the budget bounds them further
MAX_SIMULATED_CELLS = 400


class Axis(Strict):
    name: AxisName = Field(description="The knob, alpha, or the parameter the axis sets: a target knob (feature_noise, "
                                       "teacher_noise, feature_substitution, latent_change, label_noise), latent_dim, "
                                       "input_dim and source_label_noise (source), hidden_units, hidden_layers, "
                                       "n_samples and epochs (network: one source network per value), regularisation "
                                       "(the readout's lambda) and transfer_layer (the hidden layer the readouts use).")
    values: list[Float] = Field(min_length=1, max_length=MAX_AXIS_VALUES, json_schema_extra={"uniqueItems": True},
                                description="Strictly increasing; each within the bounds of the field it sets.")

    @model_validator(mode="after")
    def _valid_values(self) -> "Axis":
        if any(b <= a for a, b in zip(self.values, self.values[1:])):
            raise ValueError("values must be strictly increasing")
        check_axis_values(self.name, self.values)
        return self


class Baseline(str, Enum):
    rf = "rf"
    linear = "linear"
    scratch = "scratch"
    finetune = "finetune"


#: the rules between fields that JSON Schema can state (the rest: the operation's description)
PHASE_DIAGRAM_RULES = {
    "oneOf": BOTH_DATASETS_OR_NEITHER,
    "allOf": [
        # on datasets the cells are simulated
        {"if": {"required": ["source"], "properties": {"source": {"required": ["dataset"]}}},
         "then": given("simulation")},
        # a scratch or finetune baseline exists only in simulation
        {"if": {"required": ["baseline"], "properties": {"baseline": {"enum": [Baseline.scratch.value,
                                                                              Baseline.finetune.value]}}},
         "then": given("simulation")},
        # something to compute (simulation is null by default)
        {"not": {"required": ["theory"], "properties": {"theory": {"type": "null"}, "simulation": {"type": "null"}}}},
    ],
    # a small diagram (seconds on one core)
    "examples": [{"source": {"latent_dim": 10, "input_dim": 40},
                  "network": {"hidden_units": 30, "n_samples": 400, "epochs": 60}, "theory": {"mc_samples": 4000},
                  "x_axis": {"name": "alpha", "values": [0.5, 2.0]},
                  "y_axis": {"name": "teacher_noise", "values": [0.0, 1.0]}}],
}


class PhaseDiagramRequest(ReadsDatasets, Strict):
    model_config = ConfigDict(json_schema_extra=PHASE_DIAGRAM_RULES)

    source: SourceField = SourceParams()
    target: Target = Field(TargetParams(), json_schema_extra=one_of,
                           description="The knobs not on an axis are held at these values; or {\"dataset\": ID, ...}: "
                                       "an uploaded dataset.")
    network: NetworkParams = NetworkParams()
    readout: ReadoutParams = ReadoutParams()
    theory: TheoryParams | None = Field(TheoryParams(), json_schema_extra=one_of)
    simulation: SimulationParams | None = Field(None, json_schema_extra=one_of,
                                                description="Needed for a scratch or finetune baseline, and on datasets "
                                                            "(their cells are simulated).")
    x_axis: Axis = Axis(name=AxisName.alpha, values=[0.25, 0.5, 1.0, 2.0, 4.0])
    y_axis: Axis = Axis(name=AxisName.teacher_noise, values=[0.0, 0.25, 0.5, 0.75, 1.0])
    alpha: Float = Field(1.0, gt=0.0, le=64.0, description="alpha = n_t / N of every cell when no axis is alpha.")
    protocols: list[Protocol] = Field([Protocol.tf], min_length=1, max_length=5, json_schema_extra={"uniqueItems": True},
                                      description="Distinct protocols evaluated per cell besides tf and the baseline, "
                                                  "which are always included.")
    baseline: Baseline = Field(Baseline.rf, description="gain = test error of the baseline - test error of tf.")
    tuning: TuningParams = Field(TuningParams(), description="How every protocol's hyperparameters are chosen, in "
                                                             "every cell (as in learning curves).")

    _default_tuning_rule = model_validator(mode="before")(default_tuning_rule)

    @field_validator("protocols")
    @classmethod
    def _distinct(cls, value: list[Protocol]) -> list[Protocol]:
        if len(set(value)) != len(value):
            raise ValueError("protocols must be distinct")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "PhaseDiagramRequest":
        if self.x_axis.name == self.y_axis.name:
            raise ValueError("x_axis and y_axis must differ")
        cells = len(self.x_axis.values) * len(self.y_axis.values)
        if cells > MAX_CELLS:
            raise ValueError(f"{cells} cells: at most {MAX_CELLS}")
        if self.simulation is not None and cells > MAX_SIMULATED_CELLS:
            raise ValueError(f"{cells} cells with a simulation: at most {MAX_SIMULATED_CELLS} (up to {MAX_CELLS} "
                             "theory-only, with simulation null)")
        self.check_both_or_neither()
        if self.uses_datasets:
            for axis_name, axis in (("x_axis", self.x_axis), ("y_axis", self.y_axis)):
                try:
                    check_axis_on_datasets(axis.name)
                except ValueError as exc:
                    raise ValueError(f"{axis_name}: {exc}") from None
            if self.simulation is None:
                raise ValueError("a phase diagram on datasets is simulated: give 'simulation' (theory alone would be "
                                 "the Gaussian-equivalent approximation, which is returned beside the simulation)")
        for axis_name, axis in (("x_axis", self.x_axis), ("y_axis", self.y_axis)):
            self._not_fixed_elsewhere(axis_name, axis)
        if not self.uses_datasets:
            # the smallest target latent space over the grid: smallest source D plus smallest change
            smallest_d = min(self._axis_values(AxisName.latent_dim) or [self.source.latent_dim])
            for change in self._axis_values(AxisName.latent_change) or [self.target.latent_change]:
                check_latent_change(self.source.model_copy(update={"latent_dim": int(smallest_d)}), change)
            self._at_least_one_sample()  # on datasets N is the target's: ``dataset_problems``
        self._transfer_layers_exist()
        if self.baseline in (Baseline.scratch, Baseline.finetune) and self.simulation is None:
            raise ValueError(f"baseline {self.baseline.value} exists only in simulation: give 'simulation'")
        check_computable(self.theory, self.simulation)
        readout = self.readout
        if self._axis_values(AxisName.regularisation):  # a number in every cell
            readout = readout.model_copy(update={"regularisation": self._axis_values(AxisName.regularisation)[0]})
        finetune = self.simulation is not None and Protocol.finetune in self.all_protocols
        check_tuning(self.tuning, readout, self.theory, self.simulation, self.uses_datasets,
                     bool(self.readout_protocols) or finetune)
        return self

    def _at_least_one_sample(self) -> None:
        """Every cell's alpha N >= 1: the smallest alpha against the smallest N of the grid."""
        alphas, where = self._axis_values(AxisName.alpha), "alpha axis"
        if not alphas:
            alphas, where = [self.alpha], "alpha"
        sizes, size_from = self._axis_values(AxisName.input_dim), "the smallest input_dim on the axis:"
        if not sizes:
            sizes, size_from = [self.source.input_dim], "source.input_dim:"
        problem = alpha_problem(min(alphas), int(min(sizes)), size_from)
        if problem is not None:
            raise ValueError(f"{where}: {problem}")

    def _transfer_layers_exist(self) -> None:
        """Every cell's transfer layer l <= its number of hidden layers L: the largest l against the smallest L."""
        layers = self._axis_values(AxisName.transfer_layer)
        if not layers and self.readout.transfer_layer is None:
            return  # the last layer of every cell's network
        largest = int(max(layers or [self.readout.transfer_layer]))
        depths, where = self._axis_values(AxisName.hidden_layers), "the smallest hidden_layers on the axis"
        if not depths:
            depths, where = [self.network.hidden_layers], "network.hidden_layers"
        if largest > min(depths):
            raise ValueError(f"transfer_layer {largest} exceeds {where} ({int(min(depths))}): the source network has "
                             "no such layer")

    def _axis_values(self, name: AxisName) -> list[float]:
        return [v for axis in (self.x_axis, self.y_axis) if axis.name is name for v in axis.values]

    def _not_fixed_elsewhere(self, axis_name: str, axis: Axis) -> None:
        """An axis sets its field in every cell: the request giving that field another value than its
        default is a conflict. (Judged by value, not by which keys were sent: a request spelled out
        with every default, as results and job payloads carry it, must stay valid.)"""
        field = AXES[axis.name]
        owner = self if field.section is None else getattr(self, field.section)
        value, default = getattr(owner, field.field), type(owner).model_fields[field.field].default
        if value != default:
            raise ValueError(f"{axis_name} {axis.name.value}: {field.path} is also given ({value}); an axis sets it in "
                             "every cell, so give it in one place")

    def _axis_location(self, name: AxisName) -> tuple | None:
        for axis_name, axis in (("x_axis", self.x_axis), ("y_axis", self.y_axis)):
            if axis.name is name:
                return (axis_name, "values")
        return None

    def dataset_problems(self, described: Mapping[str, DatasetDescription]) -> list[tuple[tuple, str]]:
        """What the grid asks of its datasets that they cannot give, as (location, reason) pairs: the
        rules of a learning curve on datasets (``LearningCurveRequest.dataset_problems``) for every
        alpha and every n_s of the grid, located at the axis value (or the fixed field) that breaks
        them. ``described`` maps each of ``dataset_ids`` to its description."""
        if not self.uses_datasets:
            return []
        alpha_axis, n_axis = self._axis_location(AxisName.alpha), self._axis_location(AxisName.n_samples)
        alphas = self._axis_values(AxisName.alpha) or [self.alpha]
        problems: dict[tuple, str] = {}
        for n_index, n_samples in enumerate(self._axis_values(AxisName.n_samples) or [self.network.n_samples]):
            readout = self.readout
            if self._axis_values(AxisName.regularisation):
                readout = readout.model_copy(update={"regularisation": self._axis_values(AxisName.regularisation)[0]})
            curve = LearningCurveRequest(
                source=self.source, target=self.target, readout=readout, alphas=alphas,
                network=self.network.model_copy(update={"n_samples": int(n_samples)}),
                protocols=self.all_protocols, theory=self.theory, simulation=self.simulation, tuning=self.tuning)
            for loc, msg in curve.dataset_problems(described):
                if loc[0] == "alphas":
                    loc = ("alpha",) if alpha_axis is None else (*alpha_axis, loc[1])
                elif loc == ("network", "n_samples") and n_axis is not None:
                    loc = (*n_axis, n_index)
                problems.setdefault(loc, msg)
        return list(problems.items())

    @property
    def axis_fields(self) -> set[str]:
        """Request paths the axes set (e.g. network.n_samples), which hold no fixed value of the diagram."""
        return {AXES[axis.name].path for axis in (self.x_axis, self.y_axis)}

    @property
    def all_protocols(self) -> list[Protocol]:
        wanted = [Protocol.tf, Protocol(self.baseline.value), *self.protocols]
        return list(dict.fromkeys(wanted))

    @property
    def readout_protocols(self) -> list[Protocol]:
        """The protocols of ``all_protocols`` that have a theory (fixed features, fitted readout)."""
        return [p for p in self.all_protocols if p in READOUT_PROTOCOLS]

    @property
    def gain_basis(self) -> Literal["theory", "simulation"]:
        """Theory when it exists for tf and the baseline; on datasets always the simulation (the
        Gaussian-equivalent curve is an approximation, reported beside it)."""
        theory_baseline = self.baseline in (Baseline.rf, Baseline.linear)
        return "theory" if theory_baseline and self.theory is not None and not self.uses_datasets else "simulation"


Grid = list[list[float | None]]


class BoundaryRow(Strict):
    y_index: int
    y: float
    crossings: list[float] = Field(description="x values where the gain changes sign (linear interpolation).")


class CellFailure(Strict):
    x_index: int
    y_index: int
    reason: str


class PhaseDiagramResult(Strict):
    kind: Literal["phase_diagram"] = "phase_diagram"
    x_axis: Axis
    y_axis: Axis
    tuning: TuningRule | None = Field(None, description="The request's tuning rule, in every cell (each cell's "
                                                        "learning curve names what chose each hyperparameter).")
    alpha: float | None = Field(description="The fixed alpha, when no axis is alpha.")
    baseline: Baseline
    gain_basis: Literal["theory", "simulation"]
    protocols: list[Protocol]
    test_error: dict[Protocol, Grid] = Field(description="On the gain basis; every grid is [y][x].")
    test_error_sem: dict[Protocol, Grid] | None = Field(description="Standard errors when the basis is simulation.")
    theory: dict[Protocol, Grid] | None = Field(description="GCM theory of the readout protocols (synthetic tasks; "
                                                            "null on datasets).")
    simulation: dict[Protocol, Grid] | None = Field(description="Simulation means, when simulated.")
    gaussian_equivalent: dict[Protocol, Grid] | None = Field(
        None, description="On datasets with theory: the Gaussian-equivalent approximation of each readout protocol's "
                          "test error (GCM with covariances estimated from the target set and the least-squares "
                          "linear teacher; see learning curves). An approximation, never the gain basis.")
    gain: Grid
    boundary: list[BoundaryRow]
    failures: list[CellFailure]
    complete: bool
    source_test_error: float | None = Field(description="The source network's test error when every cell shares one "
                                                        "network (no axis over the network or the source task).")
    source_test_errors: Grid = Field(description="The source test error of each cell's network.")
    meta: dict[str, Any]


class SourceNetworkRequest(Strict):
    source: Source = SourceParams()
    network: NetworkParams = NetworkParams()

    @property
    def dataset_fields(self) -> list[tuple[tuple, str]]:
        return [(("source", "dataset"), self.source.dataset)] if isinstance(self.source, DatasetSource) else []


class SourceNetworkResult(Strict):
    kind: Literal["source_network"] = "source_network"
    source_test_error: float
    source_train_error: float
    source_train_loss: float
    meta: dict[str, Any]


class CatalogueEntry(Strict):
    diagram_id: str
    x_axis: AxisName
    y_axis: AxisName
    x_values: list[float]
    y_values: list[float]
    baseline: Baseline
    protocols: list[Protocol]
    complete: bool
    computed_at: str
    parameters: dict[str, Any] = Field(
        description="Every fixed parameter, flattened: source.input_dim, target.teacher_noise, ...")
    links: dict[str, str]


class CataloguePage(Strict):
    total: int
    offset: int
    limit: int
    items: list[CatalogueEntry]
