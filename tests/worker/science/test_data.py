"""Real data in the engine: the seeded split, standardisation with the source training split's
statistics, the samples a simulation draws, and the least-squares linear teacher."""

import numpy as np
import pytest

from worker.science.data import Dataset, SplitSamples, Standardisation, split
from worker.science.gaussian_equivalent import linear_teacher
from worker.science.invalid_spec import InvalidSpec


def dataset(samples=100, input_dim=6, seed=0) -> Dataset:
    rng = np.random.default_rng(seed)
    inputs = rng.normal(3.0, 2.0, size=(samples, input_dim))
    inputs[:, 0] = 7.0  # a constant feature
    return Dataset(inputs, np.where(rng.random(samples) < 0.4, 1.0, -1.0))


def test_the_split_is_seeded_disjoint_and_complete():
    data = dataset()
    data = Dataset(np.arange(100.0)[:, None] * np.ones((1, 3)), data.labels)  # row i holds i: rows can be traced
    pool, test = split(data, 0.2, seed=4)
    assert (pool.samples, test.samples) == (80, 20)
    rows = np.concatenate([pool.inputs[:, 0], test.inputs[:, 0]])
    assert sorted(rows) == list(range(100))  # every sample once
    again_pool, again_test = split(data, 0.2, seed=4)
    np.testing.assert_array_equal(again_pool.inputs, pool.inputs)
    other_pool, _ = split(data, 0.2, seed=5)
    assert not np.array_equal(other_pool.inputs, pool.inputs)
    np.testing.assert_array_equal(data.labels[pool.inputs[:, 0].astype(int)], pool.labels)  # labels travel along


def test_standardisation_uses_the_source_training_split_for_everything():
    pool, test = split(dataset(), 0.2, seed=0)
    standardise = Standardisation.fit(pool.inputs)
    done = standardise(pool).inputs
    np.testing.assert_allclose(done[:, 1:].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(done[:, 1:].std(axis=0), 1.0, rtol=1e-12)
    assert standardise.constant.tolist() == [True] + [False] * 5
    np.testing.assert_array_equal(done[:, 0], 0.0)  # the constant feature: centred, not scaled
    # another set (the target, the held-out split) goes through the same map, not its own statistics
    other = dataset(seed=1)
    expected = (other.inputs - pool.inputs.mean(axis=0)) / np.where(standardise.constant, 1.0, pool.inputs.std(axis=0))
    np.testing.assert_allclose(standardise(other).inputs, expected, rtol=1e-14)


def test_simulation_samples_are_nested_in_n_and_tested_on_the_held_out_split():
    pool, test = split(dataset(), 0.25, seed=0)
    samples = SplitSamples(pool, test, test_samples=10)
    small, _ = samples.training_set(seed=3, n=5)
    large, _ = samples.training_set(seed=3, n=40)
    np.testing.assert_array_equal(large[:5], small)
    assert not np.array_equal(samples.training_set(seed=4, n=5)[0], small)
    np.testing.assert_array_equal(samples.test_set(0)[0], test.inputs[:10])
    np.testing.assert_array_equal(samples.test_set(7)[1], test.labels[:10])
    with pytest.raises(InvalidSpec):
        samples.training_set(seed=0, n=76)


def test_the_linear_teacher_is_the_least_squares_fit_on_centred_inputs():
    data = dataset(samples=300)
    teacher = linear_teacher(data)
    centred = data.inputs - data.inputs.mean(axis=0)
    expected = np.linalg.pinv(centred / np.sqrt(6)) @ data.labels  # minimum norm (a constant feature has no weight)
    np.testing.assert_allclose(teacher.theta, expected, rtol=1e-9, atol=1e-12)
    assert teacher.wrong(data.inputs, data.labels) == np.sum(np.where(centred @ expected >= 0, 1.0, -1.0) != data.labels)


def test_engine_input_is_checked():
    with pytest.raises(InvalidSpec, match="labels must be -1 or"):
        Dataset.checked(np.zeros((3, 2)), np.array([0.0, 1.0, 1.0]))
    with pytest.raises(InvalidSpec, match="NaN"):
        Dataset.checked(np.full((2, 2), np.nan), np.array([1.0, -1.0]))
