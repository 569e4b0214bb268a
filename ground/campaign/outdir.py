"""The campaign directory: whether it is fit to be one, which campaign (and code) it
holds, the results file, atomic writes.

``check_out_dir`` looks without touching anything (a rejected campaign leaves nothing
behind); ``prepare_dir`` runs under the directory's lock and writes ``campaign.yaml``, or
checks that the one there is this campaign flown by this code.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from common.errors import ConfigError
from ground.campaign.spec import Campaign
from ground.dirlock import LOCK_NAME

RESULTS = "results.jsonl"
RESOLVED = "campaign.yaml"
RUNS = "runs"
#: keys of campaign.yaml that are not the campaign's configuration
NOT_CONFIG = ("source", "code_version")


def _umask() -> int:
    """The process's umask (read by setting it, then putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same directory and ``os.replace``.

    Raises:
        OSError: the directory is not writable (the temp file is removed).
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # (mkstemp makes 0600: as open() would instead)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_out_dir(out_dir: Path) -> None:
    """Check, without creating or writing anything, that ``out_dir`` can be a campaign
    directory: a campaign directory already (it has ``campaign.yaml``), an empty
    directory, or a path that can be created (its nearest existing parent is a writable
    directory). The lock file (``.lock``) does not count as content.

    Raises:
        ConfigError: ``out_dir`` is a file, a directory holding other things, or cannot
            be created.
    """
    if out_dir.exists():
        if not out_dir.is_dir():
            raise ConfigError(str(out_dir), "is a file, not a campaign directory; choose "
                              "another --out")
        if (out_dir / RESOLVED).exists():
            return
        others = sorted(p.name for p in out_dir.iterdir() if p.name != LOCK_NAME)
        if others:
            shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            raise ConfigError(str(out_dir), f"is not a campaign directory (no {RESOLVED}) "
                              f"and not empty ({shown}); choose another --out")
        if not os.access(out_dir, os.W_OK | os.X_OK):
            raise ConfigError(str(out_dir), "is not writable; choose another --out")
        return
    parent = out_dir.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(str(out_dir), f"cannot be created: {parent} is a file; choose "
                          "another --out")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(str(out_dir), f"cannot be created: {parent} is not writable; "
                          "choose another --out")


def read_results(path: Path) -> list[dict[str, Any]]:
    """The whole lines of a results file; a torn last line (a kill mid-write) is cut off
    the file so appending goes on cleanly.

    Raises:
        OSError: the file cannot be read or cut.
    """
    if not path.exists():
        return []
    data = path.read_bytes()
    records: list[dict[str, Any]] = []
    good = 0
    for line in data.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            break
        good += len(line)
    if good != len(data):
        with path.open("r+b") as f:
            f.truncate(good)
    return records


def recorded(out_dir: Path) -> dict[str, Any]:
    """The ``campaign.yaml`` of ``out_dir`` as a dict ({} when there is none).

    Raises:
        ConfigError: it is not valid YAML.
    """
    path = out_dir / RESOLVED
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), f"not valid YAML: {exc}") from None
    return data if isinstance(data, dict) else {}


def code_changed(old: dict[str, Any], version: dict[str, str]) -> str | None:
    """None when ``old`` (a campaign.yaml) was written by the code of ``version``; else
    ``"source sha256 <old 12> then, <new 12> now"``."""
    was = str((old.get("code_version") or {}).get("source_sha256") or "")
    now = version["source_sha256"]
    if was == now:
        return None
    return f"source sha256 {was[:12] or 'not recorded'} then, {now[:12]} now"


def check_resume(campaign: Campaign, out_dir: Path, version: dict[str, str],
                 rerun_all: bool = False) -> bool:
    """Whether ``out_dir`` already holds this campaign (same config, same input files)
    flown by this code (or ``rerun_all``); False when it holds no campaign yet. Reads
    only.

    Raises:
        ConfigError: ``out_dir`` holds another campaign, its inputs changed since, or
            (without ``rerun_all``) other code flew it.
    """
    old = recorded(out_dir)
    if not old:
        return False
    resolved = campaign.resolved()
    changed = sorted(k for k in set(old) | set(resolved)
                     if k not in NOT_CONFIG and old.get(k) != resolved.get(k))
    if changed:
        raise ConfigError(str(out_dir), f"holds results of a different campaign "
                          f"(differs in: {', '.join(changed)}); choose another --out "
                          "or remove that directory")
    code = code_changed(old, version)
    if code and not rerun_all:
        raise ConfigError(str(out_dir), f"the code changed since this campaign was flown "
                          f"({code}): pass --rerun-all to fly every run again, or "
                          "choose another --out")
    return True


def prepare_dir(campaign: Campaign, out_dir: Path, version: dict[str, str],
                rerun_all: bool = False) -> list[dict[str, Any]]:
    """Write the resolved ``campaign.yaml`` (with ``version``, the running code's) into
    ``out_dir``, or check that the one there is this campaign flown by this code
    (:func:`check_resume`); return the finished records to resume from.

    With ``rerun_all`` the old results (``results.jsonl``, the kept ``runs/``) are
    discarded, ``campaign.yaml`` records this code, and no record is returned: every run
    is flown again. Call it holding the directory's lock.

    Raises:
        ConfigError: as :func:`check_resume`.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    write = not check_resume(campaign, out_dir, version, rerun_all) or rerun_all
    if rerun_all:  # results first: campaign.yaml must never vouch for stale results
        with (out_dir / RESULTS).open("wb"):
            pass
        shutil.rmtree(out_dir / RUNS, ignore_errors=True)
    if write:
        resolved = {**campaign.resolved(), "code_version": dict(version)}
        atomic_write(out_dir / RESOLVED,
                     yaml.safe_dump(resolved, sort_keys=False).encode("utf-8"))
    records = read_results(out_dir / RESULTS)
    ids = {r.run_id for r in campaign.runs}
    return [r for r in records if r.get("run_id") in ids]
