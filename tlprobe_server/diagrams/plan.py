"""How a phase diagram fans out: a pure function of the request and the chunk size, called once per
submission. The submission records the outcome in the diagram job's meta, and the assembly reads
that record: it never plans again, so API and workers configured with different chunk sizes still
agree on the parts.

Each cell sets the fields its two axes name (``contract.axes``). Cells sharing everything but alpha
form a group; cells sharing a source task and network share a *network part* (one source network per
value of an axis over the network or the source task), which trains that network once. Each group
gets a *theory part*: a learning curve over all its alphas without simulation, which builds the
group's spectra once and solves every alpha; groups that differ only in the readout's lambda share
their spectra, so their theory parts wait for the first one. With simulation, each chunk of
``chunk`` alphas becomes a *simulation part* that waits for its theory part. Parts are ordinary
learning-curve requests: their results are cached and shared with the learning-curve endpoint, and
a cell equals the same alpha computed through that endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from tlprobe.contract.axes import AXES
from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe.contract.phase_diagram import PhaseDiagramRequest, SourceNetworkRequest

Cell = tuple[int, int, int]  # (x_index, y_index, index of the cell's alpha in the part's alphas)


@dataclass(frozen=True)
class Part:
    request: LearningCurveRequest
    role: str  # "theory" or "simulation"
    cells: tuple[Cell, ...]
    network: int  # index of the source network it uses in Plan.networks
    after: int | None = None  # index of a part it waits for (whose spectra it reuses)


@dataclass(frozen=True)
class Plan:
    networks: tuple[SourceNetworkRequest, ...]
    parts: tuple[Part, ...]
    n_cells: int


class InvalidCell(ValueError):
    """A cell whose combination of axis values and fixed parameters is not a valid learning curve."""


def _cell(request: PhaseDiagramRequest, xi: int, yi: int) -> tuple[dict[str, Any], float]:
    """The request sections of cell (xi, yi) with its axis values set, and its alpha."""
    sections: dict[str, Any] = {"source": request.source, "target": request.target, "network": request.network,
                                "readout": request.readout}
    alpha = request.alpha
    for axis, index in ((request.x_axis, xi), (request.y_axis, yi)):
        field = AXES[axis.name]
        value = field.cast(axis.values[index])
        if field.section is None:
            alpha = value
        else:
            sections[field.section] = sections[field.section].model_copy(update={field.field: value})
    return sections, alpha


def _check_cell(request: PhaseDiagramRequest, xi: int, yi: int, sections: dict[str, Any], alpha: float) -> None:
    """InvalidCell naming the cell when its learning curve (this alpha alone) is not a valid request."""
    try:
        LearningCurveRequest(**sections, alphas=[alpha], protocols=request.all_protocols, theory=request.theory,
                             simulation=request.simulation, tuning=request.tuning)
    except ValidationError as exc:
        where = (f"{request.x_axis.name.value}={request.x_axis.values[xi]:g}, "
                 f"{request.y_axis.name.value}={request.y_axis.values[yi]:g}")
        raise InvalidCell(f"cell {where}: {exc.errors()[0]['msg']}") from None


def plan(request: PhaseDiagramRequest, chunk: int) -> Plan:
    groups: dict[tuple, list[tuple[int, int, float]]] = {}
    for yi in range(len(request.y_axis.values)):
        for xi in range(len(request.x_axis.values)):
            sections, alpha = _cell(request, xi, yi)
            _check_cell(request, xi, yi, sections, alpha)
            key = (sections["source"], sections["network"], sections["readout"], sections["target"])
            groups.setdefault(key, []).append((xi, yi, alpha))
    protocols = request.all_protocols
    readout = request.readout_protocols
    networks: dict[SourceNetworkRequest, int] = {}
    spectra_first: dict[tuple, int] = {}  # (source, network, target) -> the theory part that builds its spectra
    parts: list[Part] = []
    for (source, network, readout_params, target), cells in groups.items():
        net = networks.setdefault(SourceNetworkRequest(source=source, network=network), len(networks))
        alphas = sorted({alpha for _, _, alpha in cells})
        common = dict(source=source, network=network, readout=readout_params, target=target, tuning=request.tuning)
        theory_index = None
        if request.theory is not None and readout:
            theory_index = len(parts)
            spectra = spectra_first.setdefault((source, network, target), theory_index)
            parts.append(Part(
                LearningCurveRequest(**common, alphas=alphas, protocols=readout, theory=request.theory, simulation=None),
                "theory", tuple((xi, yi, alphas.index(a)) for xi, yi, a in cells), net,
                after=None if spectra == theory_index else spectra))
        if request.simulation is not None:
            for start in range(0, len(alphas), chunk):
                block = alphas[start:start + chunk]
                block_cells = [(xi, yi, a) for xi, yi, a in cells if a in block]
                parts.append(Part(
                    LearningCurveRequest(**common, alphas=block, protocols=protocols, theory=request.theory,
                                         simulation=request.simulation),
                    "simulation", tuple((xi, yi, block.index(a)) for xi, yi, a in block_cells), net,
                    after=theory_index))
    n_cells = len(request.x_axis.values) * len(request.y_axis.values)
    return Plan(tuple(networks), tuple(parts), n_cells)
