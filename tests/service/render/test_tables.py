"""A phase diagram as tidy CSV."""



from service.render.tables import CSV_COLUMNS, tidy_csv
from tlprobe.contract.phase_diagram import PhaseDiagramRequest


def request(**changes) -> PhaseDiagramRequest:
    return PhaseDiagramRequest.model_validate(changes)


RESULT = {
    "x_axis": {"name": "alpha", "values": [1.0, 2.0]}, "y_axis": {"name": "teacher_noise", "values": [0.0]},
    "protocols": ["tf", "rf"], "theory": {"tf": [[0.1, 0.2]], "rf": [[0.3, None]]}, "simulation": None,
    "test_error_sem": None, "gain": [[0.2, None]], "failures": [{"x_index": 1, "y_index": 0, "reason": "x"}],
}

def test_csv_is_tidy_one_row_per_cell_and_protocol():
    lines = tidy_csv(RESULT).splitlines()
    assert lines[0].split(",") == CSV_COLUMNS
    assert len(lines) == 1 + 2 * 2
    assert lines[1] == "alpha,1.0,teacher_noise,0.0,tf,0.1,,,0.2,False"
    assert lines[4] == "alpha,2.0,teacher_noise,0.0,rf,,,,,True"
