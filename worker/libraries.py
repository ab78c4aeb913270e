"""The numerical libraries a result was computed with: Python, numpy, scipy, numba (which compiles the
training's Adam step, ``science.adam_kernel``), and each BLAS numpy and scipy call
(library, version, the kernel chosen for this processor, threads). Every result's meta carries it
(``libraries``), since BLAS builds and kernels can change the last digits of a number. Worked out once
per worker process (the work horses forked for jobs inherit it), from threadpoolctl, which asks the
loaded libraries themselves; numpy's and scipy's build configuration fill in without it.
"""

from __future__ import annotations

import platform
from functools import cache
from typing import Any

import numba
import numpy as np
import scipy
import scipy.linalg  # noqa: F401  (loads scipy's BLAS, so that threadpoolctl lists it)


def _used_by(filepath: str) -> str:
    for package in ("numpy", "scipy"):
        if f"{package}.libs" in filepath or f"/{package}/" in filepath:
            return package
    return "other"


def _from_threadpoolctl() -> list[dict[str, Any]] | None:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [{"used_by": _used_by(pool.get("filepath", "")), "library": pool.get("internal_api"),
             "version": pool.get("version"), "architecture": pool.get("architecture"),
             "threads": pool.get("num_threads")}
            for pool in threadpool_info() if pool.get("user_api") == "blas"]


def _from_build_configuration() -> list[dict[str, Any]]:
    found = []
    for package in (np, scipy):
        blas = package.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
        found.append({"used_by": package.__name__, "library": blas.get("name"), "version": blas.get("version"),
                      "architecture": None, "threads": None})
    return found


@cache
def libraries() -> dict[str, Any]:
    blas = _from_threadpoolctl()
    return {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
            "numba": numba.__version__, "blas": blas if blas else _from_build_configuration()}
