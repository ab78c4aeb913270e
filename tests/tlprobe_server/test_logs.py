"""logs.configure: one JSON-lines handler on the root; uvicorn's access log kept off when switched off."""

import json
import logging

import pytest

from tlprobe_server import logs


@pytest.fixture
def restored():
    """Puts back the root handlers and the uvicorn loggers as they were."""
    root = logging.getLogger()
    saved = [(root, root.handlers[:], root.propagate, root.level)]
    saved += [(logger, logger.handlers[:], logger.propagate, logger.level)
              for logger in map(logging.getLogger, logs._TAKEN_OVER)]
    yield
    for logger, handlers, propagate, level in saved:
        logger.handlers, logger.propagate = handlers, propagate
        logger.setLevel(level)


def test_uvicorn_loggers_are_taken_over_but_a_switched_off_access_log_stays_off(restored, capsys):
    access, error = logging.getLogger("uvicorn.access"), logging.getLogger("uvicorn.error")
    # as uvicorn --no-access-log leaves them (after its dictConfig gave each a handler of its own)
    access.handlers, access.propagate = [], False
    error.handlers, error.propagate = [logging.StreamHandler()], False
    logs.configure("api")
    assert not access.propagate and not access.hasHandlers()  # uvicorn checks hasHandlers(): no line per request
    assert error.propagate and error.handlers == []
    error.info("started")
    line = json.loads(capsys.readouterr().err.splitlines()[-1])
    assert line["logger"] == "uvicorn.error" and line["message"] == "started" and line["component"] == "api"


def test_an_access_log_that_is_on_is_written_as_json_lines(restored, capsys):
    access = logging.getLogger("uvicorn.access")
    access.handlers, access.propagate = [logging.StreamHandler()], False  # uvicorn's default: on
    logs.configure("api")
    assert access.propagate and access.handlers == [] and access.hasHandlers()
    access.info("GET /healthz 200")
    assert json.loads(capsys.readouterr().err.splitlines()[-1])["logger"] == "uvicorn.access"
