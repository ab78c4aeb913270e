"""How a phase diagram fans out: a pure function of the request, the chunk size and the tile count,
called once per submission. The submission records the outcome in the diagram job's meta, and the
assembly reads that record: it never plans again, so API and workers configured differently still
agree on the parts.

Each cell sets the fields its two axes name (``contract.axes``). Cells sharing everything but alpha
form a *group*; groups sharing a source task, a network and a target (differing only in the readout's
lambda, or in the target's label noise, which flips labels but leaves the features' covariances as
they are) form a *family*, which shares its spectra. Each group's theory is a *curve*: a theory-only
learning curve over the group's alphas (at most ``MAX_ALPHAS`` each: a longer group is split into
contiguous curves), which builds the spectra once and solves every alpha.

Curves are packed into *tiles* of about ``cells / tiles`` cells (the ``tiles`` setting), so that a
diagram is a bounded number of jobs whatever its axes: a 100 x 100 diagram at a fixed alpha has 10,000
one-cell curves, not 10,000 jobs. A family that fits a tile is never split; a larger one starts a tile
of its own and fills as many as it needs. A tile of one curve is that learning curve's own job
(``lc-...``, shared in flight with ``POST /v1/learning-curves``); a tile of several is a
``diagram_tile`` job (``contract.diagram_tile``) that stores each curve's result under the curve's own
learning-curve id. Either way a cell equals the same alpha computed through the learning-curve
endpoint, and a curve already computed is never redone. Small diagrams (cells <= tiles) get one job
per curve, as many as can run in parallel.

A tile continuing a family started in an earlier tile waits for that tile (whose spectra it reuses);
that earlier tile starts the family and waits for nothing, so no chain of tiles forms. A source network
used by several parts is trained by a job of its own (``source_network``) that they wait for; one used
by a single part is trained by that part. With a simulation (at most ``MAX_SIMULATED_CELLS`` cells),
each chunk of ``chunk`` alphas of a group becomes a *simulation part*, a learning curve that waits for
the tile holding its group's theory.

Job count: at most about 3 x ``tiles`` tiles (each flush either follows a tile and a next unit that
together exceed the capacity, or starts a family larger than it), fewer network jobs than parts (a
network's curves are contiguous), plus simulation parts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from tlprobe.contract.axes import AXES
from tlprobe.contract.diagram_tile import DiagramTileRequest
from tlprobe.contract.learning_curve import MAX_ALPHAS, LearningCurveRequest
from tlprobe.contract.phase_diagram import PhaseDiagramRequest, SourceNetworkRequest

#: the default of ``TLPROBE_DIAGRAM_TILES``: a diagram of more cells packs its theory into about this many jobs
TILES = 100

#: (x_index, y_index, index of the cell's curve in its part, index of its alpha in that curve)
Cell = tuple[int, int, int, int]
#: the sections an axis over them sets apart: a group (everything but alpha), a family (but the readout), a network
GROUP_SECTIONS = ("source", "network", "readout", "target")
FAMILY_SECTIONS = ("source", "network", "target")
NETWORK_SECTIONS = ("source", "network")
#: fields that leave a family's spectra as they are: an axis over one does not split families
SPECTRA_FREE = {("target", "label_noise")}


@dataclass
class Group:
    """Cells sharing everything but alpha."""

    sections: dict[str, Any]  # source, network, readout, target: the request's, with the axes' values set
    network: int  # index of its source network, in plan order
    family: int  # index of its family (groups sharing spectra), in plan order
    cells: list[tuple[int, int, float]]  # (x_index, y_index, alpha)

    @property
    def alphas(self) -> list[float]:
        return sorted({alpha for _, _, alpha in self.cells})


@dataclass(frozen=True)
class Curve:
    """A group's theory (or a block of at most ``MAX_ALPHAS`` of its alphas)."""

    request: LearningCurveRequest
    cells: tuple[tuple[int, int, int], ...]  # (x_index, y_index, alpha index in the curve)
    group: int  # index of its group, in plan order
    family: int
    network: int


@dataclass(frozen=True)
class Part:
    kind: str  # "learning_curve" (one curve) or "diagram_tile" (several)
    request: LearningCurveRequest | DiagramTileRequest
    role: str  # "theory" or "simulation"
    cells: tuple[Cell, ...]
    networks: tuple[int, ...]  # indices in Plan.networks of the network jobs it waits for
    after: int | None = None  # index of a part it waits for (whose spectra it reuses)

    @property
    def curves(self) -> list[LearningCurveRequest]:
        """The learning curves it computes (a tile's, or its own request)."""
        return self.request.curves if isinstance(self.request, DiagramTileRequest) else [self.request]


@dataclass(frozen=True)
class Plan:
    networks: tuple[SourceNetworkRequest, ...]  # the source networks trained by a job of their own
    parts: tuple[Part, ...]
    n_cells: int


class InvalidCell(ValueError):
    """A cell whose combination of axis values and fixed parameters is not a valid learning curve."""


def _where(request: PhaseDiagramRequest, xi: int, yi: int) -> str:
    return f"{request.x_axis.name.value}={request.x_axis.values[xi]:g}, {request.y_axis.name.value}={request.y_axis.values[yi]:g}"


def _curve(request: PhaseDiagramRequest, group: Group, alphas: list[float], protocols: list,
           simulation: Any) -> LearningCurveRequest:
    """The group's learning curve over ``alphas``; InvalidCell naming the first cell that is not a valid
    request (checked one by one only when the curve is not: one validation per curve otherwise)."""
    try:
        return LearningCurveRequest(**group.sections, alphas=alphas, protocols=protocols, theory=request.theory,
                                    simulation=simulation, tuning=request.tuning)
    except ValidationError as exc:
        for xi, yi, alpha in group.cells:
            if alpha in alphas:
                try:
                    LearningCurveRequest(**group.sections, alphas=[alpha], protocols=protocols, theory=request.theory,
                                         simulation=simulation)
                except ValidationError as cell_exc:
                    raise InvalidCell(f"cell {_where(request, xi, yi)}: {cell_exc.errors()[0]['msg']}") from None
        xi, yi, _ = group.cells[0]  # no single cell fails: the rule spans the curve's alphas
        raise InvalidCell(f"cells from {_where(request, xi, yi)}: {exc.errors()[0]['msg']}") from None


def _groups(request: PhaseDiagramRequest) -> list[Group]:
    """Cells grouped by everything but alpha, ordered so that a network's groups are contiguous, and
    within them a family's (stable: otherwise in the order of the cells, rows first). Two values of an
    axis always set its field apart (they differ), so the groups, families and networks are told apart
    by the indices of the axes over their sections, without comparing the sections themselves."""
    x_field, y_field = AXES[request.x_axis.name], AXES[request.y_axis.name]

    def key(xi: int, yi: int, sections: tuple[str, ...], free: set = frozenset()) -> tuple[int | None, int | None]:
        return (xi if x_field.section in sections and (x_field.section, x_field.field) not in free else None,
                yi if y_field.section in sections and (y_field.section, y_field.field) not in free else None)

    fixed = {"source": request.source, "target": request.target, "network": request.network, "readout": request.readout}

    def setting(field, values: list[float], base: dict[str, Any], index: int) -> dict[str, Any]:
        """``base`` with the axis's value at ``index`` set (alpha is not in a section)."""
        if field.section is None:
            return base
        return {**base, field.section: base[field.section].model_copy(update={field.field: field.cast(values[index])})}

    x_set = [setting(x_field, request.x_axis.values, fixed, xi) for xi in range(len(request.x_axis.values))]
    groups: dict[tuple, Group] = {}
    networks: dict[tuple, int] = {}
    families: dict[tuple, int] = {}
    for yi in range(len(request.y_axis.values)):
        for xi in range(len(request.x_axis.values)):
            if x_field.section is None:
                alpha = float(request.x_axis.values[xi])
            elif y_field.section is None:
                alpha = float(request.y_axis.values[yi])
            else:
                alpha = request.alpha
            group = groups.get(key(xi, yi, GROUP_SECTIONS))
            if group is None:
                sections = setting(y_field, request.y_axis.values, x_set[xi], yi)
                network = networks.setdefault(key(xi, yi, NETWORK_SECTIONS), len(networks))
                family = families.setdefault(key(xi, yi, FAMILY_SECTIONS, SPECTRA_FREE), len(families))
                group = groups[key(xi, yi, GROUP_SECTIONS)] = Group(sections, network, family, [])
            group.cells.append((xi, yi, alpha))
    return sorted(groups.values(), key=lambda group: (group.network, group.family))


def blocks(values: list[float], most: int) -> list[list[float]]:
    """``values`` in contiguous blocks of at most ``most``, as even in size as possible."""
    count = math.ceil(len(values) / most)
    size, extra = divmod(len(values), count)
    out, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        out.append(values[start:end])
        start = end
    return out


def _theory_curves(request: PhaseDiagramRequest, groups: list[Group]) -> list[Curve]:
    curves, protocols = [], request.readout_protocols
    for number, group in enumerate(groups):
        for alphas in blocks(group.alphas, MAX_ALPHAS):
            index = {alpha: i for i, alpha in enumerate(alphas)}
            curve = _curve(request, group, alphas, protocols, None)
            curves.append(Curve(curve, tuple((xi, yi, index[a]) for xi, yi, a in group.cells if a in index), number,
                                group.family, group.network))
    return curves


def pack(curves: list[Curve], capacity: int) -> list[list[Curve]]:
    """Curves (a family's contiguous) in tiles of at most ``capacity`` cells where they fit: a family
    that fits one tile is never split; a larger one starts a tile and fills as many as it needs; a
    curve larger than the capacity is a tile alone."""
    family_cells: dict[int, int] = {}
    for curve in curves:
        family_cells[curve.family] = family_cells.get(curve.family, 0) + len(curve.cells)
    tiles: list[list[Curve]] = []
    current: list[Curve] = []
    size = 0
    for position, curve in enumerate(curves):
        first_of_family = position == 0 or curves[position - 1].family != curve.family
        total = family_cells[curve.family]
        if total <= capacity:
            unit = total if first_of_family else 0  # a small family is placed whole, at its first curve
        else:
            unit = len(curve.cells)
        starts_large_family = first_of_family and total > capacity
        if current and (starts_large_family or size + unit > capacity):
            tiles.append(current)
            current, size = [], 0
        current.append(curve)
        size += unit
    if current:
        tiles.append(current)
    return tiles


def plan(request: PhaseDiagramRequest, chunk: int, tiles: int = TILES) -> Plan:
    groups = _groups(request)
    n_cells = len(request.x_axis.values) * len(request.y_axis.values)
    has_theory = request.theory is not None and bool(request.readout_protocols)
    if not (has_theory and request.simulation is None and request.readout_protocols == request.all_protocols):
        # every cell as a learning curve of all the diagram's protocols (else its theory curve is that check)
        protocols = request.all_protocols
        for group in groups:
            for alphas in blocks(group.alphas, MAX_ALPHAS):
                _curve(request, group, alphas, protocols, request.simulation)
    theory = pack(_theory_curves(request, groups), max(1, math.ceil(n_cells / tiles))) if has_theory else []
    users: dict[int, int] = {}  # source network -> how many parts use it
    for tile in theory:
        for network in {curve.network for curve in tile}:
            users[network] = users.get(network, 0) + 1
    theory_of: dict[int, int] = {}  # group -> the tile holding its first curve
    for index, tile in enumerate(theory):
        for curve in tile:
            theory_of.setdefault(curve.group, index)
    simulation: list[tuple[LearningCurveRequest, tuple[Cell, ...], int, int | None]] = []
    if request.simulation is not None:
        for number, group in enumerate(groups):
            alphas = group.alphas
            for start in range(0, len(alphas), chunk):
                block = alphas[start:start + chunk]
                simulated = _curve(request, group, block, request.all_protocols, request.simulation)
                cells = tuple((xi, yi, 0, block.index(a)) for xi, yi, a in group.cells if a in block)
                simulation.append((simulated, cells, group.network, theory_of.get(number)))
                users[group.network] = users.get(group.network, 0) + 1
    # a network used by several parts is trained by a job of their own, which they wait for
    shared = sorted(network for network, count in users.items() if count > 1)
    job_of = {network: index for index, network in enumerate(shared)}
    first_group = {}
    for group in groups:
        first_group.setdefault(group.network, group)
    networks = tuple(SourceNetworkRequest(source=first_group[n].sections["source"], network=first_group[n].sections["network"])
                     for n in shared)
    parts: list[Part] = []
    started: dict[int, int] = {}  # family -> the tile that starts it (builds its spectra)
    for index, tile in enumerate(theory):
        after = None
        for curve in tile:
            first = started.setdefault(curve.family, index)
            if first != index:
                after = first
        cells = tuple((xi, yi, c, a) for c, curve in enumerate(tile) for xi, yi, a in curve.cells)
        waits = tuple(sorted({job_of[curve.network] for curve in tile if curve.network in job_of}))
        if len(tile) == 1:
            parts.append(Part("learning_curve", tile[0].request, "theory", cells, waits, after))
        else:
            tile_request = DiagramTileRequest(curves=[curve.request for curve in tile])
            parts.append(Part("diagram_tile", tile_request, "theory", cells, waits, after))
    for simulated, cells, network, after in simulation:
        parts.append(Part("learning_curve", simulated, "simulation", cells, (job_of[network],) if network in job_of else (),
                          after))
    return Plan(networks, tuple(parts), n_cells)
