"""A diagram tile's request: theory-only learning curves; the datasets they read, located per curve."""

import pytest
from pydantic import ValidationError

from tlprobe.contract.diagram_tile import DiagramTileRequest

DATASET = "ds-" + "a" * 40


def test_a_tile_holds_theory_only_curves():
    DiagramTileRequest.model_validate({"curves": [{"alphas": [1.0], "simulation": None}]})
    with pytest.raises(ValidationError, match="curves\\[1\\]: a tile holds theory-only curves"):
        DiagramTileRequest.model_validate({"curves": [{"alphas": [1.0], "simulation": None}, {"alphas": [2.0]}]})
    with pytest.raises(ValidationError):
        DiagramTileRequest.model_validate({"curves": []})


def test_the_datasets_a_tile_reads_are_located_at_their_curve():
    on_data = {"source": {"dataset": DATASET}, "target": {"dataset": DATASET}, "alphas": [1.0], "simulation": None}
    tile = DiagramTileRequest.model_validate({"curves": [{"alphas": [1.0], "simulation": None}, on_data]})
    assert tile.dataset_fields == [(("curves", 1, "source", "dataset"), DATASET), (("curves", 1, "target", "dataset"), DATASET)]
