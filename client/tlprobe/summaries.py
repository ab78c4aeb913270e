"""What a person reads first about a result: a short text per kind (test errors per protocol and alpha,
a diagram's gain grid and boundary, a GCM curve's points). Each kind names its summary in
``tlprobe.kinds``; the command line prints it."""

from __future__ import annotations

from typing import Any

from .text_tables import number, table


def learning_curve_summary(result: dict[str, Any]) -> str:
    rows = []
    for protocol, curve in result["curves"].items():
        theory, simulation = curve.get("theory"), curve.get("simulation")
        for i, alpha in enumerate(result["alphas"]):
            mc = theory.get("test_error_mc_error") if theory else None
            rows.append([protocol, f"{alpha:g}", theory["test_error"][i] if theory else None, mc[i] if mc else None,
                         simulation["test_error_mean"][i] if simulation else None,
                         simulation["test_error_sem"][i] if simulation else None])
    text = table(rows, ["protocol", "alpha", "theory", "+/- mc", "simulation", "+/- sem"])
    return (f"test error on the target per protocol and alpha = n_t / N\n{text}\n"
            f"source network: test error {number(result['source_test_error'])}, "
            f"train error {number(result['source_train_error'])}")


#: rows and columns of a diagram's gain table shown in a summary (a larger grid is thinned evenly)
SUMMARY_GRID = 11
#: rows of the boundary listed in a summary
SUMMARY_BOUNDARY_ROWS = 20


def evenly_spaced(count: int, most: int) -> list[int]:
    """At most ``most`` indices of ``range(count)``, evenly spaced, the first and the last included."""
    if count <= most:
        return list(range(count))
    return sorted({round(i * (count - 1) / (most - 1)) for i in range(most)})


def phase_diagram_summary(result: dict[str, Any]) -> str:
    x, y = result["x_axis"], result["y_axis"]
    columns = evenly_spaced(len(x["values"]), SUMMARY_GRID)
    shown = evenly_spaced(len(y["values"]), SUMMARY_GRID)
    rows = [[f"{y['values'][i]:g}", *[result["gain"][i][j] for j in columns]] for i in shown]
    text = table(rows, [f"{y['name']} \\ {x['name']}", *[f"{x['values'][j]:g}" for j in columns]])
    thinned = len(columns) < len(x["values"]) or len(shown) < len(y["values"])
    crossed = [row for row in result["boundary"] if row["crossings"]]
    crossings = [f"  {y['name']} = {row['y']:g}: {x['name']} = {', '.join(f'{c:.3g}' for c in row['crossings'])}"
                 for row in (crossed if len(crossed) <= SUMMARY_BOUNDARY_ROWS else
                             [crossed[i] for i in evenly_spaced(len(crossed), SUMMARY_BOUNDARY_ROWS)])]
    lines = [f"gain = error({result['baseline']}) - error(tf), on {result['gain_basis']} (positive: transfer pays)", text]
    if thinned:
        lines.append(f"({len(shown)} of {len(y['values'])} rows and {len(columns)} of {len(x['values'])} columns shown, "
                     "evenly spaced; every cell: --format csv)")
    if crossings:
        lines.append("gain = 0 boundary (x values):" + (f" {len(crossings)} of {len(crossed)} rows" if
                                                         len(crossings) < len(crossed) else ""))
        lines += crossings
    else:
        lines.append("the gain does not change sign in any row")
    if result["failures"]:
        lines.append(f"{len(result['failures'])} cells failed (complete: false); resubmit to recompute them")
    return "\n".join(lines)


def gcm_summary(result: dict[str, Any]) -> str:
    rows = [[f"{result['sample_complexity'][i]:g}", result["regularisation"][i], result["test_error"][i],
             result["converged"][i], result["status"][i]] for i in range(len(result["sample_complexity"]))]
    return table(rows, ["alpha = n/p", "lambda", "test error", "converged", "status"])


def source_network_summary(result: dict[str, Any]) -> str:
    return table([[result["source_test_error"], result["source_train_error"]]], ["source test error", "train error"])


def diagram_tile_summary(result: dict[str, Any]) -> str:
    rows = [[curve["job_id"], curve["computed"], curve["error"]] for curve in result["curves"]]
    return table(rows, ["learning curve", "computed", "error"])
