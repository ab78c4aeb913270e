"""The regimes study (bench/validation_regimes.py): docs/validation.md shows its cache as the study renders
it, docs/findings.md quotes the gaps it measures, and its statistics separate what they claim to."""

from pathlib import Path

import numpy as np
import pytest

from bench import finite_size as fs
from bench import validation_regimes as vr

ROOT = Path(__file__).resolve().parents[2]


def test_the_page_shows_the_cached_study_as_rendered():
    section = "\n".join(vr.render(ROOT / vr.DATA))
    page = (ROOT / "docs" / "validation.md").read_text()
    assert section in page, "docs/validation.md is stale: run `python -m bench.validation`"
    assert "- FAIL" not in section


def test_findings_quote_the_measured_gaps():
    findings = (ROOT / "docs" / "findings.md").read_text()
    missing = {name: text for name, text in vr.quoted(ROOT / vr.DATA).items() if text not in findings}
    assert not missing, f"docs/findings.md does not quote: {missing}"


def _point(gap, se):
    return fs.Pooled("tf", "-", 200, gap, se, abs(gap), 8)


def test_a_stated_limit_holds_only_while_the_gap_stays_beyond_the_default():
    base = _point(0.005, 0.001)
    near, far = _point(0.007, 0.001), _point(0.015, 0.001)  # allowed: 3 x sqrt(2) x 0.001 = 0.0042
    assert vr.agreement(near, base, limit=False)[0] and not vr.agreement(far, base, limit=False)[0]
    assert vr.agreement(far, base, limit=True)[0] and not vr.agreement(near, base, limit=True)[0]


def test_instance_spread_is_measured_against_the_seeds():
    same = vr.spread([_point(0.005, 0.001)] * 6, seeds=16)
    assert same.chi2 == 0.0 and same.between == 0.0 and same.seed_sd == pytest.approx(0.004)
    # six instances one standard error either side of their mean: chi^2 = 6 on 5 dof, nothing to speak of
    alike = vr.spread([_point(0.005 + d, 0.001) for d in (-0.001, 0.001) * 3], seeds=16)
    assert alike.chi2 == pytest.approx(6.0) and alike.dof == 5 and alike.p_value > 0.3
    assert alike.mean == pytest.approx(0.005) and alike.between < 0.0005
    # instances 0.004 apart with errors of 0.001: chi^2 far beyond its dof, a spread between instances left
    apart = vr.spread([_point(g, 0.001) for g in (0.001, 0.005, 0.009) * 2], seeds=16)
    assert apart.chi2 == pytest.approx(64.0) and apart.p_value < 1e-6
    assert apart.between == pytest.approx(np.sqrt(apart.sd**2 - 0.001**2)) and apart.between > 0.003
