"""The finite-size study's analysis: pooling, the power-law fit and the shrink assertion."""

import numpy as np
import pytest

from bench import finite_size as fs
from bench.validation import checks


def _points(gaps, ses, protocol="rf", activation="erf"):
    return [fs.Pooled(protocol, activation, n, g, s, abs(g), 8) for n, g, s in zip(fs.SIZES, gaps, ses)]


def test_fit_recovers_a_power_law_and_skips_unresolved_points():
    exact = [0.02 * (n / 200) ** -0.8 for n in fs.SIZES]
    law = fs.fit(_points(exact, [1e-4] * 4))
    assert law.gamma == pytest.approx(0.8, abs=1e-9) and law.c * 200**-0.8 == pytest.approx(0.02)
    # the last point is within 2 s.e. of zero: it does not enter the fit
    law = fs.fit(_points(exact[:3] + [0.0005], [1e-4, 1e-4, 1e-4, 1e-3]))
    assert law.gamma == pytest.approx(0.8, abs=1e-9)
    assert fs.fit(_points([0.001, 0.0, 0.0, 0.0], [0.001] * 4)) is None


def test_pooled_gap_and_its_standard_error():
    rows = [{"protocol": "tf", "activation": "erf", "n": 200, "gap": g, "sem": 0.003, "mc_error": 0.004}
            for g in (0.01, 0.02)]
    (point,) = fs.pooled(rows)
    assert point.mean == pytest.approx(0.015) and point.se == pytest.approx(np.sqrt(2 * 0.005**2) / 2)
    assert point.largest == pytest.approx(0.02) and point.cells == 2


def test_shrink_check_needs_a_drop_beyond_noise():
    shrinking = [p for a in ("erf", "relu") for pr in ("tf", "rf", "linear")
                 for p in _points([0.006, 0.004, 0.002, 0.001], [3e-4] * 4, pr, a)]
    assert all(ok for _, ok, _ in checks(shrinking))
    flat = _points([0.006, 0.006, 0.0055, 0.0058], [3e-4] * 4)
    results = {what: ok for what, ok, _ in checks(flat)}
    assert results["rf/erf gap shrinks from N=200 to N=1600"] is False
    assert results["rf/erf |gap| at N=800 <= 0.01"] is True
