"""The ``tlprobe`` command line against the app in this process (its HTTP transport), a real Redis and
jobs run by an in-process RQ worker. The console script in a real terminal, against the live stack,
is tested in tests/integration/test_cli.py."""

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from tests.requests import SMALL, SPECTRUM
from tlprobe import Client, cli
from tlprobe.kinds import KINDS
from tlprobe.tidy import LEARNING_CURVE_COLUMNS


@pytest.fixture
def tlprobe(settings, monkeypatch, capsys):
    """Runs the command line in process: (exit code, stdout, stderr)."""
    with TestClient(create_app(settings)) as test_client:
        monkeypatch.setattr(cli, "Client", lambda url, token, timeout: Client(url, token, timeout=timeout,
                                                                             transport=test_client._transport))

        def run(*argv: str) -> tuple[int, str, str]:
            code = cli.main(["--url", "http://testserver", *argv])
            out = capsys.readouterr()
            return code, out.out, out.err

        yield run


def spec(tmp_path, name: str, body: dict) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(body))
    return str(path)


def test_submit_then_result_as_csv_json_and_table(tlprobe, run_jobs, tmp_path):
    code, out, _ = tlprobe("submit", "learning-curve", spec(tmp_path, "lc.json", SMALL))
    job_id = out.strip()
    assert code == 0 and job_id == KINDS["learning_curve"].job_id(KINDS["learning_curve"].request.model_validate(SMALL))
    assert tlprobe("result", job_id)[0] == 1  # not finished yet: exit 1
    run_jobs()
    code, out, _ = tlprobe("status", job_id)
    assert code == 0 and out.split() == [job_id, "finished"]
    code, out, _ = tlprobe("result", job_id, "--format", "csv")
    lines = out.strip().splitlines()
    assert code == 0 and lines[0].split(",") == LEARNING_CURVE_COLUMNS and len(lines) == 1 + 3  # tf, rf, linear theory
    code, out, _ = tlprobe("result", job_id)
    assert json.loads(out)["kind"] == "learning_curve"
    code, out, _ = tlprobe("submit", "learning-curve", spec(tmp_path, "lc.json", SMALL), "--wait")  # cached
    assert code == 0 and out.startswith("test error on the target per protocol and alpha") and "linear" in out


def test_exit_codes_name_the_reason(tlprobe, tmp_path):
    code, _, err = tlprobe("submit", "learning-curve", spec(tmp_path, "bad.json", {"alphas": []}))
    assert code == 2 and "body.alphas" in err
    code, _, err = tlprobe("status", "lc-" + "0" * 40)
    assert code == 1 and "404" in err
    code, _, err = tlprobe("submit", "learning-curve", str(tmp_path / "missing.json"))
    assert code == 2 and "cannot read" in err


def test_a_batch_file_and_its_table(tlprobe, run_jobs, tmp_path):
    path = tmp_path / "batch.jsonl"
    path.write_text("# two kinds\n" + json.dumps({"kind": "learning_curve", "request": SMALL}) + "\n"
                    + json.dumps({"kind": "gcm", "request": SPECTRUM}) + "\n")
    code, out, _ = tlprobe("batch", str(path))
    assert code == 0 and "2 queued" in out
    batch_id = out.split()[1].rstrip(":")
    run_jobs()
    code, out, _ = tlprobe("status", batch_id)
    assert code == 0 and "2 finished" in out and "learning_curve" in out and "gcm" in out
    path.write_text(json.dumps({"kind": "gcm", "request": {}}) + "\n")
    code, _, err = tlprobe("batch", str(path))
    assert code == 2 and "line 1" in err


def test_datasets_upload_list_show_delete(tlprobe, tmp_path):
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(40, 6))
    path = tmp_path / "data.npz"
    np.savez(path, inputs=inputs, labels=np.sign(inputs[:, 0]))
    code, out, _ = tlprobe("dataset", "upload", str(path))
    dataset_id = out.strip()
    assert code == 0 and dataset_id.startswith("ds-")
    code, out, _ = tlprobe("dataset", "list", "--format", "csv")
    assert code == 0 and out.splitlines()[1].startswith(f"{dataset_id},40,6,")
    code, out, _ = tlprobe("dataset", "show", dataset_id, "--format", "json")
    assert json.loads(out)["samples"] == 40
    assert tlprobe("dataset", "delete", dataset_id)[:2] == (0, f"deleted {dataset_id}\n")
    assert tlprobe("dataset", "show", dataset_id)[0] == 1
