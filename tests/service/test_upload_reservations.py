"""What an upload reserves covers what decoding it takes: each body is planned and decoded in a fresh
process (``tests.service.upload_peak``), whose peak resident memory above its baseline must stay under
the reservation. The bodies are the worst of their kind: compressed constants (a tiny body, a full
matrix), the layouts that convert as they stream, non-finite values found only at the end, and JSON
shaped to make the most Python objects per byte (empty and one-number rows, deep nesting, nulls)."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest

OCTET, JSON = "application/octet-stream", "application/json"
ROWS = 10_000
JSON_BYTES = 2_000_000


def npz(compressed: bool = True, **named) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **named)
    return buffer.getvalue()


def json_rows(unit: str) -> bytes:
    return ('{"inputs":[' + ",".join([unit] * (JSON_BYTES // (len(unit) + 1))) + '],"labels":[0,1]}').encode()


def bodies():
    labels = np.arange(ROWS) % 2
    last_nan = np.ones((ROWS, 320))
    last_nan[-1, -1] = np.nan
    return {
        "compressed constant": (npz(inputs=np.full((ROWS, 320), 0.5), labels=labels), OCTET, True),
        "float32 in Fortran order": (npz(inputs=np.asfortranarray(np.ones((ROWS, 320), np.float32)), labels=labels),
                                     OCTET, True),
        "uint8, stored, bool labels": (npz(False, inputs=np.ones((ROWS, 320), np.uint8), labels=labels.astype(bool)),
                                       OCTET, True),
        "NaN in the last value": (npz(inputs=last_nan, labels=labels), OCTET, False),  # refused before the summaries
        "one column, float64 labels": (npz(inputs=np.ones((100_000, 1)), labels=np.arange(100_000) % 2.0), OCTET, False),
        "JSON: empty rows": (json_rows("[]"), JSON, False),
        "JSON: one-number rows": (json_rows("[0]"), JSON, False),
        "JSON: nested lists": (('{"inputs":[' + ",".join(["[" * 200 + "]" * 200] * (JSON_BYTES // 401)) + "]}").encode(),
                               JSON, False),
        "JSON: nulls": (json_rows("[null]"), JSON, False),
        "JSON: real numbers": (json.dumps({"inputs": np.random.default_rng(0).standard_normal((500, 200)).tolist(),
                                           "labels": [0, 1] * 250}).encode(), JSON, False),
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", list(bodies()))
def test_decoding_takes_no_more_than_the_upload_reserved(name, tmp_path):
    body, content_type, dominant = bodies()[name]
    path = tmp_path / "body"
    path.write_bytes(body)
    out = subprocess.run([sys.executable, "-m", "tests.service.upload_peak", str(path), content_type],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    measured = json.loads(out.stdout)
    assert measured["reserved"] is not None, measured
    assert measured["peak"] <= measured["reserved"], measured
    if dominant:  # the matrix is most of it: the reservation is not a loose guess either
        assert measured["peak"] >= 0.75 * measured["reserved"], measured
