"""The finite-size study's analysis: pooling, the power-law fit and the shrink assertion."""

import numpy as np
import pytest

from bench import finite_size as fs
from bench.validation import checks

SIZES = [200, 400, 800, 1600]


def _points(gaps, ses, protocol="rf", activation="erf"):
    return [fs.Pooled(protocol, activation, n, g, s, abs(g), 8) for n, g, s in zip(SIZES, gaps, ses)]


def test_fit_recovers_a_power_law_and_brackets_its_exponent():
    exact = [0.02 * (n / 200) ** -0.8 for n in SIZES]
    law = fs.fit(_points(exact, [1e-4] * 4))
    assert law.gamma == pytest.approx(0.8, abs=0.006) and law(200) == pytest.approx(0.02, rel=0.01)
    assert law.gamma_low <= law.gamma <= law.gamma_high < 1.0
    # a gap gone to zero within noise at the large sizes: steep, and the interval stays above zero
    law = fs.fit(_points([0.005, 0.004, 0.0, 0.0], [5e-4] * 4))
    assert law.gamma > 1 and law.gamma_low > 0
    assert fs.fit(_points([0.001, 0.0, 0.0, 0.0], [0.001] * 4)) is None  # nothing resolved
    assert fs.fit(_points([0.005, 0.004], [5e-4] * 2)) is None  # two sizes


def test_pooled_gap_takes_its_error_from_the_seeds():
    # two cells whose per-seed errors move together (shared samples): the seed spread, not the cells'
    rows = [{"protocol": "tf", "activation": "erf", "n": 200, "theory": 0.2 + shift, "mc_error": 0.0,
             "gap": 0.01 + shift, "per_seed": [0.19 + shift + d for d in (-0.01, 0.0, 0.01)]} for shift in (0.0, 0.01)]
    (point,) = fs.pooled(rows)
    assert point.mean == pytest.approx(0.015) and point.se == pytest.approx(0.01 / np.sqrt(3))
    assert point.largest == pytest.approx(0.02) and point.cells == 2


def test_shrink_check_needs_a_drop_beyond_noise():
    shrinking = [p for a in ("erf", "relu") for pr in ("tf", "rf", "linear")
                 for p in _points([0.006, 0.004, 0.002, 0.001], [3e-4] * 4, pr, a)]
    assert all(ok for _, ok, _ in checks(shrinking))
    flat = _points([0.006, 0.006, 0.0055, 0.0058], [3e-4] * 4)
    results = {what: ok for what, ok, _ in checks(flat)}
    assert results["rf/erf gap shrinks from N=200 to N=1600"] is False
    assert results["rf/erf |gap| at N=800 <= 0.01"] is True
    assert results["mean drop over the series beyond 2 s.e."] is False
