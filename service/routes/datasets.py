"""Datasets as a resource: upload (.npz or JSON), describe, list, delete (MODEL.md section 7)."""

from __future__ import annotations

import re

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError

from tlprobe.contract.common import MAX_OFFSET
from tlprobe.contract.datasets import DATASET_ID_PATTERN, DatasetDescription, DatasetPage, DatasetUpload
from tlprobe_server import dataset_store
from tlprobe_server.redis_memory import RedisFull
from tlprobe_server.replication import NotReplicated
from tlprobe_server.settings import Settings

from .. import access
from ..access import ReadAccess, WriteAccess
from ..deps import RedisDep, SettingsDep
from ..upload_memory import MemoryBusy, NeverFits, UploadMemory

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])
NOT_FOUND = {404: {"description": "No such dataset (never uploaded, deleted, or expired)."}}
DatasetIdPath = Path(description="The dataset's id (ds-...).")
UPLOAD_BODY = {
    "required": True,
    "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"},
                                     "example": "(the bytes of numpy.savez(file, inputs=X, labels=y))"},
        "application/json": {"schema": DatasetUpload.model_json_schema()},
    },
}


def _store(plan, redis, settings: Settings) -> tuple[DatasetDescription, bool]:
    from ..uploads import UploadRefused, read_upload

    dataset = None
    try:
        dataset = read_upload(plan, settings)
        return dataset_store.put(redis, settings, dataset.description, dataset.arrays)
    except (UploadRefused, dataset_store.StorageFull, RedisError, RedisFull, NotReplicated) as exc:
        # the frames that raised it hold the decoded arrays: let them go now, before their memory is
        # given back to the other uploads, not when the answer has been sent
        dataset = exc.__traceback__ = exc.__context__ = None
        raise exc


@router.post("", name="upload_dataset", status_code=201, response_model=DatasetDescription,
             openapi_extra={"requestBody": UPLOAD_BODY},
             responses={200: {"model": DatasetDescription, "description": "That content is already stored: its "
                                                                          "description (its lifetime is renewed)."},
                        401: {"description": "A bearer token is required (when the service is configured with tokens)."},
                        413: {"description": "The body is larger than TLPROBE_MAX_DATASET_UPLOAD_BYTES (a JSON body: "
                                             "TLPROBE_MAX_BODY_BYTES), the dataset larger than TLPROBE_MAX_DATASET_BYTES, "
                                             "or storing it would exceed TLPROBE_MAX_DATASETS_BYTES in total, or "
                                             "decoding it would take more memory than TLPROBE_MAX_UPLOAD_MEMORY_BYTES."},
                        415: {"description": "Neither application/octet-stream (.npz) nor application/json."},
                        422: {"description": "The content is refused: each error names the array and the reason "
                                             "(missing array, shape, dtype, non-finite value, a single class, "
                                             "object arrays or pickles, a malformed file, n or N over its bound)."},
                        429: {"description": "Too many writes for this token in this minute (see Retry-After)."},
                        503: {"description": "Redis unreachable or full, the upload not yet on "
                                             "TLPROBE_REDIS_MIN_REPLICAS replicas (send it again: a 200 then), or the "
                                             "uploads being decoded in this API process hold the memory they may "
                                             "(TLPROBE_MAX_UPLOAD_MEMORY_BYTES): retry after Retry-After."}})
async def upload_dataset(request: Request, response: Response, redis: RedisDep, settings: SettingsDep,
                         token: WriteAccess) -> DatasetDescription:
    """Upload a labelled dataset: an `.npz` file with arrays `inputs` (n x N numbers) and `labels` (n
    values, all in {-1, +1} or all in {0, 1}) sent as `application/octet-stream`, or for small sets
    JSON `{"inputs": [[...], ...], "labels": [...]}`.

    The id is derived from the content (inputs as float64, labels as +-1), so the same data is stored
    once however often, and in whatever encoding, it is sent: `201` when stored now, `200` when it
    already was. Arrays are never unpickled."""
    from ..uploads import UploadRefused, plan_upload  # numpy: loaded on the first upload, never at start-up

    body = await request.body()
    await run_in_threadpool(access.charge, redis, settings, token)
    memory: UploadMemory = request.app.state.upload_memory
    try:
        plan = await run_in_threadpool(plan_upload, body, request.headers.get("content-type", ""), settings)
        with memory.hold(plan.memory_bytes):  # from the declared shapes, before anything is decoded
            description, created = await run_in_threadpool(_store, plan, redis, settings)
    except UploadRefused as exc:
        if exc.status == 422:
            raise RequestValidationError([{"type": "dataset", "loc": exc.loc, "msg": exc.reason, "input": None}]) from None
        return JSONResponse({"detail": exc.reason}, status_code=exc.status)
    except MemoryBusy as exc:
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": str(MemoryBusy.RETRY_AFTER)})
    except (NeverFits, dataset_store.StorageFull) as exc:
        return JSONResponse({"detail": str(exc)}, status_code=413)
    response.status_code = 201 if created else 200
    return description


@router.get("", name="list_datasets", response_model=DatasetPage)
def list_datasets(redis: RedisDep, _: ReadAccess, offset: int = Query(0, ge=0, le=MAX_OFFSET),
                  limit: int = Query(20, ge=1, le=100)) -> DatasetPage:
    """The stored datasets, newest first, paginated."""
    return dataset_store.page(redis, offset, limit)


@router.get("/{dataset_id}", name="get_dataset", response_model=DatasetDescription, responses=NOT_FOUND)
def get_dataset(redis: RedisDep, _: ReadAccess, dataset_id: str = DatasetIdPath) -> DatasetDescription | JSONResponse:
    """A dataset's description: size, class balance, per-feature mean and scale summary, lifetime."""
    description = dataset_store.describe(redis, dataset_id) if _well_formed(dataset_id) else None
    if description is None:
        return JSONResponse({"detail": f"no such dataset: {dataset_id}"}, status_code=404)
    return description


@router.delete("/{dataset_id}", name="delete_dataset", status_code=204, response_class=Response,
               responses={**NOT_FOUND, 409: {"description": "A queued or running job reads the dataset: the reason "
                                                            "names the jobs."}})
def delete_dataset(redis: RedisDep, _: WriteAccess, dataset_id: str = DatasetIdPath) -> Response:
    """Delete a dataset. Refused with 409 while a queued or running job reads it. Results computed
    from it stay cached."""
    try:
        if not _well_formed(dataset_id):
            raise dataset_store.DatasetMissing(dataset_id)
        dataset_store.delete(redis, dataset_id)
    except dataset_store.DatasetMissing:
        return JSONResponse({"detail": f"no such dataset: {dataset_id}"}, status_code=404)
    except dataset_store.DatasetInUse as exc:
        return JSONResponse({"detail": str(exc)}, status_code=409)
    return Response(status_code=204)


def _well_formed(dataset_id: str) -> bool:
    return re.fullmatch(DATASET_ID_PATTERN, dataset_id) is not None
