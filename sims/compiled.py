"""The plant's kernels: compiled C (:mod:`sims._kernels`, from ``sims/_kernels.c``) when it
is built, else the same functions in numpy (:mod:`sims.kernels_numpy`).

Import them from here (``from sims.compiled import kernels``): the C module is an
accelerator, not a requirement. ``pip install`` builds it when the machine has a C
compiler and the Python headers and installs without it otherwise (setup.py: an optional
extension); the two paths take the same arguments and give the same results (to the
last bit where the platform's C library is the one Python's :mod:`math` uses; tested in
``tests/sims/test_kernel_paths.py``), the numpy one more slowly.

The choice, made once at import:

- ``THERMINE_KERNELS`` unset (or ``auto``): the C module if it imports, else numpy. A C
  module built from another version of ``sims/_kernels.c`` (a checkout updated without
  reinstalling) is refused with the command to rebuild it, as it would otherwise run
  the old arithmetic without a word;
- ``THERMINE_KERNELS=numpy``: numpy, whatever is built (a stale C module included);
- ``THERMINE_KERNELS=c``: the C module, or an ImportError saying why not.

:data:`KERNELS` says which (``"c"`` or ``"numpy"``), :func:`describe` says it in a line.

Raises (on import):
    ImportError: the C module is stale (and ``THERMINE_KERNELS`` is not ``numpy``), or
        ``THERMINE_KERNELS=c`` and it is missing, or ``THERMINE_KERNELS`` is another
        value; the message says how to rebuild (``make``, or ``pip install -e .``: needs
        a C compiler and the Python headers).
"""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from sims import kernels_numpy

_SOURCE = Path(__file__).with_name("_kernels.c")
_REBUILD = ("rebuild it: `make test` or `make run` do, or `pip install -e .` (needs a C "
            "compiler and the Python headers)")
#: the environment variable that forces a path: ``c``, ``numpy`` (unset or ``auto``: C
#: if built)
ENV = "THERMINE_KERNELS"
CHOICES = ("auto", "c", "numpy")


class StaleBuildError(ImportError):
    """The C module was built from another version of ``sims/_kernels.c``."""


def source_sha256() -> str | None:
    """The sha256 of ``sims/_kernels.c`` beside the package, or None if it is not there."""
    try:
        return hashlib.sha256(_SOURCE.read_bytes()).hexdigest()
    except OSError:
        return None


def check_build(built: str, source: str | None) -> None:
    """Raise :class:`StaleBuildError` (an ImportError) unless the module built with source
    sha256 ``built`` is of the ``source`` beside it (None: no source to compare, nothing
    to check)."""
    if source is not None and built != source:
        raise StaleBuildError(
            f"sims._kernels was built from another version of {_SOURCE.name} (built "
            f"{built[:12]}, source {source[:12]}): {_REBUILD}; or set {ENV}=numpy to run "
            "the numpy kernels instead")


def load_c() -> ModuleType:
    """The C module, checked against its source.

    Raises:
        ImportError: it is not built (or does not load), or it is stale (see
            :func:`check_build`).
    """
    try:
        module = importlib.import_module("sims._kernels")
    except ModuleNotFoundError as exc:
        if exc.name != "sims._kernels":
            raise
        raise ImportError(f"sims._kernels (the plant's compiled kernels, {_SOURCE.name}) "
                          f"is not built: {_REBUILD}") from exc
    except ImportError as exc:  # (there, but it does not load: another Python, ...)
        raise ImportError(f"sims._kernels (the plant's compiled kernels, {_SOURCE.name}) "
                          f"does not load ({exc}): {_REBUILD}") from exc
    check_build(module.SOURCE_SHA256, source_sha256())
    return module


def select(choice: str | None, load: Callable[[], ModuleType] = load_c
           ) -> tuple[ModuleType, str, str]:
    """The kernels for ``choice`` (the value of ``THERMINE_KERNELS``; None or ``""``:
    ``auto``) and a line saying which and why: ``(module, "c" | "numpy", line)``. ``load``
    gives the C module or raises ImportError (:func:`load_c`).

    Raises:
        ImportError: as described in the module's docstring.
    """
    choice = (choice or "auto").strip().lower() or "auto"
    if choice not in CHOICES:
        raise ImportError(f"{ENV}={choice!r}: expected one of {', '.join(CHOICES)} "
                          "(or unset)")
    if choice == "numpy":
        return kernels_numpy, "numpy", f"numpy kernels ({ENV}=numpy)"
    try:
        module = load()
    except StaleBuildError:  # (today's behaviour: rebuild, or ask for numpy)
        raise
    except ImportError as exc:
        if choice == "c":
            raise ImportError(f"{ENV}=c, but {exc}") from exc
        why = ("C extension not built" if isinstance(exc.__cause__, ModuleNotFoundError)
               else f"C extension does not load: {exc.__cause__ or exc}")
        return kernels_numpy, "numpy", f"numpy kernels ({why})"
    return module, "c", f"compiled C kernels (sims/{_SOURCE.name})"


#: the kernels this process runs: :mod:`sims._kernels` or :mod:`sims.kernels_numpy`
kernels: ModuleType
#: which: ``"c"`` or ``"numpy"``
KERNELS: str
kernels, KERNELS, _DESCRIPTION = select(os.environ.get(ENV))


def describe() -> str:
    """Which kernels this process runs, in one line (for ``thermine bench`` and reports):
    e.g. ``compiled C kernels (sims/_kernels.c)``, ``numpy kernels (C extension not
    built)``."""
    return _DESCRIPTION


__all__ = ["CHOICES", "ENV", "KERNELS", "StaleBuildError", "check_build", "describe",
           "kernels", "load_c", "select", "source_sha256"]
