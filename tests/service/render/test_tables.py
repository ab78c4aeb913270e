"""A phase diagram as tidy CSV: one row per cell and protocol, 20,000 for a 100 x 100 diagram of two protocols."""



from service.render.tables import tidy_csv
from tlprobe.contract.phase_diagram import PhaseDiagramRequest
from tlprobe.tidy import PHASE_DIAGRAM_COLUMNS as CSV_COLUMNS


def request(**changes) -> PhaseDiagramRequest:
    return PhaseDiagramRequest.model_validate(changes)


RESULT = {
    "kind": "phase_diagram", "x_axis": {"name": "alpha", "values": [1.0, 2.0]},
    "y_axis": {"name": "teacher_noise", "values": [0.0]},
    "protocols": ["tf", "rf"], "theory": {"tf": [[0.1, 0.2]], "rf": [[0.3, None]]}, "simulation": None,
    "test_error_sem": None, "gain": [[0.2, None]], "failures": [{"x_index": 1, "y_index": 0, "reason": "x"}],
}

def test_csv_is_tidy_one_row_per_cell_and_protocol():
    lines = tidy_csv(RESULT).splitlines()
    assert lines[0].split(",") == CSV_COLUMNS
    assert len(lines) == 1 + 2 * 2
    assert lines[1] == "alpha,1.0,teacher_noise,0.0,tf,0.1,,,,0.2,False"
    assert lines[4] == "alpha,2.0,teacher_noise,0.0,rf,,,,,,True"


def test_on_datasets_the_gaussian_equivalent_has_its_own_column():
    on_data = {**RESULT, "theory": None, "simulation": {"tf": [[0.1, 0.2]], "rf": [[0.3, 0.25]]},
               "test_error_sem": {"tf": [[0.01, 0.02]], "rf": [[0.03, 0.02]]},
               "gaussian_equivalent": {"tf": [[0.12, None]], "rf": [[0.28, 0.2]]}, "gain": [[0.2, 0.05]], "failures": []}
    lines = tidy_csv(on_data).splitlines()
    assert lines[1] == "alpha,1.0,teacher_noise,0.0,tf,,0.1,0.01,0.12,0.2,False"
    assert lines[2] == "alpha,1.0,teacher_noise,0.0,rf,,0.3,0.03,0.28,0.2,False"
    assert lines[3] == "alpha,2.0,teacher_noise,0.0,tf,,0.2,0.02,,0.05,False"


def test_a_100_by_100_diagram_is_20000_tidy_rows():
    xs, ys = [0.04 * (i + 1) for i in range(100)], [i / 100 for i in range(100)]
    grid = [[xi + 100 * yi for xi in range(100)] for yi in range(100)]  # each cell's own number
    result = {"kind": "phase_diagram", "x_axis": {"name": "alpha", "values": xs}, "y_axis": {"name": "feature_noise",
                                                                                            "values": ys},
              "protocols": ["tf", "rf"], "theory": {"tf": grid, "rf": [[-v for v in row] for row in grid]},
              "simulation": None, "test_error_sem": None, "gain": grid, "failures": [{"x_index": 99, "y_index": 99,
                                                                                        "reason": "x"}]}
    lines = tidy_csv(result).splitlines()
    assert len(lines) == 1 + 100 * 100 * 2
    assert lines[1 + 2 * (3 + 100 * 7)] == f"alpha,{xs[3]!r},feature_noise,{ys[7]!r},tf,703,,,,703,False"
    assert lines[-1] == f"alpha,{xs[99]!r},feature_noise,0.99,rf,-9999,,,,9999,True"
