"""A phase diagram's fan-out: its parts submitted over RQ dependencies, from the plan decided once.

The diagram's job is the *assembly*: it depends on its parts (``plan``) with ``allow_failure``, so it
runs once every part has ended and reports failed cells instead of hiding them. Parts already cached
are not queued at all, and a tile computes only its curves not yet stored; a resubmitted diagram
therefore recomputes only what is missing. The plan's record travels in the diagram job's meta
(``"plan"``): part ids, kinds, roles and cells, which the assembly reads instead of planning again.
This module is the phase-diagram kind's ``fan_out`` hook (``tlprobe_server.kinds``); the submission
pipeline calls it under the diagram's lock, after checking that the queue can take every job, and
submits each part through itself (``submit_part``).
"""

from __future__ import annotations

from typing import Any, Callable

from tlprobe.contract.jobs import Submission

from .plan import Plan

#: (kind name, request, the ids of the jobs it waits for) -> its submission
SubmitPart = Callable[[str, Any, list[str]], Submission]


def part_count(layout: Plan) -> int:
    """Jobs a diagram may add besides its own: its source networks and its parts."""
    return len(layout.parts) + len(layout.networks)


def fan_out(submit_part: SubmitPart, layout: Plan) -> tuple[list[str], dict[str, Any]]:
    """Submit the networks and every part (cached ones are not queued). Returns the ids of the parts still
    pending (what the diagram's job depends on) and the diagram job's meta: the plan's record (what the
    assembly reads) and, for its progress, the pending parts with their cells."""
    networks = [submit_part("source_network", network, []) for network in layout.networks]
    part_ids: list[str] = []
    pending: dict[str, int] = {}  # job id -> its cells
    for part in layout.parts:
        depends = [networks[index].job_id for index in part.networks if not networks[index].cached]
        if part.after is not None and part_ids[part.after] in pending:
            depends.append(part_ids[part.after])
        sub = submit_part(part.kind, part.request, depends)
        part_ids.append(sub.job_id)
        if not sub.cached:
            pending[sub.job_id] = len(part.cells)
    record = {"networks": [network.job_id for network in networks], "cells": layout.n_cells,
              "parts": [{"job_id": job_id, "kind": part.kind, "role": part.role,
                         "cells": [list(cell) for cell in part.cells]}
                        for job_id, part in zip(part_ids, layout.parts)]}
    # progress counts cell computations: a cell with a theory and a simulation part counts twice
    meta = {"parts": [[job_id, cells] for job_id, cells in pending.items()],
            "cells": sum(len(part.cells) for part in layout.parts), "plan": record}
    return list(pending), meta
