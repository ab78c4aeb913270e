"""The ``tlprobe`` command line end to end, as the installed console script in a subprocess: in a
pseudo-terminal (what a person sees: the bar, the stage names, the tables) and in a pipe (only the
answer), against the live stack."""

import csv
import io
import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx2 as httpx
import pytest

from devtools.stack import stack_env, wait_for
from tests.integration.conftest import TOKENS
from tests.requests import live_curve
from tests.terminal import Screen, run_in_terminal
from tlprobe import Client
from tlprobe.cli import main
from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe.kinds import KINDS

pytestmark = pytest.mark.e2e
TLPROBE = str(Path(sys.executable).with_name("tlprobe"))  # the console script pip installed
COMMANDS = ["submit", "status", "result", "plot", "cancel", "diagrams", "batch", "dataset"]
EPOCHS = 3000  # of the terminal test's source network
STAGE = re.compile(r"(source_network|feature_mean:\w+|covariances:\w+|theory:\w+|simulation)")


def small(seed: int, **changes) -> dict:
    return live_curve(seed, {"hidden_units": 60, "n_samples": 2000, "epochs": 400}, **changes)


def env_for(url: str, **extra: str) -> dict[str, str]:
    env = stack_env("unused", TLPROBE_URL=url, **extra)
    env.pop("TLPROBE_TOKEN", None)
    return env


def tlprobe(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([TLPROBE, *args], env=env, input=stdin, capture_output=True, text=True, timeout=180)


@pytest.fixture
def run(capsys, monkeypatch):
    """The command line's main() in this process (as the console script calls it, minus the process
    start-up): for the many small checks; the subprocess runs above cover the script itself."""

    def call(*args: str, url: str, token: str | None = None, stdin: str | None = None) -> tuple[int, str, str]:
        monkeypatch.setenv("TLPROBE_URL", url)
        if token is None:
            monkeypatch.delenv("TLPROBE_TOKEN", raising=False)
        else:
            monkeypatch.setenv("TLPROBE_TOKEN", token)
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin or ""))
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exit:  # argparse: --help (0) and usage errors (2)
            code = exit.code
        out, err = capsys.readouterr()
        return code, out, err

    return call


def spec(tmp_path: Path, name: str, body: dict) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(body))
    return str(path)


def test_submit_wait_in_a_terminal_shows_a_bar_with_stages_then_the_summary(live, tmp_path):
    url = live["api"].url
    # the source network trains for several of the bar's 1 s polls (400 epochs took under one since the
    # trainer got faster), so its stage is on screen whatever the machine's speed
    body = small(801, network={"hidden_units": 60, "n_samples": 2000, "epochs": EPOCHS})
    code, output = run_in_terminal([TLPROBE, "submit", "learning-curve", spec(tmp_path, "lc.json", body), "--wait"],
                                   env_for(url))
    screen = Screen(output)
    assert code == 0, output
    job_id = re.search(r"^job (lc-\w+)$", screen.text, re.M).group(1)
    # while it ran: the bar redrawn in place, with the status, the stage's name, its count and a bar
    running = [s for s in screen.states if " started " in s and STAGE.search(s)]
    assert any(re.search(rf"source_network\s+\[#*\.+\]\s+(\d+)/{EPOCHS}", s) for s in running), screen.states
    counts = [int(m.group(1)) for s in running if (m := re.search(rf"source_network\s+\[[#.]+\]\s+(\d+)/{EPOCHS}", s))]
    assert counts == sorted(counts) and 0 < counts[0] < EPOCHS
    # what is left on screen: the job, the bar's last state, and the summary table with the API's numbers
    bar = next(line for line in screen.lines if line.startswith(job_id[:14]))
    assert re.search(r"finished\s+\w+\s+\[#+\]\s+(\d+)/\1 100%", bar), bar
    result = httpx.get(f"{url}/v1/jobs/{job_id}/result").json()
    table = screen.lines[screen.lines.index(bar) + 1:]
    assert table[0] == "test error on the target per protocol and alpha = n_t / N"
    assert table[1].split() == ["protocol", "alpha", "theory", "+/-", "mc", "simulation", "+/-", "sem"]
    for protocol in ("tf", "rf", "linear"):
        curve = result["curves"][protocol]
        for i, alpha in enumerate((0.5, 2.0)):
            row = next(line.split() for line in table if line.split()[:2] == [protocol, f"{alpha:g}"])
            assert float(row[2]) == pytest.approx(curve["theory"]["test_error"][i], abs=5e-5)
            assert float(row[4]) == pytest.approx(curve["simulation"]["test_error_mean"][i], abs=5e-5)
    assert table[-1] == f"source network: test error {result['source_test_error']:.4f}, " \
                        f"train error {result['source_train_error']:.4f}"


def test_in_a_pipe_only_the_answer_json_or_csv(live, tmp_path, run):
    url = live["api"].url
    request = spec(tmp_path, "lc.json", small(802, simulation=None))
    done = tlprobe("submit", "learning-curve", request, "--wait", "--format", "json", env=env_for(url))
    assert done.returncode == 0 and done.stderr == ""  # no bar, no remarks
    result = json.loads(done.stdout)
    job_id = result["meta"]["job_id"]
    assert result == httpx.get(f"{url}/v1/jobs/{job_id}/result").json()

    submitted = tlprobe("submit", "learning-curve", request, env=env_for(url))  # cached: prints the id only
    assert submitted.returncode == 0 and submitted.stdout == f"{job_id}\n" and submitted.stderr == ""
    code, out, _ = run("status", job_id, url=url)
    assert code == 0 and out.split() == [job_id, "finished"]

    csv_file = tmp_path / "curve.csv"
    assert run("result", job_id, "--format", "csv", "-o", str(csv_file), url=url)[0] == 0
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text())))
    assert len(rows) == 3 * 2 and {row["method"] for row in rows} == {"theory"}
    for row in rows:
        theory = result["curves"][row["protocol"]]["theory"]
        assert float(row["test_error"]) == theory["test_error"][result["alphas"].index(float(row["alpha"]))]
    table = run("result", job_id, "--format", "table", url=url)[1]
    assert table.splitlines()[0] == "test error on the target per protocol and alpha = n_t / N"

    png = tmp_path / "curve.png"
    assert run("plot", job_id, "-o", str(png), url=url)[0] == 0
    assert png.read_bytes() == httpx.get(f"{url}/v1/jobs/{job_id}/plot.png").content
    assert run("plot", job_id, "-o", str(tmp_path / "curve.gif"), url=url)[0] == 2


def diagram(seed: int) -> dict:
    """A small theory diagram over (feature noise, alpha)."""
    body = {**small(seed, simulation=None), "x_axis": {"name": "alpha", "values": [0.5, 2.0]},
            "y_axis": {"name": "feature_noise", "values": [0.0, 1.0]}}
    del body["alphas"]
    return body


def test_phase_diagram_and_the_catalogue(live, tmp_path, run):
    url = live["api"].url
    body = diagram(811)
    done = tlprobe("submit", "phase-diagram", "-", "--wait", env=env_for(url), stdin=json.dumps(body))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("gain = error(rf) - error(tf), on theory")
    assert lines[1].split() == ["feature_noise", "\\", "alpha", "0.5", "2"]
    listed = json.loads(run("diagrams", "--range", "source.seed:811:811", "--format", "json", url=url)[1])
    assert len(listed) == 1
    diagram_id = listed[0]["diagram_id"]
    result = httpx.get(f"{url}/v1/phase-diagrams/{diagram_id}").json()
    for row, line in zip(result["gain"], lines[3:5]):
        assert [float(v) for v in line.split()[1:]] == pytest.approx(row, abs=5e-5)
    table = run("diagrams", "--axis", "feature_noise", "--range", "source.seed:811:811", url=url)[1]
    assert table.splitlines()[2].split() == ["feature_noise", "alpha", "2x2", "rf", "tf", "rf", "yes",
                                             listed[0]["computed_at"], diagram_id]
    assert table.splitlines()[-1] == "1 diagram"
    assert run("diagrams", "--baseline", "linear", "--range", "source.seed:811:811", url=url)[1].endswith("0 diagrams\n")
    csv_text = run("result", diagram_id, "--format", "csv", url=url)[1]
    assert csv_text == httpx.get(f"{url}/v1/phase-diagrams/{diagram_id}", params={"format": "csv"}).text
    svg = tmp_path / "diagram.svg"
    assert run("plot", diagram_id, "-o", str(svg), url=url)[0] == 0
    assert b"<svg" in svg.read_bytes()


def test_batch_with_a_bar_per_batch(live, tmp_path, run):
    url = live["api"].url
    spectrum = {"spectrum": {"omega": [0.5, 1.0], "t": [0.1, 0.2], "rho": 1.0, "gamma": 1.0}}
    lines = [json.dumps({"kind": "learning_curve", "request": small(821, simulation=None)}), "# a comment", "",
             json.dumps({"kind": "gcm", "request": spectrum}),
             json.dumps({"kind": "learning_curve", "request": small(822, simulation=None)}),
             json.dumps({"kind": "phase_diagram", "request": diagram(823)})]
    path = tmp_path / "requests.jsonl"
    path.write_text("\n".join(lines) + "\n")
    code, output = run_in_terminal([TLPROBE, "batch", str(path), "--wait"], env_for(url))
    screen = Screen(output)
    assert code == 0, output
    assert any(re.search(r"^batch \w+\.\.\.  jobs  .*\[[#.]+\]\s+[0-3]/4", s) for s in screen.states), screen.states
    assert re.search(r"jobs  4 finished\s+\[#+\] 4/4 100%", screen.text)
    batch_line = next(line for line in screen.lines if re.match(r"batch \w{32}: 4 finished$", line))
    rows = [line.split() for line in screen.lines[screen.lines.index(batch_line) + 3:] if line.strip()]
    assert [row[:2] for row in rows] == [["learning_curve", "finished"], ["gcm", "finished"],
                                         ["learning_curve", "finished"], ["phase_diagram", "finished"]]
    bad = path.with_name("bad.jsonl")
    bad.write_text(lines[0] + "\n\n" + json.dumps({"kind": "gcm", "request": {}}) + "\n")
    code, _, err = run("batch", str(bad), url=url)
    assert code == 2 and "line 3.request: Value error, give exactly one of 'spectrum' or 'covariances'" in err


def test_exit_codes_and_reasons(live, tmp_path, run):
    url, env = live["api"].url, env_for(live["api"].url)
    assert tlprobe("frobnicate", env=env).returncode == 2  # argparse, in the console script
    assert run("submit", "learning-curve", url=url)[0] == 2  # missing SPEC
    code, _, err = run("submit", "learning-curve", str(tmp_path / "nope.json"), url=url)
    assert code == 2 and "cannot read" in err
    code, out, err = run("submit", "learning-curve", "-", url=url, stdin='{"source": {"input_dim": 0}, "alphas": []}')
    assert code == 2 and out == ""
    assert "body.source.input_dim: Input should be greater than or equal to 1" in err
    assert "body.alphas: List should have at least 1 item" in err
    huge = {"source": {"input_dim": 4000}, "network": {"hidden_units": 4000, "n_samples": 200000, "epochs": 5000}}
    code, _, err = run("submit", "learning-curve", "-", url=url, stdin=json.dumps(huge))
    assert code == 2 and "422 from POST /v1/learning-curves" in err and "exceeds the limit" in err
    unknown = tlprobe("status", "lc-0000", env=env)
    assert unknown.returncode == 1 and "no such job or batch: lc-0000" in unknown.stderr
    code, _, err = run("--url", "http://127.0.0.1:9", "status", "lc-0000", url=url)
    assert code == 1 and "cannot reach http://127.0.0.1:9" in err

    # a job canceled while `submit --wait` follows it: exit 1, and the reason
    slow = small(831, network={"hidden_units": 200, "n_samples": 4000, "epochs": 5000})
    process = subprocess.Popen([TLPROBE, "submit", "learning-curve", "-", "--wait"], env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdin.write(json.dumps(slow))
    process.stdin.close()
    job_id = KINDS["learning_curve"].job_id(LearningCurveRequest.model_validate(slow))
    with Client(url) as client:
        wait_for(lambda: client.job(job_id), 60, "the command's submission")  # 404 until it has submitted
        code, _, err = run("result", job_id, url=url)
        assert code == 1 and f"job {job_id} is " in err and "not finished" in err
        threading.Timer(1.0, client.cancel, args=[job_id]).start()
        assert process.wait(timeout=60) == 1
    assert process.stdout.read() == "" and f"job {job_id} canceled" in process.stderr.read()
    code, out, err = run("status", job_id, url=url)
    assert code == 1 and out.split()[:2] == [job_id, "canceled"] and "tlprobe: job canceled" in err
    code, out, _ = run("cancel", job_id, url=url)
    assert code == 0 and out.split()[:2] == [job_id, "canceled"]


def test_help_on_every_command_and_tokens(live, protected_api, run):
    url = protected_api.url
    top = tlprobe("--help", env=env_for(url))
    assert top.returncode == 0 and all(command in top.stdout for command in COMMANDS) and "exit codes:" in top.stdout
    for command in COMMANDS:
        code, out, _ = run(command, "--help", url=url)
        assert code == 0 and out.startswith(f"usage: tlprobe {command}")
    refused = tlprobe("diagrams", env=env_for(url))
    assert refused.returncode == 1 and "401" in refused.stderr and "a bearer token is required" in refused.stderr
    assert run("diagrams", "--token", TOKENS[1], url=url)[0] == 0
    code, _, err = run("--token", "wrong", "diagrams", url=url)
    assert code == 1 and "invalid bearer token" in err
    assert run("diagrams", url=url, token=TOKENS[0])[0] == 0


def test_dataset_upload_list_show_delete_as_the_console_script(live, tmp_path, run):
    import numpy as np

    from tests.datasets import arrays

    url, env = live["api"].url, env_for(live["api"].url)
    inputs, labels = arrays(samples=60, input_dim=5, seed=951)
    path = tmp_path / "data.npz"
    np.savez(path, inputs=inputs, labels=labels)
    uploaded = tlprobe("dataset", "upload", str(path), env=env)
    assert uploaded.returncode == 0 and uploaded.stderr == ""  # in a pipe: the id alone
    dataset_id = uploaded.stdout.strip()
    assert dataset_id.startswith("ds-") and len(dataset_id) == 43
    with Client(url) as client:
        assert client.upload_dataset(path).dataset_id == dataset_id  # the same content, the same id
    shown = tlprobe("dataset", "show", dataset_id, "--format", "json", env=env)
    assert shown.returncode == 0
    raw = httpx.get(f"{url}/v1/datasets/{dataset_id}").json()
    assert {k: v for k, v in json.loads(shown.stdout).items() if k != "expires_in"} == \
        {k: v for k, v in raw.items() if k != "expires_in"}
    code, out, _ = run("dataset", "show", dataset_id, url=url)
    assert code == 0 and out.splitlines()[2].split() == ["dataset_id", dataset_id]
    assert out.splitlines()[3].split() == ["samples", "60"] and "feature_scale (min / median / max)" in out
    listed = tlprobe("dataset", "list", "--format", "csv", env=env)
    assert listed.returncode == 0
    rows = list(csv.DictReader(io.StringIO(listed.stdout)))
    assert dataset_id in [row["dataset_id"] for row in rows] and len(rows) == raw_total(url)
    mine = next(row for row in rows if row["dataset_id"] == dataset_id)
    assert (int(mine["samples"]), int(mine["input_dim"])) == (60, 5)
    code, out, _ = run("dataset", "list", url=url)
    assert code == 0 and dataset_id in out and out.rstrip().endswith(f"{len(rows)} dataset{'' if len(rows) == 1 else 's'}")
    uploaded_json = tlprobe("dataset", "upload", str(path), "--format", "json", env=env)
    assert json.loads(uploaded_json.stdout)["dataset_id"] == dataset_id

    # refusals: exit 2 for what the service refuses as content (the reason printed), 1 for what it cannot do
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    refused = tlprobe("dataset", "upload", str(bad), env=env)
    assert refused.returncode == 2 and refused.stdout == "" and "422 from POST /v1/datasets" in refused.stderr
    assert tlprobe("dataset", "upload", str(tmp_path / "missing.npz"), env=env).returncode == 2
    assert tlprobe("dataset", env=env).returncode == 2  # an action is required
    deleted = tlprobe("dataset", "delete", dataset_id, env=env)
    assert deleted.returncode == 0 and deleted.stdout.strip() == f"deleted {dataset_id}"
    again = tlprobe("dataset", "delete", dataset_id, env=env)
    assert again.returncode == 1 and f"no such dataset: {dataset_id}" in again.stderr
    code, _, err = run("dataset", "show", dataset_id, url=url)
    assert code == 1 and "404" in err
    for action in ("upload", "list", "show", "delete"):
        code, out, _ = run("dataset", action, "--help", url=url)
        assert code == 0 and out.startswith(f"usage: tlprobe dataset {action}")


def test_deleting_a_dataset_a_job_reads_exits_1_naming_the_job(live, run):
    from tests.datasets import arrays

    url = live["api"].url
    with Client(url) as client:
        big = client.upload_dataset(arrays(samples=2000, input_dim=40, seed=952))
        slow = client.learning_curve({"source": {"dataset": big.dataset_id}, "target": {"dataset": big.dataset_id},
                                      "network": {"hidden_units": 200, "n_samples": 1500, "epochs": 5000},
                                      "alphas": [1.0], "protocols": ["tf"], "simulation": {"seeds": 1}}, wait=False)
        code, _, err = run("dataset", "delete", big.dataset_id, url=url)
        assert code == 1 and "409" in err and slow.job_id in err
        client.cancel(slow.job_id)
    assert run("dataset", "delete", big.dataset_id, url=url)[0] == 0


def raw_total(url: str) -> int:
    return httpx.get(f"{url}/v1/datasets").json()["total"]
