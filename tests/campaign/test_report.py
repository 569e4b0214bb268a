"""The campaign report: report.md, report.html, junit.xml, figures and the terminal table."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from ground.campaign.report import outcome_table, rerun_command, summarize
from ground.campaign.report_files import write_reports

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HINT = "thermine campaign rerun runs/camp-x RUN_ID"


def rec(index: int, fault: str = "heater_open_circuit", trigger: str = "heat+0s",
        outcome: str = "pass", **kw: Any) -> dict[str, Any]:
    """A results.jsonl record with every key; ``kw`` overrides."""
    seed = kw.pop("seed", index)
    nominal = fault == "nominal"
    r: dict[str, Any] = {
        "run_id": f"{fault}--{'-' if nominal else trigger}--s{seed}",
        "index": index, "seed": seed, "fault": fault,
        "fault_spec": None if nominal else {"layer": "device", "kind": "open_circuit",
                                            "target": "heater", "params": {},
                                            "trigger": trigger},
        "trigger": "-" if nominal else trigger, "dispersions": {},
        "outcome": outcome, "reasons": [], "final_state": "SAFE" if not nominal else "IDLE",
        "mission_complete": nominal, "end_reason": "fdir_safe" if not nominal else "complete",
        "detected": None if nominal else True,
        "detection_latency_s": None if nominal else 40.0 + index,
        "detection_bound_s": None if nominal else 130.0,
        "monitor": None if nominal else "heater_current_low",
        "response": None if nominal else "safe", "violations": [],
        "mission_time_s": 1800.0, "wall_time_s": 2.5, "worker_rss_mb": 120.0,
        "telemetry_sha256": "ab" * 32, "run_dir": None, "error": None,
    }
    r.update(kw)
    return r


TRACEBACK = "Traceback (most recent call last):\n" + "".join(
    f'  File "flight/x.py", line {n}, in f{n}\n    call()\n' for n in range(40)
) + "ZeroDivisionError: division by zero"

META: dict[str, Any] = {
    "name": "heater-faults", "campaign_file": "configs/campaigns/heater.yaml",
    "mission": "configs/missions/quick.yaml", "hardware": "configs/hardware/sim.yaml",
    "created_utc": "2026-11-24T06:25:00Z", "planned_runs": 10, "workers": 4,
    "executor": "local", "wall_time_s": 123.4,
    "criteria": {"max_violations": 0, "nominal_must_complete": True}, "rerun_hint": HINT,
}


@pytest.fixture
def records() -> list[dict[str, Any]]:
    rs = [
        rec(0, "nominal", outcome="pass", dispersions={"sample.ice_mass_fraction": 0.051}),
        rec(1, outcome="pass", dispersions={"sample.ice_mass_fraction": 0.06}),
        rec(2, outcome="fail", detected=False, detection_latency_s=None, monitor=None,
            reasons=["not detected (bound 130 s)"],
            run_dir="runs/heater_open_circuit--heat+0s--s2"),
        rec(3, outcome="pass", dispersions={"sample.ice_mass_fraction": 0.04}),
        rec(4, trigger="capture+60s", outcome="fail", detection_latency_s=190.0,
            reasons=["detected late: 190 s > bound 130 s <script>alert(1)</script>"]),
        rec(5, trigger="capture+60s", outcome="fail",
            reasons=["1 safety violation: plate_overtemp"],
            violations=[{"invariant": "plate_overtemp", "at_s": 600.0, "value": 420.0,
                         "limit": 400.0, "count": 3}]),
        rec(6, "valve_stuck", trigger="t=600s", outcome="error", detected=None,
            detection_latency_s=float("nan"), reasons=[], error=TRACEBACK),
        rec(7, "valve_stuck", trigger="t=600s", outcome="timeout", detected=None,
            detection_latency_s=None, error="TimeoutError: run exceeded 600 s wall time"),
        rec(8, "valve_stuck", trigger="t=600s", outcome="pass", detection_latency_s=12.0,
            detection_bound_s=30.0, monitor="valve_position"),
    ]
    return list(reversed(rs))  # the report must sort by index itself


def test_outcome_table_counts(records: list[dict[str, Any]]) -> None:
    table = outcome_table(records)
    lines = table.splitlines()
    assert lines[0].split() == ["fault", "-", "heat+0s", "capture+60s", "t=600s"]
    row = {ln.split()[0]: ln.split()[1:] for ln in lines[2:] if ln and not ln.startswith("total")}
    assert "2/3*" in row["heater_open_circuit"]
    assert "0/2*" in row["heater_open_circuit"]
    assert "1/3*" in row["valve_stuck"]
    assert "1/1" in row["nominal"]
    assert "total 9: 4 pass, 3 fail, 1 error, 1 timeout" in table
    assert "RED: 3 failed, 1 error, 1 timeout of 9" in table
    assert outcome_table([]) == "no runs finished yet"


def test_markdown_matrix_verdict_and_failures(tmp_path: Path,
                                              records: list[dict[str, Any]]) -> None:
    paths = write_reports(tmp_path, META, records)
    md = paths["report.md"].read_text()
    assert md.startswith("# Fault-injection campaign: heater-faults")
    assert "**Verdict: RED: 3 failed, 1 error, 1 timeout of 9 (incomplete: 9 of 10" in md
    assert "| heater_open_circuit | — | 2/3 ✗ | 0/2 ✗ | — |" in md
    assert "| valve_stuck | — | — | — | 1/3 ✗ |" in md
    assert "| nominal | 1/1 | — | — | — |" in md
    assert "| runs done / planned | 9 / 10 |" in md
    for r in records:
        if r["outcome"] != "pass":
            cmd = f"thermine campaign rerun runs/camp-x {r['run_id']}"
            assert f"```sh\n{cmd}\n```" in md
            assert f"### {r['run_id']}: {r['outcome'].upper()}" in md
    # worst first: error, timeout, violation, undetected, late
    order = [md.index(f"### {records[-1 - i]['run_id']}:") for i in (6, 7, 5, 2, 4)]
    assert order == sorted(order)
    # the traceback is fenced and truncated to its last 30 lines
    assert "ZeroDivisionError: division by zero\n```" in md
    assert "earlier lines omitted" in md and "in f0\n" not in md
    assert "[runs/heater_open_circuit--heat+0s--s2/](runs/heater_open_circuit--heat+0s--s2/)" in md
    assert "FDIR detects the fault within 130 s" in md
    assert "| sample.ice_mass_fraction | 3 | 0.04 | 0.051 | 0.06 |" in md
    assert "![detection latency histogram](latency.png)" in md
    # worst cases: the late detection (190/130) ranks first
    worst = md.split("## Worst cases")[1]
    assert worst.index("--capture+60s--s4") < worst.index("--s8")


def test_green_when_all_pass(tmp_path: Path) -> None:
    rs = [rec(i, outcome="pass") for i in range(3)]
    md = write_reports(tmp_path, {**META, "planned_runs": 3}, rs)["report.md"].read_text()
    assert "**Verdict: GREEN: 3/3 passed**" in md
    assert "None: every run passed." in md


def test_an_interrupted_campaign_is_never_green(tmp_path: Path) -> None:
    """Every run flown so far passed, but 5 of 8 were never flown: the terminal table and
    both reports say INTERRUPTED with how many were flown, not GREEN."""
    rs = [rec(i, outcome="pass") for i in range(3)]
    table = outcome_table(rs, planned=8, interrupted=True)
    assert "GREEN" not in table
    assert table.splitlines()[-1] == ("INTERRUPTED: 3 of 8 runs flown (3 pass, 0 fail, "
                                      "0 error, 0 timeout); run the same command to resume")
    empty = outcome_table([], planned=8, interrupted=True).splitlines()
    assert empty[0] == "no runs finished yet"
    assert empty[-1].startswith("INTERRUPTED: 0 of 8 runs flown (0 pass, 0 fail")
    paths = write_reports(tmp_path, {**META, "planned_runs": 8, "interrupted": True}, rs)
    md, page = paths["report.md"].read_text(), paths["report.html"].read_text()
    assert "**Verdict: INTERRUPTED: 3 of 8 runs flown" in md and "GREEN" not in md
    assert '<p class="verdict INTERRUPTED">Verdict: INTERRUPTED: 3 of 8' in page
    assert "GREEN: 3/3" not in page


def test_the_code_version_is_in_both_reports(tmp_path: Path) -> None:
    code = {"describe": "1a2b3c4-dirty", "package": "0.1.0", "source_sha256": "5e" * 32}
    paths = write_reports(tmp_path, {**META, "code_version": code}, [rec(0)])
    line = f"git 1a2b3c4-dirty, thermine 0.1.0, source sha256 {'5e' * 32}"
    assert f"| code version | {line} |" in paths["report.md"].read_text()
    assert line in paths["report.html"].read_text()


def test_junit_counts_and_cases(tmp_path: Path, records: list[dict[str, Any]]) -> None:
    records[0]["error"] = "boom \x1b[31mred\x1b[0m \x00"  # control characters must not break XML
    records[0]["outcome"] = "error"
    path = write_reports(tmp_path, META, records)["junit.xml"]
    root = ET.parse(path).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite is not None
    assert (suite.get("name"), suite.get("tests"), suite.get("failures"),
            suite.get("errors")) == ("heater-faults", "9", "3", "3")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [r["run_id"] for r in reversed(records)]
    assert len(suite.findall("testcase/failure")) == 3
    assert len(suite.findall("testcase/error")) == 3
    by_name = {c.get("name"): c for c in cases}
    late = by_name["heater_open_circuit--capture+60s--s4"]
    assert late.get("classname") == "heater-faults.heater_open_circuit"
    assert float(late.get("time") or 0) == pytest.approx(2.5)
    failure = late.find("failure")
    assert failure is not None and failure.get("message", "").startswith("detected late")
    err = by_name["valve_stuck--t=600s--s6"].find("error")
    assert err is not None and "ZeroDivisionError" in (err.text or "")
    out = by_name["valve_stuck--t=600s--s7"].find("system-out")
    assert out is not None and "thermine campaign rerun runs/camp-x valve_stuck--t=600s--s7" in (
        out.text or "")
    assert by_name["nominal-----s0"].find("failure") is None


def test_html_escapes_and_links(tmp_path: Path, records: list[dict[str, Any]]) -> None:
    page = write_reports(tmp_path, META, records)["report.html"].read_text()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<img src="latency.png"' in page and '<img src="outcomes.png"' in page
    assert "thermine campaign rerun runs/camp-x heater_open_circuit--heat+0s--s2" in page
    assert page.rstrip().endswith("</html>")


def test_pngs_written(tmp_path: Path, records: list[dict[str, Any]]) -> None:
    paths = write_reports(tmp_path, META, records)
    for name in ("latency.png", "outcomes.png"):
        assert paths[name].read_bytes()[:8] == PNG_MAGIC


@pytest.mark.parametrize("latency", [None, float("nan")])
def test_no_detections_and_all_nominal(tmp_path: Path, latency: float | None) -> None:
    rs = [rec(0, outcome="fail", detected=False, detection_latency_s=latency,
              reasons=["not detected"])]
    paths = write_reports(tmp_path / "undetected", META, rs)
    assert paths["latency.png"].read_bytes()[:8] == PNG_MAGIC
    assert "No detections with a finite latency" in paths["report.md"].read_text()
    nominal = [rec(i, "nominal") for i in range(2)]
    paths = write_reports(tmp_path / "nominal", META, nominal)
    md = paths["report.md"].read_text()
    assert "All runs are nominal" in md and "GREEN: 2/2 passed" in md
    assert paths["latency.png"].read_bytes()[:8] == PNG_MAGIC


def test_empty_records(tmp_path: Path) -> None:
    paths = write_reports(tmp_path, META, [])
    assert "No runs finished yet" in paths["report.md"].read_text()
    assert "No runs finished yet" in paths["report.html"].read_text()
    suite = ET.parse(paths["junit.xml"]).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "0"
    assert paths["outcomes.png"].read_bytes()[:8] == PNG_MAGIC


def test_writing_twice_leaves_no_temp_files(tmp_path: Path,
                                            records: list[dict[str, Any]]) -> None:
    first = write_reports(tmp_path, META, records)
    md = first["report.md"].read_text()
    second = write_reports(tmp_path, META, records)
    assert first == second
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(first)
    assert second["report.md"].read_text() == md  # deterministic


def test_rerun_command_without_hint(tmp_path: Path) -> None:
    assert rerun_command({}, Path("runs/c"), "a--t=600s--s1") == \
        "thermine campaign rerun runs/c a--t=600s--s1"
    assert rerun_command({"rerun_hint": "x rerun d"}, tmp_path, "r1") == "x rerun d r1"


def test_summary_ignores_nan_in_latency_stats() -> None:
    rs = [rec(1, detection_latency_s=float("nan")), rec(2, detection_latency_s=50.0)]
    row = summarize(Path("."), META, rs).latency[0]
    assert row["n"] == 1 and row["median"] == 50.0 and not math.isnan(row["max"])


def test_failure_lists_what_the_case_expected(tmp_path: Path) -> None:
    """The issue-ready failure text states the case's expectations (end state, mission
    completion), not only the detection bound."""
    r = rec(1, outcome="fail", final_state="IDLE", reasons=["ended in IDLE, expected SAFE"],
            expect={"detect_within_s": 130.0, "end_state": ["SAFE"], "complete": None})
    n = rec(2, "nominal", outcome="fail", reasons=["false alarm"])
    meta = {"name": "c", "criteria": {"max_violations": 0, "nominal_no_trip": True,
                                      "nominal_must_complete": True}}
    text = write_reports(tmp_path, meta, [r, n])["report.md"].read_text()
    assert "- the run ends in SAFE" in text
    assert "- FDIR detects the fault within 130 s" in text
    assert "- no FDIR monitor trips (no false alarm)" in text
