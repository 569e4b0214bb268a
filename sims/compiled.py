"""The plant's compiled kernels (:mod:`sims._kernels`, from ``sims/_kernels.c``).

Import them from here: this says what to do when the module was never built, and refuses
one built from another version of its source (a checkout updated without reinstalling),
which would otherwise run the old arithmetic without a word.

Raises (on import):
    ImportError: the module is missing, or its source has changed since it was built;
        the message says how to rebuild (``make``, or ``pip install -e .``: needs a C
        compiler and the Python headers).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_SOURCE = Path(__file__).with_name("_kernels.c")
_REBUILD = ("rebuild it: `make test` or `make run` do, or `pip install -e .` (needs a C "
            "compiler and the Python headers)")

try:
    from sims import _kernels as kernels
except ImportError as exc:  # pragma: no cover - only on an unbuilt checkout
    raise ImportError(f"sims._kernels (the plant's compiled kernels, {_SOURCE.name}) is not "
                      f"built: {_REBUILD}") from exc


def source_sha256() -> str | None:
    """The sha256 of ``sims/_kernels.c`` beside the package, or None if it is not there."""
    try:
        return hashlib.sha256(_SOURCE.read_bytes()).hexdigest()
    except OSError:
        return None


def check_build(built: str, source: str | None) -> None:
    """Raise ImportError unless the module built with source sha256 ``built`` is of the
    ``source`` beside it (None: no source to compare, nothing to check)."""
    if source is not None and built != source:
        raise ImportError(f"sims._kernels was built from another version of {_SOURCE.name} "
                          f"(built {built[:12]}, source {source[:12]}): {_REBUILD}")


check_build(kernels.SOURCE_SHA256, source_sha256())

__all__ = ["kernels", "check_build", "source_sha256"]
