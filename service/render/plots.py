"""Pictures of results: a phase diagram's gain heatmap and a learning curve.

matplotlib (and with it numpy) is imported only when a picture is first drawn, never at start-up.
Rendering uses the object API (no pyplot state), so it is safe in the threadpool that runs it, off
the event loop. Pictures are cached by the result store next to the result they show, with its
lifetime. Each job kind names its renderer, one of the ``render_*`` functions here, by its dotted path
(``tlprobe_server.kinds``).
"""

from __future__ import annotations

import io
import math
from typing import Any

from redis import Redis

from tlprobe.contract.axes import AXES, AxisName
from tlprobe_server import result_store
from tlprobe_server.kinds import ServerKind, resolve

MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
PROTOCOL_COLOURS = {"tf": "C0", "rf": "C1", "linear": "C2", "scratch": "C3", "finetune": "C4"}


def picture(redis: Redis, kind: ServerKind, job_id: str, fmt: str, result: dict[str, Any]) -> bytes | None:
    """The result drawn by its kind's renderer (cached beside the result); None if the kind has no picture."""
    if kind.renderer is None:
        return None
    cached = result_store.get_rendering(redis, job_id, fmt)
    if cached is None:
        cached = resolve(kind.renderer)(result, fmt)
        result_store.put_rendering(redis, job_id, fmt, cached)
    return cached


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=120, metadata={"Date": None} if fmt == "svg" else None)
    return buffer.getvalue()


#: the fixed parameters named in a diagram's title: (section, field, symbol)
TITLE_PARAMETERS = (("source", "latent_dim", "D"), ("source", "input_dim", "N"), ("network", "hidden_units", "K"),
                    ("network", "n_samples", "n_s"), ("readout", "regularisation", "lambda"))


def _shown(meta_request: dict[str, Any], section: str, field: str) -> Any:
    """A title's value of a request field; a theory's 'tuned' lambda is its oracle (the simulation's is
    chosen by the tuning rule, named after it)."""
    value = meta_request[section][field]
    if (section, field) == ("readout", "regularisation") and value == "tuned":
        return "oracle (theory), tuned (simulation)" if meta_request.get("simulation") else "oracle"
    return "oracle" if value == "optimal" and (section, field) == ("readout", "regularisation") else value


def _summary(meta_request: dict[str, Any] | None, result: dict[str, Any]) -> str:
    parts = [f"baseline {result['baseline']}", f"gain on {result['gain_basis']}"]
    if result.get("alpha") is not None:
        parts.append(f"alpha={result['alpha']:g}")
    if meta_request:
        axes = {result["x_axis"]["name"], result["y_axis"]["name"]}
        source, target = meta_request["source"], meta_request["target"]
        on_datasets = "dataset" in source
        if on_datasets:  # the data in place of the synthetic model's sizes and knobs
            parts.insert(0, f"datasets {source['dataset'][:11]} -> {target['dataset'][:11]}")
        parts.append(" ".join(f"{symbol}={_shown(meta_request, section, field)}" for section, field, symbol
                              in TITLE_PARAMETERS if field not in axes and field in meta_request[section]))
        fixed = [] if on_datasets else [f"{k}={v:g}" for k, v in target.items() if k != "seed" and k not in axes and v]
        if fixed:
            parts.append(", ".join(fixed))
        rule = (meta_request.get("tuning") or {}).get("rule")
        if rule and meta_request.get("simulation"):  # what chose the simulated protocols' hyperparameters
            parts.append(f"tuning {rule.replace('_', ' ')}")
    return " | ".join(parts)


def _axis_label(name: str) -> str:
    return AXES[AxisName(name)].label


#: tick labels per axis of a diagram's picture (a longer axis is labelled at evenly spaced values)
TICKS = 11
#: rows up to which the reported per-row crossings are marked beside the contour line
MARKED_ROWS = 20


def _tick(value: float) -> str:
    label = f"{value:g}"
    return label if len(label) <= 6 else f"{value:.3g}"


def tick_indices(count: int, most: int = TICKS) -> list[int]:
    """Every value's index when they are few, else every k-th (the smallest stride giving at most ``most``
    labels), the last value labelled too: in place of the last stride's when that one is too close."""
    if count <= most:
        return list(range(count))
    step = math.ceil((count - 1) / (most - 1))
    shown = list(range(0, count - 1, step))
    if count - 1 - shown[-1] <= step / 2:
        shown[-1] = count - 1
    else:
        shown.append(count - 1)
    return shown


def _ticks(axes, values: list[float], which: str) -> None:
    """Cells sit at their index (values need not be evenly spaced): labels at ``tick_indices``."""
    shown = tick_indices(len(values))
    labels = [_tick(values[i]) for i in shown]
    if which == "x":
        long = len(shown) * max(len(label) for label in labels) > 60  # would run into each other
        axes.set_xticks(shown, labels, rotation=45 if long else 0, ha="right" if long else "center")
    else:
        axes.set_yticks(shown, labels)


def _boundary(axes, gain, result: dict[str, Any]):
    """The gain = 0 boundary as a contour line of the grid (cells at their indices), and the crossings
    reported per row as dots when the rows are few. Returns the legend's handle, or None without a boundary."""
    import numpy as np
    from matplotlib.lines import Line2D

    xs = result["x_axis"]["values"]
    drawn = False
    rows, columns = gain.shape
    finite = gain[np.isfinite(gain)]
    if rows >= 2 and columns >= 2 and finite.size and finite.min() < 0 < finite.max():
        contour = axes.contour(np.arange(columns), np.arange(rows), np.ma.masked_invalid(gain), levels=[0.0],
                               colors="k", linewidths=1.5)
        drawn = bool(contour.allsegs[0])
    points = [(float(np.interp(x, xs, range(len(xs)))), row["y_index"]) for row in result["boundary"]
              for x in row["crossings"]]
    if points and (rows <= MARKED_ROWS or not drawn):
        axes.plot(*zip(*points), "ko", markersize=3, linestyle="none")
        drawn = True
    return Line2D([], [], color="k", marker="o" if points and rows <= MARKED_ROWS else None, markersize=3,
                  linewidth=1.5, label="gain = 0") if drawn else None


def render_phase_diagram(result: dict[str, Any], fmt: str) -> bytes:
    return _save(draw_phase_diagram(result), fmt)


def draw_phase_diagram(result: dict[str, Any]):
    """The gain heatmap (cells at their indices), the gain = 0 contour, failed cells marked: a figure."""
    import numpy as np
    from matplotlib import colormaps
    from matplotlib.colors import TwoSlopeNorm

    gain = np.array([[np.nan if g is None else g for g in row] for row in result["gain"]], dtype=float)
    xs, ys = result["x_axis"]["values"], result["y_axis"]["values"]
    figure = _figure(6.4, 5.0)
    axes = figure.add_subplot()
    limit = float(np.nanmax(np.abs(gain))) if np.isfinite(gain).any() else 1.0
    limit = limit or 1e-3
    image = axes.imshow(np.ma.masked_invalid(gain), origin="lower", aspect="auto",
                        cmap=colormaps["RdBu"].with_extremes(bad="0.8"),  # failed cells grey
                        norm=TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit), interpolation="nearest")
    _ticks(axes, xs, "x")
    _ticks(axes, ys, "y")
    axes.set_xlabel(_axis_label(result["x_axis"]["name"]))
    axes.set_ylabel(_axis_label(result["y_axis"]["name"]))
    line = _boundary(axes, gain, result)
    if line is not None:
        axes.legend(handles=[line], loc="upper right", fontsize=8)
    if result["failures"]:  # failed cells are grey; marked with an x
        failed = [(f["x_index"], f["y_index"]) for f in result["failures"]]
        axes.scatter(*zip(*failed), marker="x", color="k", s=max(4.0, 400.0 / max(len(xs), len(ys))), linewidths=1)
    colorbar = figure.colorbar(image, ax=axes)
    colorbar.set_label(f"gain = error({result['baseline']}) - error(tf)")
    axes.set_title(_summary(result["meta"].get("request"), result), fontsize=8, wrap=True)
    return figure


def _rules(result: dict[str, Any]) -> str:
    """What chose the hyperparameters of a learning curve, for its title: the theory's lambda (the oracle
    or fixed) and each rule of the simulated protocols' hyperparameters (best_achievable: validation)."""
    theory, simulated = set(), set()
    for curve in result["curves"].values():
        solved = curve.get("theory") or curve.get("gaussian_equivalent")
        if solved is not None and solved.get("regularisation_chosen_by"):
            theory.add(solved["regularisation_chosen_by"])
        for chosen in ((curve.get("simulation") or {}).get("hyperparameters") or {}).values():
            simulated.add(chosen["chosen_by"].replace("_", " "))
    parts = []
    if theory:
        parts.append(f"theory lambda: {', '.join(sorted(theory))}")
    if simulated:
        parts.append(f"simulation hyperparameters: {', '.join(sorted(simulated))}"
                     + (f" (rule {result['tuning'].replace('_', ' ')})" if result.get("tuning") else ""))
    return "; ".join(parts)


def render_learning_curve(result: dict[str, Any], fmt: str) -> bytes:
    figure = _figure(6.4, 4.6)
    axes = figure.add_subplot()
    alphas = result["alphas"]
    for protocol, curve in result["curves"].items():
        colour = PROTOCOL_COLOURS.get(protocol, "k")
        if curve["theory"] is not None:
            points = [(a, e) for a, e in zip(alphas, curve["theory"]["test_error"]) if e is not None]
            if points:
                axes.plot(*zip(*points), "-", color=colour, label=f"{protocol} theory")
        if curve.get("gaussian_equivalent") is not None:
            points = [(a, e) for a, e in zip(alphas, curve["gaussian_equivalent"]["test_error"]) if e is not None]
            if points:
                axes.plot(*zip(*points), "--", color=colour, label=f"{protocol} Gaussian-equivalent (approx.)")
        if curve["simulation"] is not None:
            sim = curve["simulation"]
            rows = [(a, m, s or 0.0) for a, m, s in zip(alphas, sim["test_error_mean"], sim["test_error_sem"])
                    if m is not None]
            if rows:
                a, m, s = zip(*rows)
                axes.errorbar(a, m, yerr=s, fmt="o", color=colour, capsize=3, markersize=4,
                              label=f"{protocol} simulation")
    axes.set_xscale("log")
    axes.set_xlabel("alpha = n_t / N")
    axes.set_ylabel("test error")
    title = f"source test error {result['source_test_error']:.3f}"
    if result.get("data"):
        data = result["data"]
        title = (f"datasets {data['source']['dataset'][:11]} -> {data['target']['dataset'][:11]} (N={data['input_dim']}, "
                 f"test on {data['target']['test_samples']} held out) | {title}")
    rules = _rules(result)
    axes.set_title(f"{title}\n{rules}" if rules else title, fontsize=8)
    axes.legend(fontsize=8)
    axes.grid(alpha=0.3)
    return _save(figure, fmt)

