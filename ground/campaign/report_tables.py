"""Tables: the rows both report pages show (report.md and report.html): detection
latency, failures, worst cases, dispersions, the links of a kept run; and the plain-text
outcome matrix the CLI prints at the end (:func:`outcome_table`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ground.campaign.report import (
    Issue,
    Summary,
    cell_text,
    fmt,
    has_failures,
    outcome_of,
    summarize,
    totals_line,
)
from ground.campaign.spec import NOMINAL

LAT_HEAD = ["fault", "detected / runs", "min [s]", "median [s]", "max [s]", "bound [s]",
            "worst latency / bound", "monitors"]
FAIL_HEAD = ["run", "outcome", "why", "timeline"]
WORST_HEAD = ["#", "run", "outcome", "latency [s]", "bound [s]", "latency / bound"]
DISP_HEAD = ["parameter", "unit", "drawn", "seeds", "min", "median", "max"]
DISP_NOTE = ("The values flown, per seed (every run of a seed flies the same payload), in "
             "the unit given (1: dimensionless); noise.<sensor> is the 1-sigma noise of its "
             "readings; × nominal: the draw multiplies the value the mission and hardware "
             "YAMLs give.")


def latency_cells(s: Summary) -> list[list[Any]]:
    """One row per fault: detections, latency statistics, bound and the worst ratio."""
    return [[x["fault"], f"{x['detected']}/{x['runs']}", fmt(x["min"]), fmt(x["median"]),
             fmt(x["max"]), x["bound"], fmt(x["worst_ratio"], ".2f"), x["monitors"]]
            for x in s.latency]


def headline(i: Issue) -> str:
    """The failure in one line: its first reason (or error, or outcome)."""
    return i.title.split(": ", 2)[-1]


def worst_cells(s: Summary) -> list[list[Any]]:
    """The runs detected closest to (or past) their bound, worst first."""
    return [[n, w["record"].get("run_id"), outcome_of(w["record"]), fmt(w["latency"]),
             fmt(w["bound"], "g"), fmt(w["ratio"], ".2f")]
            for n, w in enumerate(s.worst, 1)]


def disp_cells(s: Summary) -> list[list[Any]]:
    """One row per dispersed parameter: unit, how drawn, and the values flown."""
    return [[k, unit, drawn, n, a, "", ""] if isinstance(a, str)  # a choice: its counts
            else [k, unit, drawn, n, fmt(a, ".4g"), fmt(m, ".4g"), fmt(b, ".4g")]
            for k, unit, drawn, n, a, m, b in s.dispersions]


def run_links(i: Issue) -> list[tuple[str, str]]:
    """(text, relative target) of a kept run's files: its directory, summary, events and
    timeline (when it was drawn)."""
    assert i.run_dir is not None
    links = [(f"{i.run_dir}/", f"{i.run_dir}/"), ("summary.json", f"{i.run_dir}/summary.json"),
             ("events.jsonl", f"{i.run_dir}/events.jsonl")]
    return links + ([("timeline.png", i.timeline)] if i.timeline else [])


def no_timeline_reason(i: Issue) -> str:
    """Why a failure has no timeline.png to link."""
    if i.run_dir is None:
        return "not kept (keep_telemetry)"
    return "not drawn (no telemetry, or no matplotlib)"


# ---------------------------------------------------------------- terminal table


def outcome_table(records: list[dict[str, Any]], planned: int | None = None,
                  interrupted: bool = False) -> str:
    """A plain-text table for the terminal: faults (rows) x triggers (columns), cells
    "passed/total" ('*' marks cells with non-pass runs), then a pass/fail/error/timeout line
    and the verdict (``INTERRUPTED: ...`` when ``interrupted``, never GREEN)."""
    s = summarize(Path("."), {"planned_runs": planned, "interrupted": interrupted}, records)
    if not s.records:
        return "no runs finished yet" + (f"\n{s.verdict}" if interrupted else "")
    rows = [["fault", *s.triggers, "all"]]
    for f in s.faults:
        row = [f]
        for t in s.triggers:
            c = s.cells.get((f, t))
            row.append("." if not c else cell_text(c) + ("*" if has_failures(c) else ""))
        c = s.fault_totals[f]
        rows.append(row + [cell_text(c) + ("*" if has_failures(c) else "")])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(r, widths, strict=True))).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += ["", "cells: passed/total runs, in mission-time order of the trigger; * a failed, "
              "errored or timed-out run; . not flown (no such trigger for that case; "
              f"the {NOMINAL} runs have none)", totals_line(s.counts), s.verdict]
    return "\n".join(lines)
