"""Operator safety of ``thermine campaign`` (issue #14): a rejected campaign leaves nothing
behind, results are resumed only by the code that flew them, one campaign per directory,
and the code version of every campaign is on record."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from ground.campaign import version
from ground.campaign.engine import open_campaign
from ground.campaign.outdir import RESOLVED, RESULTS, check_out_dir, code_changed
from ground.campaign.spec import load_campaign
from ground.campaign.version import code_version  # the real one (conftest pins the module's)
from ground.cli import main
from ground.dirlock import LOCK_NAME, DirectoryBusy, lock_directory

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "configs/missions/quick.yaml"
SIM = ROOT / "configs/hardware/sim.yaml"
BROWNOUT = {"name": "brownout", "layer": "plant", "kind": "brownout",
            "expect": {"detect_within_s": 6, "end_state": "SAFE"}}
RUN_ID = "brownout--EXTRACT_HEAT+0s--s1"


def campaign_file(tmp_path: Path, **body: Any) -> Path:
    """A one-run campaign (a brown-out that safes the quick mission in ~0.5 s)."""
    data = {"name": "t", "mission": str(QUICK), "hardware": str(SIM), "seeds": [1],
            "nominal": False, "triggers": [{"on_state": "EXTRACT_HEAT"}],
            "faults": [BROWNOUT], **body}
    p = tmp_path / "camp.yaml"
    p.write_text(yaml.safe_dump(data), encoding="utf-8")
    return p


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("thermine: error: "), err
    return lines[0]


# ---------------------------------------------------------------- rejected: nothing created


def _bad(tmp_path: Path, case: str) -> tuple[list[str], Path]:
    """The arguments of a campaign rejected for ``case``, and its --out."""
    out = tmp_path / "out"
    good = str(campaign_file(tmp_path))
    if case == "workers":
        return [good, "--workers", "0"], out
    if case == "executor":
        return [good, "--executor", "slurm"], out
    if case == "yaml":
        return [str(campaign_file(tmp_path, workers=2))], out
    if case == "mission":
        return [str(campaign_file(tmp_path, mission=str(tmp_path / "none.yaml")))], out
    if case == "plan":
        (tmp_path / "plan.yaml").write_text("faults: [{id: x, layer: plant, kind: nope}]\n")
        return [str(campaign_file(tmp_path, faults=[{"name": "p", "plan": "plan.yaml"}]))], out
    if case == "out_is_a_file":
        out.write_text("not a directory\n")
        return [good], out
    if case == "out_under_a_file":
        (tmp_path / "f").write_text("a file\n")
        return [good], tmp_path / "f" / "out"
    assert case == "out_not_a_campaign"
    out.mkdir()
    (out / "summary.json").write_text("{}\n")  # e.g. a run directory
    return [good], out


@pytest.mark.parametrize("case", ["workers", "executor", "yaml", "mission", "plan",
                                  "out_is_a_file", "out_under_a_file", "out_not_a_campaign"])
def test_a_rejected_campaign_creates_nothing(tmp_path: Path, monkeypatch, capsys,
                                             case: str) -> None:
    """Workers, executor, YAML, mission, plans and --out are all checked before the
    output directory is created: exit 2, one error line, not a file written (neither in
    --out nor in the default runs/campaign-<name> of the working directory)."""
    args, out = _bad(tmp_path, case)
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in out.iterdir()) if out.is_dir() else None
    assert main(["campaign", *args, "--out", str(out), "--quiet"]) == 2
    captured = capsys.readouterr()
    one_error_line(captured.err)
    assert captured.out == ""
    assert (sorted(p.name for p in out.iterdir()) if out.is_dir() else None) == before
    assert not (tmp_path / "runs").exists()


def test_default_out_of_a_rejected_campaign_is_not_created(tmp_path: Path, monkeypatch,
                                                            capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["campaign", str(campaign_file(tmp_path)), "--workers", "0"]) == 2
    assert "--workers: must be >= 1" in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "runs").exists()


# ---------------------------------------------------------------- one campaign per directory


def test_a_busy_campaign_directory_is_refused_naming_the_holder(tmp_path: Path,
                                                                capsys) -> None:
    out = tmp_path / "out"
    with lock_directory(out, "campaign"):
        code = main(["campaign", str(campaign_file(tmp_path)), "--out", str(out),
                     "--workers", "1", "--quiet"])
        err = one_error_line(capsys.readouterr().err)
    assert code == 2
    assert f"campaign directory in use by pid {os.getpid()} on " in err
    assert "choose another --out" in err
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]  # nothing written
    check_out_dir(out)  # the lock file alone does not make the directory "not empty"


def test_the_lock_is_held_for_the_whole_campaign(tmp_path: Path) -> None:
    """From before campaign.yaml is written until the block (flying, reports) ends."""
    campaign = load_campaign(campaign_file(tmp_path))
    out = tmp_path / "out"
    with open_campaign(campaign, out, workers=1):
        assert (out / RESOLVED).exists()
        with pytest.raises(DirectoryBusy, match="campaign directory in use by pid"):
            lock_directory(out, "campaign")
    lock_directory(out, "campaign").release()
    check_out_dir(out)


# ---------------------------------------------------------------- code version


def test_code_version_names_git_package_and_source(tmp_path: Path) -> None:
    v = code_version()
    assert set(v) == {"describe", "package", "source_sha256"}
    assert v["package"] == importlib.metadata.version("thermine")
    assert len(v["source_sha256"]) == 64 and int(v["source_sha256"], 16) >= 0
    assert code_version()["source_sha256"] == v["source_sha256"]
    if (ROOT / ".git").exists() and shutil.which("git"):
        assert v["describe"] != "unknown"


def test_source_sha256_covers_source_files_with_their_paths(tmp_path: Path) -> None:
    pkg, other = tmp_path / "flight", tmp_path / "hal"
    (pkg / "sub").mkdir(parents=True)
    other.mkdir()
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "sub" / "b.yaml").write_text("k: 1\n")
    (other / "c.c").write_text("int x;\n")
    base = version.source_sha256([pkg, other])
    (pkg / "notes.txt").write_text("not source\n")
    (pkg / "__pycache__").mkdir()
    (pkg / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert version.source_sha256([pkg, other]) == base
    (pkg / "a.py").write_text("x = 2\n")
    assert version.source_sha256([pkg, other]) != base
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "sub" / "b.yaml").rename(pkg / "b.yaml")
    assert version.source_sha256([pkg, other]) != base
    (pkg / "b.yaml").rename(pkg / "sub" / "b.yaml")
    (other / "c.c").write_text("int y;\n")
    assert version.source_sha256([pkg, other]) != base


def test_git_describe_never_fails(tmp_path: Path, monkeypatch) -> None:
    assert version.git_describe(tmp_path) == "unknown"  # not a checkout
    (tmp_path / ".git").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))  # git missing
    assert version.git_describe(tmp_path) == "unknown"
    seen: dict[str, Any] = {}

    def hangs(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        raise subprocess.TimeoutExpired(args[0], kwargs["timeout"])

    monkeypatch.setattr(version.subprocess, "run", hangs)
    assert version.git_describe(tmp_path) == "unknown"
    assert 0 < seen["timeout"] <= 10


def _fake_version(digit: str) -> dict[str, str]:
    return {"describe": f"v{digit}", "package": "0.1.0", "source_sha256": digit * 64}


def test_results_of_other_code_are_not_resumed_without_rerun_all(
        tmp_path: Path, monkeypatch, capsys) -> None:
    """The code version is in campaign.yaml and the reports; after a code change a
    resume is refused (exit 2, both hashes, --rerun-all), rerun warns, and --rerun-all
    discards the old results and flies every run again."""
    monkeypatch.setattr(version, "code_version", lambda: _fake_version("a"))
    p, out = campaign_file(tmp_path), tmp_path / "out"
    args = ["campaign", str(p), "--out", str(out), "--workers", "1", "--quiet"]
    assert main(args) == 0
    capsys.readouterr()
    resolved = yaml.safe_load((out / RESOLVED).read_text())
    assert resolved["code_version"] == _fake_version("a")
    for name in ("report.md", "report.html"):
        text = (out / name).read_text()
        assert "code version" in text and "a" * 64 in text and "git va" in text, name

    monkeypatch.setattr(version, "code_version", lambda: _fake_version("b"))
    assert main(["campaign", "rerun", str(out), RUN_ID]) == 0
    captured = capsys.readouterr()
    assert "reproduced bit for bit" in captured.out
    assert "warning: the code changed since the campaign ran (source sha256 aaaaaaaaaaaa " \
           "then, bbbbbbbbbbbb now)" in captured.err

    stale = json.loads((out / RESULTS).read_text())
    stale["telemetry_sha256"] = "stale"
    (out / RESULTS).write_text(json.dumps(stale) + "\n")
    (out / "runs" / "old-run").mkdir(parents=True)
    files = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    assert main(args) == 2
    err = one_error_line(capsys.readouterr().err)
    assert "the code changed since this campaign was flown (source sha256 aaaaaaaaaaaa " \
           "then, bbbbbbbbbbbb now)" in err and "--rerun-all" in err
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == files  # nothing touched
    assert json.loads((out / RESULTS).read_text())["telemetry_sha256"] == "stale"

    assert main([*args, "--rerun-all"]) == 0
    assert "earlier results discarded" in capsys.readouterr().out
    records = [json.loads(line) for line in (out / RESULTS).read_text().splitlines()]
    assert [r["run_id"] for r in records] == [RUN_ID]
    assert len(records[0]["telemetry_sha256"]) == 64  # flown again, not the stale line
    assert not (out / "runs").exists()  # the old runs' files went with their results
    assert yaml.safe_load((out / RESOLVED).read_text())["code_version"] == _fake_version("b")
    assert "b" * 64 in (out / "report.md").read_text()

    assert main(args) == 0  # the same code now: a plain resume, nothing to fly
    assert "resuming: 1 done" in capsys.readouterr().out


def test_a_directory_without_a_recorded_code_version_counts_as_other_code() -> None:
    assert code_changed({}, _fake_version("c")) == \
        "source sha256 not recorded then, cccccccccccc now"
    assert code_changed({"code_version": _fake_version("c")}, _fake_version("c")) is None
