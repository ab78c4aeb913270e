"""The numerical libraries recorded in every result's meta (worker.libraries)."""

import platform

import numba
import numpy as np
import scipy

from worker import libraries as module
from worker.libraries import libraries


def test_versions_and_each_blas_are_named():
    found = libraries()
    assert (found["python"], found["numpy"], found["scipy"]) == (platform.python_version(), np.__version__, scipy.__version__)
    assert found["numba"] == numba.__version__
    users = {blas["used_by"] for blas in found["blas"]}
    assert {"numpy", "scipy"} <= users, found["blas"]
    for blas in found["blas"]:
        assert blas["library"] and blas["version"] and blas["architecture"] and blas["threads"] >= 1, blas


def test_worked_out_once_per_process():
    assert libraries() is libraries()


def test_without_threadpoolctl_the_build_configuration_names_the_blas(monkeypatch):
    monkeypatch.setattr(module, "_from_threadpoolctl", lambda: None)
    module.libraries.cache_clear()
    try:
        found = module.libraries()
        assert [blas["used_by"] for blas in found["blas"]] == ["numpy", "scipy"]
        assert all(blas["version"] and blas["library"] for blas in found["blas"])
    finally:
        module.libraries.cache_clear()
