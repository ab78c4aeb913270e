"""Pictures: each kind's renderer exists, a drawn picture is cached beside its result, and a diagram of
100 x 100 cells is readable: thinned labels, the gain = 0 boundary as a contour through the crossings."""

import service.render.plots
from service.render.plots import draw_phase_diagram, picture, render_phase_diagram, tick_indices
from tlprobe_server import result_store
from tlprobe_server.kinds import SERVER_KINDS as KINDS
from tlprobe_server.kinds import resolve

LEARNING_CURVE = {"alphas": [0.5, 1.0], "source_test_error": 0.07, "curves": {
    "tf": {"theory": {"test_error": [0.2, 0.1]}, "simulation": {"test_error_mean": [0.21, None],
                                                               "test_error_sem": [0.01, None]}}}}


def test_every_kind_names_a_renderer_of_this_module_or_none():
    renderers = {kind.renderer for kind in KINDS.values()} - {None}
    assert renderers == {"service.render.plots:render_learning_curve", "service.render.plots:render_phase_diagram"}
    assert all(resolve(path).__module__ == service.render.plots.__name__ for path in renderers)


def test_a_picture_is_drawn_once_and_cached_with_the_result(redis):
    kind = KINDS["learning_curve"]
    result_store.put(redis, "lc-p", "{}", ttl=60)
    png = picture(redis, kind, "lc-p", "png", LEARNING_CURVE)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and result_store.get_rendering(redis, "lc-p", "png") == png
    assert picture(redis, kind, "lc-p", "png", {"not": "drawn again"}) == png
    assert picture(redis, KINDS["gcm"], "gcm-p", "png", {}) is None  # a GCM curve has no picture


def gain_result(xs: list[float], ys: list[float], gain, failures=()) -> dict:
    from tlprobe_server.diagrams.gain import boundary

    return {"x_axis": {"name": "alpha", "values": xs}, "y_axis": {"name": "feature_noise", "values": ys},
            "baseline": "rf", "gain_basis": "theory", "alpha": None, "gain": gain, "boundary": boundary(xs, ys, gain),
            "failures": [{"x_index": x, "y_index": y, "reason": "r"} for x, y in failures], "meta": {}}


def test_a_100_by_100_diagram_has_thinned_labels_and_its_boundary_as_a_contour_through_the_crossings():
    import numpy as np
    from matplotlib.contour import ContourSet

    xs = [0.04 * (i + 1) for i in range(100)]
    ys = [i / 99 for i in range(100)]
    # gain = 0 on the curve x = 1 + 2 y (a smooth boundary crossing every row between x = 1 and 3)
    gain = [[1 + 2 * y - x for x in xs] for y in ys]
    gain[60][50] = gain[60][51] = None  # two failed cells
    result = gain_result(xs, ys, gain, failures=[(50, 60), (51, 60)])
    figure = draw_phase_diagram(result)
    axes = figure.axes[0]
    labels = [t.get_text() for t in axes.get_xticklabels()]
    assert tick_indices(100) == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 99]
    assert labels == [f"{xs[i]:.3g}" if len(f"{xs[i]:g}") > 6 else f"{xs[i]:g}" for i in tick_indices(100)]
    assert [t.get_text() for t in axes.get_yticklabels()][:3] == ["0", "0.101", "0.202"] and len(labels) == 11
    (contour,) = [c for c in axes.get_children() if isinstance(c, ContourSet)]
    vertices = np.concatenate(contour.allsegs[0])
    checked = 0
    for row in result["boundary"]:
        for crossing in row["crossings"]:  # each reported crossing lies on the drawn line (cell index coordinates)
            at = float(np.interp(crossing, xs, range(100)))
            assert np.min(np.hypot(vertices[:, 0] - at, vertices[:, 1] - row["y_index"])) < 1e-9
            checked += 1
    assert checked >= 99  # every row crosses once (row 60's crossing may sit beside the failed cells)
    assert figure.axes[0].get_legend().get_texts()[0].get_text() == "gain = 0"
    assert render_phase_diagram(result, "png")[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_small_diagram_labels_every_value_and_marks_the_crossings_a_single_row_too():
    xs, ys = [0.25, 0.5, 1.0, 2.0, 4.0], [0.0, 0.5, 1.0]
    figure = draw_phase_diagram(gain_result(xs, ys, [[0.1, 0.05, 0.01, -0.01, -0.02]] * 3))
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["0.25", "0.5", "1", "2", "4"]
    one_row = draw_phase_diagram(gain_result(xs, [0.5], [[0.1, 0.05, 0.01, -0.01, -0.02]]))  # no contour of one row
    (dots,) = [line for line in one_row.axes[0].get_lines() if line.get_marker() == "o"]
    assert list(dots.get_xdata()) == [2.5] and list(dots.get_ydata()) == [0]  # between alpha 1 and 2, at their middle
