"""The cluster benchmark's arithmetic: the per-part split of a measured diagram and the estimate of a 100 x 100
one, against the same sums worked out by hand for round numbers."""

import pytest

from bench.cluster_throughput import DiagramRun, Part, SharedCosts, estimate_grid

SHARED = SharedCosts(redis_commands=200, redis_cpu_ms=10, redis_in_bytes=50e3, redis_out_bytes=300e3,
                     redis_memory_bytes=40e3, api_cpu_ms=3)


def measured() -> DiagramRun:
    # theory part: spectra 1 s, 8 alphas solved in 4 s, 0.5 s outside its stages
    theory = Part("theory", 8, 5.5, {"source_network": 0.0, "covariances:tf": 1.0, "theory:tf": 4.0}, 5000,
                  20_000)
    # simulation part: 2 alphas solved and simulated in 2 s, 0.25 s outside
    simulation = Part("simulation", 2, 2.25, {"source_network": 0.0, "theory:tf": 1.0, "simulation": 1.0}, 4000,
                      10_000)
    return DiagramRun(submit_seconds=0.1, seconds=30.0, network=10.0, assembly=0.4, assembly_cells=16,
                      assembly_result_bytes=3200, parts=[theory, simulation], artifact_bytes=10**6,
                      shared_per_job=SHARED, commands={})


def test_a_part_splits_into_spectra_per_alpha_cost_and_overhead():
    theory, simulation = measured().parts
    assert (theory.spectra, theory.per_alpha, theory.overhead) == (1.0, 0.5, 0.5)
    assert (simulation.spectra, simulation.per_alpha, simulation.overhead) == (0.0, 1.0, 0.25)


def test_the_grid_estimate_adds_up_every_part_of_a_100_by_100_diagram():
    grid = estimate_grid(measured(), dispatch=0.1)
    # 25 diagrams of 20 x 20; per target 5 theory parts (20 alphas each) and 50 simulation parts (2 alphas)
    jobs = 1 + 100 * 5 + 100 * 50 + 25
    assert (grid.diagrams, grid.jobs) == (25, jobs) == (25, 5526)
    by_hand = (10.0                   # the source network
               + 100 * 1.0            # spectra, once per target
               + 500 * 0.5            # theory parts' overhead
               + 10_000 * 0.5         # solving each cell's alpha
               + 5000 * 0.25          # simulation parts' overhead
               + 10_000 * 1.0         # solving and simulating each cell
               + 10_000 * 0.4 / 16    # assembling, per cell
               + jobs * 0.1)          # dispatching every job
    assert grid.work_seconds == pytest.approx(by_hand) == pytest.approx(17_412.6)
    # network, a first theory part of 20 alphas, a simulation part of 2, a 400-cell assembly, 4 dispatches
    critical = 10.0 + 1.0 + 0.5 + 20 * 0.5 + 0.25 + 2 * 1.0 + 400 * 0.4 / 16 + 4 * 0.1
    assert grid.critical_path_seconds == pytest.approx(critical) == pytest.approx(34.15)
    assert grid.workers == 31  # 17412.6 / (600 - 34.15) = 30.8, rounded up
    assert grid.redis_commands_per_second == pytest.approx(200 * jobs / 600)
    assert grid.redis_cpu_fraction == pytest.approx(0.010 * jobs / 600)
    assert grid.redis_out_megabytes_per_second == pytest.approx(0.3 * jobs / 600)
    results = 5000 * 500 + 4000 * 5000 + 200 * 10_000  # theory parts, simulation parts, 3200 bytes per 16 cells
    assert grid.results_megabytes == pytest.approx(results / 1e6)
    # job records (15 kB each on average), and the measured 1 MB of artifacts of 2 targets, for 100 targets
    assert grid.memory_megabytes == pytest.approx((results + 15_000 * jobs + 50 * 10**6) / 1e6)
