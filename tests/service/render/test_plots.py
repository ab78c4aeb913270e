"""Pictures: each kind's renderer exists, and a drawn picture is cached beside its result."""

import service.render.plots
from service.render.plots import picture
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
