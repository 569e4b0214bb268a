"""The version of the code that flies a campaign, recorded with its results.

A campaign directory is resumed only by the code that started it: results flown by
other code may not hold for this one. :func:`code_version` says which code is running:

- ``describe``: ``git describe --always --dirty`` when the packages sit in a git
  checkout (``.git`` next to ``flight/``), else ``"unknown"``;
- ``package``: the installed distribution's version of ``thermine`` (``"unknown"``
  when it is not installed);
- ``source_sha256``: a sha256 over every ``*.py``, ``*.yaml`` and ``*.c`` file of the
  ``flight``, ``hal`` and ``sims`` packages as imported, in order of their relative
  paths, each hashed with its path: it changes with any edit, committed or not.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

PACKAGES = ("flight", "hal", "sims")
SOURCE_SUFFIXES = (".py", ".yaml", ".c")
DIST = "thermine"
GIT_TIMEOUT_S = 5.0
UNKNOWN = "unknown"


def package_dirs() -> list[Path]:
    """The directories of the imported ``flight``, ``hal`` and ``sims`` packages.

    Raises:
        ImportError: one of them cannot be imported (a broken install).
    """
    dirs = []
    for name in PACKAGES:
        module = importlib.import_module(name)
        assert module.__file__ is not None, name
        dirs.append(Path(module.__file__).resolve().parent)
    return dirs


def source_sha256(dirs: Iterable[Path]) -> str:
    """sha256 over the source files (``*.py``, ``*.yaml``, ``*.c``) under ``dirs``.

    Files are taken in order of their path relative to the parent of their package
    directory (``flight/app.py``); each contributes that path, its length and its
    bytes, so a rename, a new file or an edit all change the digest. Other files
    (``__pycache__``, compiled ``.so``, data) do not count.

    Raises:
        OSError: a source file cannot be read.
    """
    files: list[tuple[str, Path]] = []
    for d in dirs:
        for p in d.rglob("*"):
            if p.suffix in SOURCE_SUFFIXES and p.is_file() and "__pycache__" not in p.parts:
                files.append((p.relative_to(d.parent).as_posix(), p))
    h = hashlib.sha256()
    for rel, p in sorted(files):
        data = p.read_bytes()
        h.update(f"{rel}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def git_describe(root: Path) -> str:
    """``git describe --always --dirty`` of the checkout at ``root``, or ``"unknown"``
    when ``root`` is not a checkout, git is missing, fails or takes over 5 s. Never
    raises, and never writes the checkout's index (``GIT_OPTIONAL_LOCKS=0``)."""
    if not (root / ".git").exists():
        return UNKNOWN
    try:
        proc = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=root, capture_output=True,
            text=True, timeout=GIT_TIMEOUT_S, check=False,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"}, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return UNKNOWN
    out = proc.stdout.strip()
    return out if proc.returncode == 0 and out else UNKNOWN


def package_version() -> str:
    """The installed version of the ``thermine`` distribution, or ``"unknown"``."""
    try:
        return importlib.metadata.version(DIST)
    except importlib.metadata.PackageNotFoundError:
        return UNKNOWN


def code_version() -> dict[str, str]:
    """``{"describe": ..., "package": ..., "source_sha256": ...}`` of the running code.

    Raises:
        OSError: a source file of the packages cannot be read.
    """
    dirs = package_dirs()
    return {"describe": git_describe(dirs[0].parent), "package": package_version(),
            "source_sha256": source_sha256(dirs)}


def short(version: dict[str, str] | None) -> str:
    """One line for reports: ``git 1a2b3c4-dirty, thermine 0.1.0, source sha256 <hex>``."""
    v = version or {}
    return (f"git {v.get('describe', UNKNOWN)}, thermine {v.get('package', UNKNOWN)}, "
            f"source sha256 {v.get('source_sha256', UNKNOWN)}")
