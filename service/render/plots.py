"""Pictures of results: a phase diagram's gain heatmap and a learning curve.

matplotlib (and with it numpy) is imported only when a picture is first drawn, never at start-up.
Rendering uses the object API (no pyplot state), so it is safe in the threadpool that runs it, off
the event loop. Pictures are cached by the result store next to the result they show, with its
lifetime. Each job kind names its renderer, one of the ``render_*`` functions here, by its dotted path
(``tlprobe_server.kinds``).
"""

from __future__ import annotations

import io
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


def render_phase_diagram(result: dict[str, Any], fmt: str) -> bytes:
    import numpy as np
    from matplotlib.colors import TwoSlopeNorm

    gain = np.array([[np.nan if g is None else g for g in row] for row in result["gain"]], dtype=float)
    xs, ys = result["x_axis"]["values"], result["y_axis"]["values"]
    figure = _figure(6.4, 5.0)
    axes = figure.add_subplot()
    limit = float(np.nanmax(np.abs(gain))) if np.isfinite(gain).any() else 1.0
    limit = limit or 1e-3
    image = axes.imshow(np.ma.masked_invalid(gain), origin="lower", aspect="auto", cmap="RdBu",
                        norm=TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit), interpolation="nearest")
    image.cmap.set_bad("0.8")
    axes.set_xticks(range(len(xs)), [f"{x:g}" for x in xs])
    axes.set_yticks(range(len(ys)), [f"{y:g}" for y in ys])
    axes.set_xlabel(_axis_label(result["x_axis"]["name"]))
    axes.set_ylabel(_axis_label(result["y_axis"]["name"]))
    # the boundary: crossings are x values; map them to the axis' index coordinates
    points = [(float(np.interp(x, xs, range(len(xs)))), row["y_index"]) for row in result["boundary"]
              for x in row["crossings"]]
    if points:
        px, py = zip(*sorted(points, key=lambda p: (p[1], p[0])))
        axes.plot(px, py, "k-o", markersize=3, linewidth=1.5, label="gain = 0")
        axes.legend(loc="upper right", fontsize=8)
    for failure in result["failures"]:
        axes.text(failure["x_index"], failure["y_index"], "x", ha="center", va="center", color="k")
    colorbar = figure.colorbar(image, ax=axes)
    colorbar.set_label(f"gain = error({result['baseline']}) - error(tf)")
    axes.set_title(_summary(result["meta"].get("request"), result), fontsize=8, wrap=True)
    return _save(figure, fmt)


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

