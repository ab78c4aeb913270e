"""How a phase diagram fans out: a pure function of the request and the chunk size, called once per
submission. The submission records the outcome in the diagram job's meta (``Plan.record``), and
the assembly reads that record: it never plans again, so API and workers configured with different
chunk sizes still agree on the parts.

Cells sharing a target (a column of a (knob, alpha) diagram; a single cell of a (knob, knob)
diagram) form one group. Each group gets a *theory part*: a learning curve over all its alphas
without simulation, which builds the group's spectra once and solves every alpha. With
simulation, each chunk of ``chunk`` alphas becomes a *simulation part*, a learning curve with
simulation that depends on the theory part (so the spectra are never built twice at once). All
parts depend on the *network part*, which trains the source network once for the whole diagram.
Parts are ordinary learning-curve requests: their results are cached and shared with the
learning-curve endpoint, and a cell equals the same alpha computed through that endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..contract.learning_curve import LearningCurveRequest, TargetParams
from ..contract.phase_diagram import AxisName, PhaseDiagramRequest, SourceNetworkRequest

Cell = tuple[int, int, int]  # (x_index, y_index, index of the cell's alpha in the part's alphas)


@dataclass(frozen=True)
class Part:
    request: LearningCurveRequest
    role: str  # "theory" or "simulation"
    cells: tuple[Cell, ...]
    after: int | None = None  # index of the part it waits for (a simulation part's theory part)


@dataclass(frozen=True)
class Plan:
    network: SourceNetworkRequest
    parts: tuple[Part, ...]
    n_cells: int


def _cell(request: PhaseDiagramRequest, xi: int, yi: int) -> tuple[TargetParams, float]:
    knobs = request.target.model_dump()
    alpha = request.alpha
    for axis, index in ((request.x_axis, xi), (request.y_axis, yi)):
        value = axis.values[index]
        if axis.name is AxisName.alpha:
            alpha = value
        elif axis.name is AxisName.latent_change:
            knobs["latent_change"] = int(value)
        else:
            knobs[axis.name.value] = value
    return TargetParams(**knobs), alpha


def plan(request: PhaseDiagramRequest, chunk: int) -> Plan:
    groups: dict[TargetParams, list[tuple[int, int, float]]] = {}
    for yi in range(len(request.y_axis.values)):
        for xi in range(len(request.x_axis.values)):
            target, alpha = _cell(request, xi, yi)
            groups.setdefault(target, []).append((xi, yi, alpha))
    protocols = request.all_protocols
    readout = request.readout_protocols
    common = dict(source=request.source, network=request.network, readout=request.readout)
    parts: list[Part] = []
    for target, cells in groups.items():
        alphas = sorted({alpha for _, _, alpha in cells})
        theory_index = None
        if request.theory is not None and readout:
            theory_index = len(parts)
            parts.append(Part(
                LearningCurveRequest(**common, target=target, alphas=alphas, protocols=readout, theory=request.theory,
                                     simulation=None),
                "theory", tuple((xi, yi, alphas.index(a)) for xi, yi, a in cells)))
        if request.simulation is not None:
            for start in range(0, len(alphas), chunk):
                block = alphas[start:start + chunk]
                parts.append(Part(
                    LearningCurveRequest(**common, target=target, alphas=block, protocols=protocols,
                                         theory=request.theory, simulation=request.simulation),
                    "simulation", tuple((xi, yi, block.index(a)) for xi, yi, a in cells if a in block),
                    after=theory_index))
    n_cells = len(request.x_axis.values) * len(request.y_axis.values)
    return Plan(SourceNetworkRequest(source=request.source, network=request.network), tuple(parts), n_cells)
