"""The campaign report: report.md, report.html, junit.xml, figures and the terminal table
(#19: trigger columns in mission-time order, no `-` column, a legend, latency against its
bound, dispersions with units, the code version, never GREEN when interrupted)."""

from __future__ import annotations

import html
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from ground.campaign.report import rerun_command, summarize
from ground.campaign.report_figures import latency_rows
from ground.campaign.report_files import write_reports
from ground.campaign.report_labels import order_triggers, param_unit, static_key
from ground.campaign.report_tables import outcome_table

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HINT = "thermine campaign rerun runs/camp-x RUN_ID"


HEAT, CAPTURE = "EXTRACT_HEAT+0s", "EXTRACT_CAPTURE+60s"


def rec(index: int, fault: str = "heater_open_circuit", trigger: str = HEAT,
        outcome: str = "pass", **kw: Any) -> dict[str, Any]:
    """A results.jsonl record with every key; ``kw`` overrides."""
    seed = kw.pop("seed", index)
    nominal = fault == "nominal"
    r: dict[str, Any] = {
        "run_id": f"nominal--s{seed}" if nominal else f"{fault}--{trigger}--s{seed}",
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
            run_dir="runs/heater_open_circuit--EXTRACT_HEAT+0s--s2"),
        rec(3, outcome="pass", dispersions={"sample.ice_mass_fraction": 0.04}),
        rec(4, trigger=CAPTURE, outcome="fail", detection_latency_s=190.0,
            reasons=["detected late: 190 s > bound 130 s <script>alert(1)</script>"]),
        rec(5, trigger=CAPTURE, outcome="fail",
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
    # no "-" column: a fault-free run has no trigger; "all" sums each row
    assert lines[0].split() == ["fault", "t=600s", HEAT, CAPTURE, "all"]
    row = {ln.split()[0]: ln.split()[1:] for ln in lines[2:11] if ln}
    assert row["heater_open_circuit"] == [".", "2/3*", "0/2*", "2/5*"]
    assert row["valve_stuck"] == ["1/3*", ".", ".", "1/3*"]
    assert row["nominal"] == [".", ".", ".", "1/1"]
    assert "not flown" in table  # the legend of '.'
    assert "total 9: 4 pass, 3 fail, 1 error, 1 timeout" in table
    assert "RED: 3 failed, 1 error, 1 timeout of 9" in table
    assert outcome_table([]) == "no runs finished yet"


def test_markdown_matrix_verdict_and_failures(tmp_path: Path,
                                              records: list[dict[str, Any]]) -> None:
    paths = write_reports(tmp_path, META, records)
    md = paths["report.md"].read_text()
    assert md.startswith("# Fault-injection campaign: heater-faults")
    assert "**Verdict: RED: 3 failed, 1 error, 1 timeout of 9 (incomplete: 9 of 10" in md
    assert ("| fault / trigger | t = 600 s mission time | EXTRACT_HEAT +0 s | "
            "EXTRACT_CAPTURE +60 s | all triggers |") in md
    assert "| heater_open_circuit | — | 2/3 ✗ | 0/2 ✗ | 2/5 ✗ |" in md
    assert "| valve_stuck | 1/3 ✗ | — | — | 1/3 ✗ |" in md
    assert "| nominal | — | — | — | 1/1 |" in md
    assert "—: not flown" in md  # the legend
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
    d = "runs/heater_open_circuit--EXTRACT_HEAT+0s--s2/"
    assert f"[{d}]({d})" in md
    assert "FDIR detects the fault within 130 s" in md
    assert "| sample.ice_mass_fraction | 1 | — | 3 | 0.04 | 0.051 | 0.06 |" in md
    assert "![detection latency / bound per fault](latency.png)" in md
    # worst cases: the late detection (190/130) ranks first
    worst = md.split("## Worst cases")[1]
    assert worst.index("--EXTRACT_CAPTURE+60s--s4") < worst.index("--s8")


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
    late = by_name["heater_open_circuit--EXTRACT_CAPTURE+60s--s4"]
    assert late.get("classname") == "heater-faults.heater_open_circuit"
    assert float(late.get("time") or 0) == pytest.approx(2.5)
    failure = late.find("failure")
    assert failure is not None and failure.get("message", "").startswith("detected late")
    err = by_name["valve_stuck--t=600s--s6"].find("error")
    assert err is not None and "ZeroDivisionError" in (err.text or "")
    out = by_name["valve_stuck--t=600s--s7"].find("system-out")
    assert out is not None and "thermine campaign rerun runs/camp-x valve_stuck--t=600s--s7" in (
        out.text or "")
    assert by_name["nominal--s0"].find("failure") is None


def test_html_escapes_and_links(tmp_path: Path, records: list[dict[str, Any]]) -> None:
    page = write_reports(tmp_path, META, records)["report.html"].read_text()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<img src="latency.png"' in page and '<a href="outcomes.png">' in page
    assert "thermine campaign rerun runs/camp-x heater_open_circuit--EXTRACT_HEAT+0s--s2" in page
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


# ---------------------------------------------------------------- #19


SHUFFLED = ["ELECTROLYZE+60s", "plan", "TRANSFER+60s", "heater_temp_k>400+0s",
            "EXTRACT_HEAT+200s", "t=0s", "EXTRACT_CAPTURE+60s", "ELECTROLYZE+0s", HEAT]
MISSION_ORDER = ["t=0s", HEAT, "EXTRACT_HEAT+200s", "EXTRACT_CAPTURE+60s", "TRANSFER+60s",
                 "ELECTROLYZE+0s", "ELECTROLYZE+60s", "heater_temp_k>400+0s", "plan"]


def _headings(page: str) -> list[str]:
    """The trigger columns of report.html's matrix, from their title attributes."""
    matrix = page.split('<table class="matrix">', 1)[1].split("</tr>", 1)[0]
    return [html.unescape(t) for t in re.findall(r'<th class="trig" title="([^"]*)">', matrix)]


def test_trigger_columns_come_in_mission_time_order(tmp_path: Path) -> None:
    """Without injection times: the label's own order (mission start, then the state
    chart's states by delay, telemetry conditions, plan files); with them: the median
    mission time the faults were injected at, which is the real order."""
    rs = [rec(i, trigger=t) for i, t in enumerate(SHUFFLED)] + [rec(20, "nominal")]
    assert sorted(SHUFFLED, key=static_key) == MISSION_ORDER
    assert order_triggers([r["trigger"] for r in rs], rs) == MISSION_ORDER
    assert outcome_table(rs).splitlines()[0].split() == ["fault", *MISSION_ORDER, "all"]
    page = write_reports(tmp_path, META, rs)["report.html"].read_text()
    assert _headings(page) == MISSION_ORDER
    # HEAT lasted 150 s on this payload: HEAT+200s came after CAPTURE+60s
    times = {HEAT: 5.0, "EXTRACT_HEAT+200s": 205.0, "EXTRACT_CAPTURE+60s": 215.0}
    rs = [rec(i, trigger=t, injected_at_s=times[t]) for i, t in enumerate(times)]
    assert order_triggers(times, rs) == [HEAT, "EXTRACT_HEAT+200s", "EXTRACT_CAPTURE+60s"]
    rs[1]["injected_at_s"] = 300.0
    assert order_triggers(times, rs) == [HEAT, "EXTRACT_CAPTURE+60s", "EXTRACT_HEAT+200s"]


def test_no_dash_column_and_the_matrix_has_a_legend(tmp_path: Path,
                                                    records: list[dict[str, Any]]) -> None:
    paths = write_reports(tmp_path, META, records)
    page = paths["report.html"].read_text()
    assert "-" not in _headings(page) and len(_headings(page)) == 3
    assert "<th>-</th>" not in page and "| - |" not in paths["report.md"].read_text()
    legend = page.split('<p class="legend">', 1)[1].split("</p>", 1)[0]
    for cls, words in (("ok", "all runs passed"), ("bad", "a run failed, erred or timed out"),
                       ("na", "not flown")):
        assert f'<span class="sw {cls}"></span>{words}' in legend
    # every grey cell is one the legend explains; the nominal row says why it has none
    # (heater_open_circuit has no t=600s run, valve_stuck only that one)
    assert page.count('class="na" title="not flown"') == 1 + 2
    assert "fault-free runs: no fault injected, no trigger" in page
    # a red cell links to the failure it holds
    anchors = set(re.findall(r'id="(run-\d+)"', page))
    reds = re.findall(r'<td class="bad[^"]*"><a href="#(run-\d+)">', page)
    assert reds and set(reds) <= anchors


def test_latency_is_shown_against_its_bound(tmp_path: Path,
                                            records: list[dict[str, Any]]) -> None:
    """One row per fault with a bound, its runs as latency / bound; the fault with a
    run never detected or furthest over its bound comes first."""
    rows = latency_rows(summarize(tmp_path, META, records))
    assert [r[0] for r in rows] == ["heater_open_circuit", "valve_stuck"]
    fault, pts, missed, bounds = rows[0]
    assert missed == 1 and bounds == [130.0]
    assert max(p for p, _ in pts) == pytest.approx(190.0 / 130.0)
    assert (190.0 / 130.0, False) in pts  # the late run is drawn as a failure
    assert rows[1][1] == [(12.0 / 30.0, True)]
    md = write_reports(tmp_path, META, records)["report.md"].read_text()
    assert "| heater_open_circuit | 4/5 | 41.0 | 44.0 | 190.0 | 130 | 1.46 |" in md


def test_dispersions_carry_their_units_and_draws(tmp_path: Path) -> None:
    disp = {"power.bus_cap_w": 48.35, "noise.heater_temp": 0.16,
            "sample.ice_mass_fraction": 0.056, "trap.cryo_lift_w_at_ref": 2.39}
    rs = [rec(0, outcome="fail", reasons=["x"], dispersions=disp)]
    entries = [{"param": "power.bus_cap_w", "dist": "uniform", "low": 40.0, "high": 50.0,
                "mode": "set"},
               {"param": "noise.*", "dist": "uniform", "low": 0.5, "high": 2.0,
                "mode": "scale"},
               {"param": "trap.cryo_lift_w_at_ref", "dist": "normal", "mean": 1.0,
                "sigma": 0.1, "low": 0.7, "high": 1.3, "mode": "scale"}]
    assert param_unit("power.bus_cap_w") == "W" and param_unit("noise.heater_temp") == "K"
    assert param_unit("sample.ice_mass_fraction") == "1"
    paths = write_reports(tmp_path, {**META, "dispersions": entries}, rs)
    md, page = paths["report.md"].read_text(), paths["report.html"].read_text()
    assert "| power.bus_cap_w | W | uniform 40–50 W | 1 | 48.35 | 48.35 | 48.35 |" in md
    assert "| noise.heater_temp | K | uniform 0.5–2 × nominal |" in md
    assert "| trap.cryo_lift_w_at_ref | W | normal mean 1 sigma 0.1 in 0.7–1.3 × nominal |" in md
    assert "| sample.ice_mass_fraction | 1 | — |" in md
    assert "<th>unit</th>" in page and "<td>uniform 40–50 W</td>" in page
    assert "`power.bus_cap_w` = 48.35 W" in md  # in the failure too
    assert "`sample.ice_mass_fraction` = 0.056," in md


def test_an_interrupted_report_says_so_everywhere(tmp_path: Path) -> None:
    rs = [rec(i, outcome="pass") for i in range(3)]
    page = write_reports(tmp_path, {**META, "planned_runs": 17, "interrupted": True},
                         rs)["report.html"].read_text()
    assert "<title>INTERRUPTED: " in page and "GREEN" not in page.split("</style>", 1)[1]
    assert "This campaign was interrupted" in page
    assert "3 of 17 runs" in page
