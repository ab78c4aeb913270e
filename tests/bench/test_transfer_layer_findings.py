"""docs/findings.md section 7 quotes the numbers of bench/transfer_layer.py's cache, and those are the
cache's own cells (``quoted`` recomputed from them)."""

import json
from pathlib import Path

from bench.transfer_layer import FINDINGS, quoted

ROOT = Path(__file__).resolve().parents[2]


def test_the_page_quotes_the_layer_study_it_shows():
    data = json.loads((ROOT / FINDINGS).read_text())
    assert data["quoted"] == quoted(data)
    section = (ROOT / "docs" / "findings.md").read_text().split("## 7. Which layer to transfer?")[1]
    missing = {name: text for name, text in data["quoted"].items() if text not in section}
    assert not missing, f"section 7 does not quote: {missing}"
