"""POST /v1/batches: many requests of any batchable kinds at once, and the batch's view.

A batch item is ``{"kind": NAME, "request": {...}}``; its schema is made from the kind registry
(``tlprobe.kinds``): one item model per batchable kind (``LearningCurveItem``, ``GCMItem``, ...),
discriminated by ``kind``. A request that is valid as ``{}`` may be omitted from its item.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, ValidationError, create_model

from ..kinds import KINDS, Kind
from .common import Strict
from .jobs import JobStatus

MAX_BATCH = 100


def _item(kind: Kind) -> type[Strict]:
    try:
        default: Any = kind.request.model_validate({})  # every field defaulted: the request may be left out
    except ValidationError:
        default = ...
    return create_model(kind.item_name, __base__=Strict, __module__=__name__,
                        kind=(Literal[kind.name], ...), request=(kind.request, default))


ITEMS: dict[str, type[Strict]] = {kind.name: _item(kind) for kind in KINDS.values() if kind.batchable}
globals().update({model.__name__: model for model in ITEMS.values()})  # importable by name, e.g. LearningCurveItem
BatchItem = Annotated[Union[tuple(ITEMS.values())], Field(discriminator="kind")]


class BatchRequest(Strict):
    requests: list[BatchItem] = Field(min_length=1, max_length=MAX_BATCH, description=f"At most {MAX_BATCH} requests.")


class BatchJob(BaseModel):
    job_id: str
    kind: str
    status: JobStatus


class BatchView(BaseModel):
    batch_id: str
    counts: dict[JobStatus, int]
    jobs: list[BatchJob]
