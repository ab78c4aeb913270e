"""The catalogue of computed diagrams: filters, ranges, pagination, expiry."""

import time

from tlprobe.contract.phase_diagram import PhaseDiagramRequest
from tlprobe_server.diagrams.catalogue import add_to_catalogue, catalogue_entry, list_catalogue, parse_range


def request(**changes) -> PhaseDiagramRequest:
    return PhaseDiagramRequest.model_validate(changes)


def test_catalogue_filters_and_paginates(redis):
    diagrams = [request(y_axis={"name": "feature_noise", "values": [0.0, 0.5]}, source={"input_dim": 100}),
                request(y_axis={"name": "teacher_noise", "values": [0.0, 0.5]}, source={"input_dim": 300}),
                request(x_axis={"name": "feature_noise", "values": [0.0, 1.0]}, y_axis={"name": "teacher_noise",
                        "values": [0.0]}, baseline="linear", source={"input_dim": 300})]
    for i, diagram in enumerate(diagrams):
        add_to_catalogue(redis, catalogue_entry(f"pd-{i}", diagram, complete=i != 1, computed_at="now"), 100,
                         time.time() + i)
    ids = lambda **kw: [e.diagram_id for e in list_catalogue(redis, **kw).items]  # noqa: E731
    assert ids() == ["pd-2", "pd-1", "pd-0"]  # newest first
    assert ids(y_axis="teacher_noise") == ["pd-2", "pd-1"]
    assert ids(axis="feature_noise") == ["pd-2", "pd-0"]
    assert ids(baseline="linear") == ["pd-2"] and ids(protocol="linear") == ["pd-2"]
    assert ids(complete=False) == ["pd-1"]
    assert ids(ranges=dict([parse_range("source.input_dim:200:")])) == ["pd-2", "pd-1"]
    assert ids(ranges=dict([parse_range("source.input_dim::150")])) == ["pd-0"]
    page = list_catalogue(redis, offset=1, limit=1)
    assert page.total == 3 and [e.diagram_id for e in page.items] == ["pd-1"]
    redis.delete("tlprobe:catalogue:entry:pd-1")  # expired with its result
    assert ids() == ["pd-2", "pd-0"] and redis.zcard("tlprobe:catalogue:phase_diagrams") == 2
