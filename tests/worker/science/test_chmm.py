"""The correlated hidden manifold model: knobs, their order, seeds and sampling."""

import numpy as np
import pytest
from pydantic import ValidationError

from tlprobe.contract.learning_curve import LearningCurveRequest, SourceParams, TargetParams
from worker.science.chmm import make_source, make_target
from worker.science.invalid_spec import InvalidSpec

SOURCE = SourceParams(latent_dim=120, input_dim=300, seed=3)


def _cosine(a, b):
    return float(np.vdot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))


def test_source_is_deterministic_and_seeded():
    a, b = make_source(SOURCE), make_source(SOURCE)
    np.testing.assert_array_equal(a.features, b.features)
    np.testing.assert_array_equal(a.teacher, b.teacher)
    other = make_source(SourceParams(latent_dim=120, input_dim=300, seed=4))
    assert not np.array_equal(a.features, other.features)
    assert a.features.shape == (120, 300) and a.teacher.shape == (120,)


def test_all_knobs_zero_is_the_source_task():
    source = make_source(SOURCE)
    target = make_target(source, TargetParams(seed=9))
    np.testing.assert_array_equal(target.features, source.features)
    np.testing.assert_array_equal(target.teacher, source.teacher)


def test_feature_noise_sets_the_feature_correlation():
    # cos(F_s, F_t) = sqrt(1 - eps) up to O(1/sqrt(D N)) fluctuations (D N = 36000: sd ~ 0.005)
    source = make_source(SOURCE)
    for eps in (0.0, 0.3, 0.7, 1.0):
        target = make_target(source, TargetParams(feature_noise=eps))
        assert _cosine(source.features, target.features) == pytest.approx(np.sqrt(1 - eps), abs=0.03)
        np.testing.assert_array_equal(target.teacher, source.teacher)


def test_teacher_noise_sets_the_teacher_overlap():
    # overlap sqrt(1 - delta) in the large-D limit; the sd of the overlap is ~ 1/sqrt(D): at D = 4000 (beyond
    # the service's bound on D, which the engine does not need) 0.016, so 0.05 is three of them
    source = make_source(SourceParams.model_construct(latent_dim=4000, input_dim=2, seed=1))
    for delta in (0.1, 0.5, 0.9):
        target = make_target(source, TargetParams(teacher_noise=delta))
        assert _cosine(source.teacher, target.teacher) == pytest.approx(np.sqrt(1 - delta), abs=0.05)
        np.testing.assert_array_equal(target.features, source.features)


def test_feature_substitution_replaces_that_fraction_of_rows():
    source = make_source(SOURCE)
    for fraction in (0.0, 0.25, 0.5, 1.0):
        target = make_target(source, TargetParams(feature_substitution=fraction))
        changed = np.any(target.features != source.features, axis=1)
        assert changed.sum() == round(fraction * 120)
    # nested: a larger fraction substitutes a superset of rows, with the same fresh values
    small = make_target(source, TargetParams(feature_substitution=0.25))
    large = make_target(source, TargetParams(feature_substitution=0.5))
    changed_small = np.any(small.features != source.features, axis=1)
    np.testing.assert_array_equal(large.features[changed_small], small.features[changed_small])


def test_latent_change_grows_or_shrinks_the_latent_space():
    source = make_source(SOURCE)
    bigger = make_target(source, TargetParams(latent_change=30))
    assert bigger.features.shape == (150, 300) and bigger.teacher.shape == (150,)
    np.testing.assert_array_equal(bigger.features[:120], source.features)
    np.testing.assert_array_equal(bigger.teacher[:120], source.teacher)
    smaller = make_target(source, TargetParams(latent_change=-20))
    np.testing.assert_array_equal(smaller.features, source.features[:100])
    np.testing.assert_array_equal(smaller.teacher, source.teacher[:100])


def test_tasks_are_nested_in_the_latent_dimension():
    # the task with D coordinates is the first D coordinates of the task with more, same seed; and
    # the first N inputs of a coordinate's row do not depend on N
    small, large = make_source(SourceParams(latent_dim=25, input_dim=80, seed=7)), make_source(
        SourceParams(latent_dim=50, input_dim=120, seed=7))
    np.testing.assert_array_equal(large.features[:25, :80], small.features)
    np.testing.assert_array_equal(large.teacher[:25], small.teacher)
    # so complex -> simple and simple -> complex are one pair of tasks with the roles swapped
    simple, complex_ = (make_source(SourceParams(latent_dim=d, input_dim=120, seed=7)) for d in (25, 50))
    to_simple = make_target(complex_, TargetParams(latent_change=-25, seed=99))
    to_complex = make_target(simple, TargetParams(latent_change=25, seed=99))
    for made, expected in ((to_simple, simple), (to_complex, complex_)):
        np.testing.assert_array_equal(made.features, expected.features)
        np.testing.assert_array_equal(made.teacher, expected.teacher)
    # each coordinate is a fresh N(0, 1) draw: rows are uncorrelated and unit-variance (sd of the mean
    # of 50 x 120 entries is 0.013, of their variance 0.018)
    assert abs(large.features.mean()) < 0.05 and large.features.var() == pytest.approx(1.0, abs=0.06)
    assert abs(_cosine(large.features[0], large.features[1])) < 0.35  # sd 1/sqrt(120) = 0.09


def test_knobs_compose_in_the_documented_order():
    source = make_source(SOURCE)
    spec = TargetParams(latent_change=-20, feature_substitution=0.5, feature_noise=0.4, teacher_noise=0.2, seed=5)
    target = make_target(source, spec)
    substituted = make_target(source, TargetParams(latent_change=-20, feature_substitution=0.5, seed=5))
    noise = (target.features - np.sqrt(0.6) * substituted.features) / np.sqrt(0.4)
    # what remains after removing the substituted features is the fresh N(0, 1) noise G
    assert noise.std() == pytest.approx(1.0, abs=0.02)
    assert abs(_cosine(noise, substituted.features)) < 0.02
    assert target.teacher.shape == (100,)


def test_a_latent_change_that_empties_the_space_is_refused():
    with pytest.raises(ValidationError, match="target.latent_change"):
        LearningCurveRequest(source=SourceParams(latent_dim=10), target=TargetParams(latent_change=-10))
    with pytest.raises(InvalidSpec, match="target.latent_change"):
        make_target(make_source(SourceParams(latent_dim=10)), TargetParams(latent_change=-12))


def test_chunked_sampling_equals_one_draw():
    task = make_source(SOURCE)
    c, x, y = task.sample(1000, np.random.default_rng(7))
    chunks = list(task.sample_chunks(1000, np.random.default_rng(7), chunk_size=128))
    np.testing.assert_array_equal(np.concatenate([ch[0] for ch in chunks]), c)
    # x differs only by GEMM rounding (blocking depends on the chunk size)
    np.testing.assert_allclose(np.concatenate([ch[1] for ch in chunks]), x, rtol=0, atol=1e-13)
    np.testing.assert_array_equal(np.concatenate([ch[2] for ch in chunks]), y)


def test_samples_follow_the_model():
    task = make_source(SOURCE)
    c, x, y = task.sample(20000, np.random.default_rng(0))
    np.testing.assert_array_equal(y, np.sign(c @ task.teacher))
    np.testing.assert_allclose(x, __import__("scipy").special.erf(c @ task.features / np.sqrt(120)))
    assert abs(y.mean()) < 4 / np.sqrt(20000)  # balanced labels: sd of the mean is 1/sqrt(n)


def test_label_noise_flips_each_label_with_its_probability_from_its_own_stream():
    spec = SourceParams(latent_dim=20, input_dim=30, seed=3)
    clean, noisy = make_source(spec), make_source(spec.model_copy(update={"label_noise": 0.2}))
    n = 40_000
    c0, x0, y0 = clean.sample(n, np.random.default_rng(5), np.random.default_rng(6))
    c1, x1, y1 = noisy.sample(n, np.random.default_rng(5), np.random.default_rng(6))
    np.testing.assert_array_equal(c1, c0)  # latents and inputs do not depend on p
    np.testing.assert_array_equal(x1, x0)
    np.testing.assert_array_equal(y0, clean.labels(c0))  # p = 0: the teacher's labels, nothing drawn
    flipped = y1 != y0
    # binomial: sd of the rate is sqrt(0.16 / n) = 0.002; flips independent of the label
    assert abs(flipped.mean() - 0.2) < 4 * np.sqrt(0.16 / n)
    assert abs(flipped[y0 > 0].mean() - flipped[y0 < 0].mean()) < 4 * np.sqrt(0.16 / (n / 4))
    # a larger p flips a superset; chunks equal one draw; no flips generator: the clean labels
    more = make_source(spec.model_copy(update={"label_noise": 0.4}))
    _, _, y2 = more.sample(n, np.random.default_rng(5), np.random.default_rng(6))
    assert np.all((y2 != y0)[flipped])
    chunks = list(noisy.sample_chunks(n, np.random.default_rng(5), chunk_size=999, flips=np.random.default_rng(6)))
    np.testing.assert_array_equal(np.concatenate([ch[2] for ch in chunks]), y1)
    np.testing.assert_array_equal(noisy.sample(100, np.random.default_rng(5))[2], y0[:100])


def test_the_target_has_its_own_label_noise():
    source = make_source(SourceParams(latent_dim=10, input_dim=20, label_noise=0.3))
    assert make_target(source, TargetParams()).label_noise == 0.0
    assert make_target(source, TargetParams(label_noise=0.1)).label_noise == 0.1
    with pytest.raises(ValidationError, match="less than 0.5"):
        TargetParams(label_noise=0.5)
