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


def phase_diagram_summary(result: dict[str, Any]) -> str:
    x, y = result["x_axis"], result["y_axis"]
    rows = [[f"{value:g}", *result["gain"][i]] for i, value in enumerate(y["values"])]
    text = table(rows, [f"{y['name']} \\ {x['name']}", *[f"{v:g}" for v in x["values"]]])
    crossings = [f"  {y['name']} = {row['y']:g}: {x['name']} = {', '.join(f'{c:.3g}' for c in row['crossings'])}"
                 for row in result["boundary"] if row["crossings"]]
    lines = [f"gain = error({result['baseline']}) - error(tf), on {result['gain_basis']} (positive: transfer pays)", text]
    lines += ["gain = 0 boundary (x values):", *crossings] if crossings else ["the gain does not change sign in any row"]
    if result["failures"]:
        lines.append(f"{len(result['failures'])} cells failed (complete: false); resubmit to recompute them")
    return "\n".join(lines)


def gcm_summary(result: dict[str, Any]) -> str:
    rows = [[f"{result['sample_complexity'][i]:g}", result["regularisation"][i], result["test_error"][i],
             result["converged"][i], result["status"][i]] for i in range(len(result["sample_complexity"]))]
    return table(rows, ["alpha = n/p", "lambda", "test error", "converged", "status"])


def source_network_summary(result: dict[str, Any]) -> str:
    return table([[result["source_test_error"], result["source_train_error"]]], ["source test error", "train error"])
