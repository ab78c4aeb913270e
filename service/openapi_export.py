"""``make openapi``: write the app's OpenAPI spec to openapi/openapi.json (a test fails when stale)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tlprobe_server.settings import Settings

from .main import create_app

PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def spec_text() -> str:
    app = create_app(Settings(redis_url="redis://unused:6379/0"))
    return json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    PATH.parent.mkdir(exist_ok=True)
    PATH.write_text(spec_text())
    print(f"wrote {PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
