"""Job kinds are declared in one place: a pure descriptor (tlprobe.kinds) and its server extension
(tlprobe_server.kinds). Every per-kind list derives from them; a throwaway kind declared there shows
up in the command line, the client, the batch schema, the typed results and the list of pictures.

Deliberately narrower: a kind's HTTP route is written by hand (one router per resource, its
documentation is the kind's own; a test here checks every kind with a path is served there), and the
engine's own command line (python -m worker.science) runs only the kinds the engine computes without
the service (learning curves, GCM), each with its runner.
"""

import json
import subprocess
import sys
from pathlib import Path

from service.main import create_app
from tlprobe.kinds import KINDS, kind_of_job
from tlprobe_server.kinds import SERVER_KINDS, resolve
from worker.science.__main__ import COMMANDS as ENGINE_COMMANDS

ROOT = Path(__file__).resolve().parents[2]


def test_every_kind_has_one_server_extension_and_nothing_else_has_one():
    assert list(SERVER_KINDS) == list(KINDS)
    assert all(extension.kind is KINDS[name] for name, extension in SERVER_KINDS.items())


def test_prefixes_and_names_are_distinct():
    assert len({kind.prefix for kind in KINDS.values()}) == len(KINDS)
    assert len({kind.command for kind in KINDS.values() if kind.command}) == sum(1 for k in KINDS.values() if k.command)


def test_every_computation_and_renderer_resolves_to_a_function():
    for extension in SERVER_KINDS.values():
        assert callable(resolve(extension.compute)), extension.compute
        assert extension.renderer is None or callable(resolve(extension.renderer)), extension.renderer


def test_every_kind_with_a_path_is_served_there():
    posts = {path for path, operations in create_app().openapi()["paths"].items() if "post" in operations}
    assert {kind.path for kind in KINDS.values() if kind.path} <= posts


def test_the_engine_command_line_runs_only_kinds_it_computes_alone():
    assert set(ENGINE_COMMANDS) == {"learning-curve", "gcm"}
    assert all(any(kind.command == name for kind in KINDS.values()) for name in ENGINE_COMMANDS)


THROWAWAY = r'''
import json, sys
from typing import Literal
from pydantic import Field
import tlprobe.kinds as kinds
from tlprobe.contract.common import Float, Strict

class ThrowawayRequest(Strict):
    size: Float = Field(1.0, gt=0)

class ThrowawayResult(Strict):
    kind: Literal["throwaway"] = "throwaway"
    value: float
    meta: dict = {}

# the one place: a descriptor ...
kinds.KINDS["throwaway"] = kinds.Kind(
    "throwaway", "tw", ThrowawayRequest, ThrowawayResult, "Throwaway", lambda r: [{"value": r["value"]}], ("value",),
    lambda r: f"value {r['value']}", path="/v1/throwaways", command="throwaway", batchable=True, help="a throwaway")
kinds.PREFIXES["tw"] = kinds.KINDS["throwaway"]
# ... and its server extension beside it
import tlprobe_server.kinds as server
server.SERVER_KINDS["throwaway"] = server.ServerKind(
    kinds.KINDS["throwaway"], "math:sqrt", "gcm_timeout", None, renderer="service.render.plots:render_learning_curve")

from tlprobe import Client, cli, results
from tlprobe.contract.batches import BatchRequest
parser = cli.build_parser()
submit = next(a for a in parser._subparsers._group_actions[0].choices["submit"]._actions if a.dest == "kind")
schema = json.dumps(BatchRequest.model_json_schema())
typed = results.RESULT_TYPES["throwaway"].model_validate({"value": 2.5})
print(json.dumps({
    "cli": "throwaway" in submit.choices,
    "client": "a throwaway" in (getattr(Client, "throwaway", None).__doc__ or ""),
    "batch": "ThrowawayItem" in schema and "throwaway" in schema,
    "results": type(typed).__name__ == "Throwaway" and typed.rows() == [{"value": 2.5}],
    "job_ids": kinds.kind_of_job("tw-" + "a" * 40) is kinds.KINDS["throwaway"],
    "pictures": "throwaway" in [k.name for k in server.SERVER_KINDS.values() if k.renderer],
    "summary": cli.render({"kind": "throwaway", "value": 2.5}, "table") == "value 2.5",
}))
'''


def test_a_kind_declared_in_one_place_shows_up_everywhere():
    out = subprocess.run([sys.executable, "-c", THROWAWAY], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"cli": True, "client": True, "batch": True, "results": True, "job_ids": True,
                                      "pictures": True, "summary": True}


def test_job_ids_name_their_server_kind():
    identifier = SERVER_KINDS["gcm"].job_id(KINDS["gcm"].request.model_validate(
        {"spectrum": {"omega": [1.0], "t": [0.5], "rho": 1.0, "gamma": 1.0}}))
    assert kind_of_job(identifier) is KINDS["gcm"]
