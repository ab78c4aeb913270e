"""Dataset references in a learning-curve request: the shape picks synthetic or dataset, and the
rules a request must meet against its datasets' descriptions name the field and the bound."""

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from tlprobe.contract.datasets import DatasetDescription, DatasetSource, DatasetTarget, held_out, training_split
from tlprobe.contract.learning_curve import LearningCurveRequest, SourceParams

SOURCE, TARGET = "ds-" + "1" * 40, "ds-" + "2" * 40


def described(dataset_id: str, samples: int, input_dim: int) -> DatasetDescription:
    summary = {"min": 0.0, "median": 0.0, "max": 0.0}
    return DatasetDescription(dataset_id=dataset_id, samples=samples, input_dim=input_dim, positives=samples // 2,
                              negatives=samples - samples // 2, positive_fraction=0.5, feature_mean=summary,
                              feature_scale=summary, constant_features=0, size_bytes=8 * samples * input_dim,
                              created_at=datetime.now(timezone.utc))


def on_datasets(**changes) -> LearningCurveRequest:
    body = {"source": {"dataset": SOURCE}, "target": {"dataset": TARGET}, "network": {"n_samples": 100}}
    body.update(changes)
    return LearningCurveRequest.model_validate(body)


def test_the_shape_of_source_and_target_picks_the_model():
    request = on_datasets()
    assert isinstance(request.source, DatasetSource) and isinstance(request.target, DatasetTarget)
    assert request.uses_datasets and request.dataset_ids == [SOURCE, TARGET]
    assert (request.source.test_fraction, request.source.seed, request.target.test_fraction, request.target.seed) == (
        0.2, 0, 0.2, 1)
    synthetic = LearningCurveRequest.model_validate({"source": {"latent_dim": 7}})
    assert isinstance(synthetic.source, SourceParams) and not synthetic.uses_datasets and synthetic.dataset_ids == []
    # one set as both source and target is one dataset to read
    assert on_datasets(target={"dataset": SOURCE}).dataset_ids == [SOURCE]


@pytest.mark.parametrize("body, location, words", [
    ({"source": {"dataset": SOURCE}}, (), "both be datasets"),
    ({"target": {"dataset": TARGET}}, (), "both be datasets"),
    ({"source": {"dataset": "ds-123"}, "target": {"dataset": TARGET}}, ("source", "dataset"), "pattern"),
    ({"source": {"dataset": SOURCE, "latent_dim": 5}, "target": {"dataset": TARGET}}, ("source", "latent_dim"), "Extra"),
    ({"source": {"dataset": SOURCE}, "target": {"dataset": TARGET, "test_fraction": 0}}, ("target", "test_fraction"),
     "greater than 0"),
    ({"source": {"dataset": SOURCE, "test_fraction": 0.95}, "target": {"dataset": TARGET}}, ("source", "test_fraction"),
     "less than or equal to 0.9"),
    ({"source": {"latent_dim": 0}}, ("source", "latent_dim"), "greater than or equal to 1"),
])
def test_invalid_references_are_named(body, location, words):
    with pytest.raises(ValidationError) as info:
        LearningCurveRequest.model_validate(body)
    assert any(tuple(e["loc"])[:len(location)] == location and words in e["msg"] for e in info.value.errors()), \
        info.value.errors()


def test_split_sizes():
    assert held_out(898, 0.2) == 180 and training_split(898, 0.2) == 718
    assert held_out(3, 0.01) == 1 and training_split(2, 0.9) == 0


def test_a_request_within_its_datasets_has_no_problems():
    assert on_datasets(alphas=[0.5, 11.2]).dataset_problems({SOURCE: described(SOURCE, 899, 64),
                                                             TARGET: described(TARGET, 898, 64)}) == []


def test_problems_name_the_field_and_the_bound():
    datasets = {SOURCE: described(SOURCE, 899, 64), TARGET: described(TARGET, 898, 64)}
    request = on_datasets(network={"n_samples": 720}, alphas=[1.0, 11.3, 64.0])
    problems = dict(request.dataset_problems(datasets))
    assert problems.keys() == {("network", "n_samples"), ("alphas", 1), ("alphas", 2)}
    assert "exceeds the 719 samples of the training split of source dataset" in problems[("network", "n_samples")]
    # 718 training samples for N = 64: n_t = round(11.3 x 64) = 723 is too many; the largest alpha is 718 / 64
    assert "the largest possible alpha is 11.2188 (= 718 / N, N = 64)" in problems[("alphas", 1)]
    mismatch = {SOURCE: described(SOURCE, 899, 64), TARGET: described(TARGET, 898, 65)}
    problems = dict(on_datasets().dataset_problems(mismatch))
    assert "N = 65 inputs but source dataset" in problems[("target", "dataset")]
    tiny = {SOURCE: described(SOURCE, 899, 64), TARGET: described(TARGET, 2, 64)}
    problems = dict(on_datasets(target={"dataset": TARGET, "test_fraction": 0.9}).dataset_problems(tiny))
    assert "leaves none to train on" in problems[("target", "test_fraction")]
