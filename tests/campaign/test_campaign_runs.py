"""Campaigns as a user runs them: real SIL runs through a process pool, the results file,
kept files of failures, resume, a torn results line, errors and time limits, Ctrl-C,
rerun bit for bit, and the Dask path on a LocalCluster.

The cases are faults that safe the quick mission within seconds of HEAT (each run is
~0.5 s of wall time), so the whole module stays short."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from common.errors import ConfigError
from ground.campaign.engine import run_campaign
from ground.campaign.outdir import RESULTS, read_results
from ground.campaign.runner import run_one
from ground.campaign.spec import load_campaign
from ground.cli import main

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "configs/missions/quick.yaml"
SIM = ROOT / "configs/hardware/sim.yaml"
HEAT = [{"on_state": "EXTRACT_HEAT"}]


def campaign_file(tmp_path: Path, **body: Any) -> Path:
    data = {"name": "t", "mission": str(QUICK), "hardware": str(SIM), "seeds": [1],
            "nominal": False, "triggers": HEAT, "faults": [
                {"name": "brownout", "layer": "plant", "kind": "brownout",
                 "expect": {"detect_within_s": 6, "end_state": "SAFE"}},
                # bound 1 s: the 5 s brown-out filter makes this one fail, on purpose
                {"name": "brownout_tight", "layer": "plant", "kind": "brownout",
                 "expect": {"detect_within_s": 1}},
                {"name": "trap_noise", "layer": "device", "kind": "noise",
                 "target": "trap_temp", "params": {"sigma": 5},
                 "expect": {"detect_within_s": 6, "end_state": "SAFE"}}]}
    data.update(body)
    p = tmp_path / "camp.yaml"
    p.write_text(yaml.safe_dump(data), encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def flown(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    tmp = tmp_path_factory.mktemp("camp")
    campaign = load_campaign(campaign_file(tmp))
    out = tmp / "out"
    return out, run_campaign(campaign, out, workers=2, progress=False)


def test_results_have_one_whole_line_per_run_with_outcomes(flown: tuple[Path, Any]) -> None:
    out, result = flown
    lines = (out / RESULTS).read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert sorted(r["run_id"] for r in records) == [
        "brownout--EXTRACT_HEAT+0s--s1", "brownout_tight--EXTRACT_HEAT+0s--s1",
        "trap_noise--EXTRACT_HEAT+0s--s1"]
    by = {r["fault"]: r for r in records}
    assert by["brownout"]["outcome"] == "pass"
    assert by["brownout"]["monitor"] == "bus_brownout"
    assert 0.0 <= by["brownout"]["detection_latency_s"] <= 6.0
    assert by["brownout"]["final_state"] == "SAFE" and by["brownout"]["violations"] == []
    assert by["brownout_tight"]["outcome"] == "fail"
    assert "bound 1 s" in by["brownout_tight"]["reasons"][0]
    assert by["trap_noise"]["outcome"] == "pass"
    assert result.tally.counts == {"pass": 2, "fail": 1, "error": 0, "timeout": 0}
    for r in records:
        assert r["wall_time_s"] > 0 and len(r["telemetry_sha256"]) == 64
        assert 10.0 < r["worker_rss_mb"] < 1000.0


def test_only_failures_keep_their_files(flown: tuple[Path, Any]) -> None:
    """keep_telemetry: failures (default): the failed run's telemetry, events, summary
    and timeline are in runs/<id>/; the passed runs left nothing behind."""
    out, result = flown
    kept = sorted(p.name for p in (out / "runs").iterdir())
    assert kept == ["brownout_tight--EXTRACT_HEAT+0s--s1"]
    run_dir = out / "runs" / kept[0]
    assert {"telemetry.jsonl", "events.jsonl", "summary.json", "timeline.png"} <= {
        p.name for p in run_dir.iterdir()}
    rec = next(r for r in result.records if r["outcome"] == "fail")
    assert rec["run_dir"] == f"runs/{kept[0]}"
    import hashlib

    tel = (run_dir / "telemetry.jsonl").read_bytes()
    assert hashlib.sha256(tel).hexdigest() == rec["telemetry_sha256"]


def test_rerun_reproduces_a_run_bit_for_bit(flown: tuple[Path, Any], capsys) -> None:
    out, result = flown
    run_id = "brownout_tight--EXTRACT_HEAT+0s--s1"
    code = main(["campaign", "rerun", str(out), run_id])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "reproduced bit for bit" in text and "bound 1 s" in text
    rerun_dir = out / "rerun" / run_id
    assert (rerun_dir / "timeline.png").exists()
    assert (rerun_dir / "telemetry.jsonl").read_bytes() == (
        out / "runs" / run_id / "telemetry.jsonl").read_bytes()


def test_rerun_of_an_unknown_run_names_close_ones(flown: tuple[Path, Any], capsys) -> None:
    out, _ = flown
    assert main(["campaign", "rerun", str(out), "brownout--EXTRACT_HEAT--s1"]) == 2
    err = capsys.readouterr().err
    assert "no run 'brownout--EXTRACT_HEAT--s1'" in err
    assert "brownout--EXTRACT_HEAT+0s--s1" in err


def test_resume_skips_finished_runs_and_cuts_a_torn_line(tmp_path: Path) -> None:
    """A kill mid-write leaves half a line: it is cut off and that run flown again; the
    runs already whole in the file are not flown again."""
    campaign = load_campaign(campaign_file(tmp_path))
    out = tmp_path / "out"
    first = run_campaign(campaign, out, workers=1, progress=False)
    lines = (out / RESULTS).read_bytes().splitlines(keepends=True)
    kept = lines[0]
    (out / RESULTS).write_bytes(kept + lines[1][: len(lines[1]) // 2])  # torn
    again = run_campaign(campaign, out, workers=1, progress=False)
    records = read_results(out / RESULTS)
    assert len(records) == 3
    assert (out / RESULTS).read_bytes().startswith(kept)
    assert len({r["run_id"] for r in records}) == 3
    # the first line's run was not flown again: its record is byte-identical
    assert json.loads(kept) in records
    assert again.tally.counts == first.tally.counts
    # nothing left to do: a third call flies nothing
    third = run_campaign(campaign, out, workers=1, progress=False)
    assert (out / RESULTS).read_bytes().count(b"\n") == 3 and third.tally.done == 3


def test_another_campaign_in_the_same_directory_is_refused(tmp_path: Path) -> None:
    campaign = load_campaign(campaign_file(tmp_path))
    out = tmp_path / "out"
    run_campaign(dataclasses.replace(campaign, runs=campaign.runs[:1]), out, workers=1,
                 progress=False)
    other = load_campaign(campaign_file(tmp_path, seeds=[2]))
    with pytest.raises(ConfigError, match="different campaign.*seeds"):
        run_campaign(other, out, workers=1, progress=False)


def test_a_run_that_raises_or_overruns_is_recorded_and_the_campaign_goes_on(
        tmp_path: Path, mocker) -> None:
    campaign = load_campaign(campaign_file(tmp_path))
    spec = campaign.runs[0]
    mocker.patch("ground.harness.run.Run.fly", side_effect=RuntimeError("boom in the flight code"))
    record, files = run_one(spec)
    assert record["outcome"] == "error"
    assert record["reasons"] == ["RuntimeError: boom in the flight code"]
    assert "Traceback" in record["error"] and "boom" in record["error"]
    mocker.stopall()
    record, files = run_one(dataclasses.replace(spec, time_limit_s=1e-6))
    assert record["outcome"] == "timeout"
    assert "wall-time limit" in record["reasons"][0]
    # failures keep what the run wrote before it stopped
    assert "events.jsonl" in files


def test_a_run_is_a_pure_function_of_its_spec(tmp_path: Path) -> None:
    """Twice in one process (a worker reuses its parsed inputs) -> the same bytes."""
    spec = load_campaign(campaign_file(tmp_path)).runs[2]
    a, _ = run_one(spec)
    b, _ = run_one(spec)
    assert a["telemetry_sha256"] == b["telemetry_sha256"]
    assert a["detection_latency_s"] == b["detection_latency_s"]


def test_cli_runs_reports_and_exits_red_on_a_failure(tmp_path: Path, capsys,
                                                     pinned_code_version: dict) -> None:
    p = campaign_file(tmp_path)
    out = tmp_path / "cli"
    code = main(["campaign", str(p), "--workers", "2", "--out", str(out), "--quiet"])
    text = capsys.readouterr().out
    assert code == 1, text
    assert "brownout_tight" in text and "report:" in text
    for name in ("campaign.yaml", "results.jsonl", "report.md", "report.html", "junit.xml"):
        assert (out / name).exists(), name
    resolved = yaml.safe_load((out / "campaign.yaml").read_text())
    assert resolved["mission"] == str(QUICK) and len(resolved["inputs_sha256"]) >= 3
    # the code that flew it (conftest pins the real code_version for the session)
    assert resolved["code_version"] == pinned_code_version
    sha = pinned_code_version["source_sha256"]
    for name in ("report.md", "report.html"):
        report = (out / name).read_text()
        assert f"git {pinned_code_version['describe']}, thermine " in report and sha in report


def test_cli_bad_campaign_exits_2_naming_the_key(tmp_path: Path, monkeypatch,
                                                 capsys) -> None:
    """From tmp_path: the default output (runs/campaign-t) must not land in the repo, and
    a rejected campaign creates none at all."""
    monkeypatch.chdir(tmp_path)
    p = campaign_file(tmp_path, workers=2)
    assert main(["campaign", str(p)]) == 2
    assert "workers: unknown key" in capsys.readouterr().err
    assert main(["campaign", str(campaign_file(tmp_path)), "--workers", "0"]) == 2
    assert main(["campaign", str(campaign_file(tmp_path)), "--executor", "slurm"]) == 2
    assert not (tmp_path / "runs").exists()


def _eight_noise_runs_command(tmp_path: Path, out: Path) -> list[str]:
    """`thermine campaign` of eight noise faults into ``out``, one worker: long enough to
    be interrupted part way (each run safes in ~0.3 s)."""
    faults = [{"name": f"noise{i}", "layer": "device", "kind": "noise", "target": "trap_temp",
               "params": {"sigma": 5.0 + i}, "expect": {"detect_within_s": 6}}
              for i in range(8)]
    p = campaign_file(tmp_path, faults=faults)
    return [sys.executable, "-m", "ground.cli", "campaign", str(p), "--workers", "1",
            "--out", str(out), "--quiet"]


def test_ctrl_c_leaves_whole_lines_and_the_same_command_resumes(tmp_path: Path) -> None:
    """SIGINT to `thermine campaign` (as Ctrl-C sends it): exit 4, every line of
    results.jsonl whole; the same command then finishes the rest and exits 0. (Also
    where the campaign starts with SIGINT ignored, as a shell's background job does:
    CI ran the suite so, and the campaign flew on to GREEN.)"""
    out = tmp_path / "out"
    cmd = _eight_noise_runs_command(tmp_path, out)
    # started with SIGINT ignored, as a background job is: it must stop all the same
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, preexec_fn=lambda: signal.signal(signal.SIGINT,
                                                                       signal.SIG_IGN))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        res = out / RESULTS
        if res.exists() and res.read_bytes().count(b"\n") >= 1:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGINT)
    text, err = proc.communicate(timeout=120)
    assert proc.returncode == 4, err
    assert "resume" in err
    data = (out / RESULTS).read_bytes()
    assert data.endswith(b"\n")
    done = [json.loads(line) for line in data.splitlines()]
    assert 1 <= len(done) < 8
    # every run flown so far passed, yet it is no verdict: never GREEN
    assert "GREEN" not in text and f"INTERRUPTED: {len(done)} of 8 runs flown" in text, text
    assert f"INTERRUPTED: {len(done)} of 8 runs flown" in (out / "report.md").read_text()
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    final = read_results(out / RESULTS)
    assert sorted(r["run_id"] for r in final) == sorted(
        f"noise{i}--EXTRACT_HEAT+0s--s1" for i in range(8))
    assert final[: len(done)] == done  # the first part was not flown again


def test_dask_local_cluster_runs_the_same_campaign(tmp_path: Path) -> None:
    """The cluster path: Client(address).get_executor(pure=False) against a LocalCluster
    of two worker processes; the results equal a local run's, bit for bit."""
    distributed = pytest.importorskip("distributed")
    campaign = load_campaign(campaign_file(tmp_path))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        address = "dask://" + cluster.scheduler_address.split("://", 1)[1]
        result = run_campaign(campaign, tmp_path / "dask", executor=address, progress=False)
    assert result.executor.startswith("dask tcp://") and "2 workers" in result.executor
    local = run_campaign(campaign, tmp_path / "local", workers=2, progress=False)
    key = lambda rs: {r["run_id"]: (r["outcome"], r["telemetry_sha256"]) for r in rs}  # noqa: E731
    assert key(result.records) == key(local.records)
    assert (tmp_path / "dask/runs/brownout_tight--EXTRACT_HEAT+0s--s1/telemetry.jsonl").exists()


def test_the_report_links_each_failure_to_its_timeline(flown: tuple[Path, Any]) -> None:
    """#19: every failing run links its timeline.png (drawn by the report if the worker
    did not), and every relative link and picture of report.html is a file that exists;
    every in-page link has its target."""
    import html
    import re

    from ground.campaign.report_files import write_reports

    out, result = flown
    failing = [r for r in result.records if r["outcome"] != "pass"]
    assert [r["run_id"] for r in failing] == ["brownout_tight--EXTRACT_HEAT+0s--s1"]
    timeline = out / failing[0]["run_dir"] / "timeline.png"
    timeline.unlink()  # as if its worker had no matplotlib
    meta = {"name": "t", "planned_runs": 3, "rerun_hint": f"thermine campaign rerun {out} RUN_ID",
            "code_version": {"describe": "abc1234", "package": "0.1.0", "source_sha256": "f" * 64}}
    paths = write_reports(out, meta, result.records)
    assert timeline.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = paths["report.html"].read_text()
    targets = [html.unescape(t) for t in re.findall(r'(?:href|src)="([^"]+)"', page)]
    files = [t for t in targets if not t.startswith("#")]
    assert f"{failing[0]['run_dir']}/timeline.png" in files
    assert "latency.png" in files and "outcomes.png" in files
    for t in files:
        assert "://" not in t and not t.startswith("/"), t
        assert (out / t).exists(), t
    ids = set(re.findall(r'id="([^"]+)"', page))
    assert {t[1:] for t in targets if t.startswith("#")} <= ids
    assert "git abc1234, thermine 0.1.0" in page  # the code version
    md = paths["report.md"].read_text()
    assert f"({failing[0]['run_dir']}/timeline.png)" in md


def test_sigterm_interrupts_like_ctrl_c_and_files_follow_the_umask(tmp_path: Path) -> None:
    """SIGTERM (kill, a service manager, a CI timeout) to `thermine campaign`: exit 4,
    INTERRUPTED with how many of how many ran, never GREEN, in the terminal and both
    reports; the files are made with the umask's mode like any tool's (#19: 0600)."""
    out = tmp_path / "out"
    cmd = _eight_noise_runs_command(tmp_path, out)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, preexec_fn=lambda: os.umask(0o027))
    deadline = time.monotonic() + 120
    res = out / RESULTS
    while time.monotonic() < deadline and not (res.exists() and res.read_bytes().count(b"\n")):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGTERM)
    text, err = proc.communicate(timeout=120)
    assert proc.returncode == 4, err
    n = len(read_results(res))
    assert 1 <= n < 8
    verdict = f"INTERRUPTED: {n} of 8 runs flown"
    assert "GREEN" not in text and verdict in text, text
    assert f"interrupted with {n} of 8 runs done" in err
    assert verdict in (out / "report.md").read_text()
    page = (out / "report.html").read_text()
    assert f'<p class="verdict INTERRUPTED">Verdict: {verdict}' in page
    for name in ("campaign.yaml", RESULTS, "report.md", "report.html", "junit.xml",
                 "latency.png", "outcomes.png"):
        assert (out / name).stat().st_mode & 0o777 == 0o640, name
