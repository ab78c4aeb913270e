"""Datasets (MODEL.md section 7): uploads, their descriptions, and references to them in requests.

A dataset is a labelled set (inputs n x N, labels +-1) uploaded once (``POST /v1/datasets``) and
known by an id derived from its content. A learning curve uses two, ``{"dataset": ID}`` in place
of the synthetic ``source`` and ``target``. Each reference carries how the set is split: a seeded
share is held out (the source's for the source test error, the target's for the test errors of
every protocol), the rest is the training split. ``held_out`` and ``training_split`` are the one
definition of those sizes, used by the request rules, the budget and the engine alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Callable

from pydantic import BaseModel, Field, ValidationInfo, ValidatorFunctionWrapHandler
from pydantic import Strict as StrictType

from .common import Float, Seed, Strict

#: ids are "ds-" and 40 hex digits of the sha256 of the canonical arrays
DATASET_PREFIX = "ds"
DATASET_ID_PATTERN = r"^ds-[0-9a-f]{40}$"
DatasetId = Annotated[str, StrictType(), Field(pattern=DATASET_ID_PATTERN,
                                               description="A dataset's id, as returned by POST /v1/datasets.")]
TestFraction = Annotated[float, StrictType(), Field(gt=0.0, le=0.9)]


def held_out(samples: int, test_fraction: float) -> int:
    """How many of a dataset's samples are held out for testing: round(fraction x n), at least 1."""
    return max(1, int(round(test_fraction * samples)))


def training_split(samples: int, test_fraction: float) -> int:
    """How many samples remain to train on (may be 0 for a tiny set: the request rules refuse that)."""
    return samples - held_out(samples, test_fraction)


class DatasetSource(Strict):
    """The source task as an uploaded dataset: the network trains on ``network.n_samples`` of its
    training split."""

    dataset: DatasetId
    test_fraction: TestFraction = Field(0.2, description="Share of the source set held out to measure the source "
                                                        "test error (round(fraction x n), at least 1).")
    seed: Seed = Field(0, description="Seeds the split, and the order in which the network's n_s training samples "
                                      "are taken from the training split.")


class DatasetTarget(Strict):
    """The target task as an uploaded dataset: protocols train on n_t = round(alpha N) samples of its
    training split (drawn per simulation seed) and are tested on its held-out split."""

    dataset: DatasetId
    test_fraction: TestFraction = Field(0.2, description="Share of the target set held out as the test set of every "
                                                        "protocol (round(fraction x n), at least 1).")
    seed: Seed = Field(1, description="Seeds the split into training pool and held-out test set.")


class ReadsDatasets:
    """What a request whose ``source`` and ``target`` may be uploaded datasets knows of them (mixed
    into the learning-curve and phase-diagram requests: one definition of the rule and the ids)."""

    def check_both_or_neither(self) -> None:
        if isinstance(self.source, DatasetSource) != isinstance(self.target, DatasetTarget):
            raise ValueError("source and target must both be datasets ({\"dataset\": ID}) or both synthetic")

    @property
    def uses_datasets(self) -> bool:
        return isinstance(self.source, DatasetSource)

    @property
    def dataset_fields(self) -> list[tuple[tuple, str]]:
        """(location, dataset id) of every dataset reference in the request."""
        if not self.uses_datasets:
            return []
        return [(("source", "dataset"), self.source.dataset), (("target", "dataset"), self.target.dataset)]

    @property
    def dataset_ids(self) -> list[str]:
        """The datasets the request reads (source first; one entry when both are the same set)."""
        return list(dict.fromkeys(dataset_id for _, dataset_id in self.dataset_fields))


def by_shape(dataset_model: type[BaseModel], synthetic_model: type[BaseModel]) -> Callable[..., Any]:
    """A wrap validator for ``synthetic | dataset`` fields: an object with a ``dataset`` key is a
    dataset reference, anything else the synthetic model. Errors then name the field as the user
    wrote it (``source.latent_dim``), without a union member's name in between."""

    def validate(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        if isinstance(value, dict):
            model = dataset_model if "dataset" in value else synthetic_model
            return model.model_validate(value)
        return handler(value)

    return validate


class DatasetUpload(Strict):
    """A small dataset sent as JSON (larger ones as an .npz file)."""

    inputs: list[list[Float]] = Field(description="n rows of N numbers.")
    labels: list[Float] = Field(description="n labels, all in {-1, +1} or all in {0, 1} (0 is stored as -1).")


class FeatureSummary(BaseModel):
    min: float
    median: float
    max: float


class DatasetDescription(BaseModel):
    dataset_id: str
    samples: int = Field(description="n")
    input_dim: int = Field(description="N")
    positives: int = Field(description="Samples labelled +1 (0/1 labels: 1).")
    negatives: int = Field(description="Samples labelled -1 (0/1 labels: 0).")
    positive_fraction: float
    feature_mean: FeatureSummary = Field(description="The N per-feature means, summarised.")
    feature_scale: FeatureSummary = Field(description="The N per-feature standard deviations, summarised.")
    constant_features: int = Field(description="Features with zero variance (left unscaled by standardisation).")
    size_bytes: int = Field(description="Bytes stored (inputs as float64, labels as int8).")
    created_at: datetime
    expires_in: int | None = Field(None, description="Seconds before the dataset expires unless used "
                                                     "(each use renews it).")
    links: dict[str, str] = Field(default_factory=dict)


class DatasetPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[DatasetDescription]
