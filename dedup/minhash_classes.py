"""datasketch's MinHash and LeanMinHash, imported without scipy.integrate.

datasketch's package imports every class it has, and its LSH classes import scipy.integrate (for
quad, which MinHashLSH(threshold=...) integrates to choose bands and rows). wirewatch never runs
that (dedup.band_index is its own LSH), yet scipy.integrate was 0.6-0.7 s of import on a 2-core
machine: about a fifth of what each served run's new process spent importing the flow before
running it, and the same in every other process that loads dedup (`wirewatch run` and `ingest`,
the workers' fork server). So datasketch is imported once with a stand-in for scipy.integrate
whose quad loads the real one when first called. The stand-in leaves sys.modules as soon as
datasketch is in: any later `import scipy.integrate` gets the real module, and MinHashLSH works as
before (it calls the real quad through the stand-in's).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

_INTEGRATE = "scipy.integrate"


def _quad(*args: Any, **kwargs: Any) -> Any:
    return importlib.import_module(_INTEGRATE).quad(*args, **kwargs)


def import_sparing_integrate(package: str) -> None:
    """Import `package` (once) with the stand-in scipy.integrate, unless scipy.integrate is loaded."""
    if package in sys.modules or _INTEGRATE in sys.modules:
        return  # nothing to spare: the package is in, or scipy.integrate is loaded
    stand_in = types.ModuleType(_INTEGRATE)
    stand_in.quad = _quad  # type: ignore[attr-defined]
    sys.modules[_INTEGRATE] = stand_in
    try:
        importlib.import_module(package)
        return
    except (ImportError, AttributeError):
        # A version that wants more of scipy.integrate than quad: its half-imported modules go,
        # and it is imported again below, once the stand-in is gone, taking what it wants.
        for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
            del sys.modules[name]
    finally:
        if sys.modules.get(_INTEGRATE) is stand_in:
            del sys.modules[_INTEGRATE]
    importlib.import_module(package)


import_sparing_integrate("datasketch")

from datasketch import LeanMinHash, MinHash  # noqa: E402  (after the import above, on purpose)

__all__ = ["LeanMinHash", "MinHash"]
