"""The dashboard at /ui: one static page (HTML, a script, a stylesheet) that calls the API.

The files live in ``service/ui/`` and ship with the package (package-data). They are served from
this machine only: the Content-Security-Policy forbids loading anything from elsewhere. The page
holds no data: everything it shows comes from the API with the caller's token, so it obeys the same
access rules (with protected reads it asks for a token before showing anything).
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, HTTPException
from fastapi.responses import RedirectResponse, Response

UI = files("service").joinpath("ui")
MEDIA_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
               ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
          "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": POLICY, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache",
           "Referrer-Policy": "no-referrer"}

router = APIRouter(include_in_schema=False)


def _asset(name: str) -> Response:
    suffix = name[name.rfind("."):] if "." in name else ""
    resource = UI.joinpath(name)
    if "/" in name or suffix not in MEDIA_TYPES or not resource.is_file():
        raise HTTPException(404, f"no such file: {name}")
    return Response(resource.read_bytes(), media_type=MEDIA_TYPES[suffix], headers=HEADERS)


@router.get("/")
def root() -> RedirectResponse:
    """A person opening the service's address lands on the dashboard."""
    return RedirectResponse("/ui", status_code=307)


@router.get("/ui")
def dashboard() -> Response:
    return _asset("index.html")


@router.get("/ui/{name}")
def asset(name: str) -> Response:
    return _asset(name)
