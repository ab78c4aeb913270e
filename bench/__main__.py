"""Run every benchmark; each line is a ratio measured in this one run."""

import shutil

from bench import (
    cached_reads,
    cluster_throughput,
    control_variate,
    covariances,
    dataset_curve_cost,
    gcm_solver,
    optimal_lambda,
    phase_diagram_workers,
    queue_latency,
    training_epoch,
)


def main() -> None:
    covariances.main_with()
    control_variate.main()
    training_epoch.main_with(None)
    training_epoch.main_with(256)
    gcm_solver.main_with(30)
    optimal_lambda.main_with(2)
    phase_diagram_workers.main()
    queue_latency.main([])
    dataset_curve_cost.main()
    cluster_throughput.main([])  # as root only (network namespaces); says so otherwise
    if shutil.which("wrk"):
        cached_reads.main(["--rounds", "1"])
    else:
        print("[cached reads] skipped: needs wrk (apt-get install -y wrk)")


if __name__ == "__main__":
    main()
