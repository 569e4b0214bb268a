"""The campaign report: what V&V engineers read after a fault-injection campaign.

:func:`summarize` turns the campaign's meta data and its ``results.jsonl`` records into a
:class:`Summary`: the outcome matrix (trigger columns in mission-time order,
``report_labels``), the verdict (``INTERRUPTED``, never ``GREEN``, for a campaign that
stopped early), latency against its bound, every failure as an issue, the worst cases and
the dispersions with their units. ``report_files.write_reports`` renders it into
``report.md`` (``report_md``), ``report.html`` (``report_html``), ``junit.xml``
(``junit``) and the figures (``report_figures``); ``report_tables.outcome_table`` is the
plain-text matrix the CLI prints. Every file is written atomically (temp name in the same
directory, then ``os.replace``) so an interrupted campaign never leaves half a report.
"""

from __future__ import annotations

import json
import math
import shlex
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ground.campaign.report_labels import draws_by_param, order_triggers, param_unit
from ground.campaign.spec import NOMINAL
from ground.campaign.version import short

OUTCOMES = ("pass", "fail", "error", "timeout")
TRACEBACK_LINES = 30
WORST_CASES = 10


@dataclass
class Issue:
    """One non-pass run, laid out as a GitHub issue."""

    record: dict[str, Any]
    title: str
    injected: str
    expected: list[str]
    observed: list[str]
    reasons: list[str]
    #: (parameter, value flown, its unit)
    dispersions: list[tuple[str, float | str | None, str]]
    run_dir: str | None
    timeline: str | None
    rerun: str
    traceback: str | None


@dataclass
class Summary:
    """Everything the report renderers need, computed once from the records."""

    meta: dict[str, Any]
    out_dir: Path
    records: list[dict[str, Any]]
    faults: list[str] = field(default_factory=list)
    #: trigger columns in mission-time order (a fault-free run has none)
    triggers: list[str] = field(default_factory=list)
    cells: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)
    #: outcomes of each fault over all its triggers (the matrix's last column)
    fault_totals: dict[str, Counter[str]] = field(default_factory=dict)
    #: (fault, trigger) -> run id of the worst non-pass run in that cell
    cell_failure: dict[tuple[str, str], str] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    verdict: str = ""
    header: list[tuple[str, str]] = field(default_factory=list)
    latency: list[dict[str, Any]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    worst: list[dict[str, Any]] = field(default_factory=list)
    #: (parameter, unit, how drawn, n, min, median, max)
    dispersions: list[tuple[str, str, str, int, Any, Any, Any]] = field(
        default_factory=list)


# ---------------------------------------------------------------- small helpers


def finite(x: Any) -> float | None:
    """``x`` as a float if it is a finite number, else None (None, NaN, inf, junk)."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x) if math.isfinite(x) else None


def fmt(x: Any, spec: str = ".1f") -> str:
    """A number formatted with ``spec``, or an em dash when it is missing or not finite."""
    v = finite(x)
    return "—" if v is None else format(v, spec)


def outcome_of(r: dict[str, Any]) -> str:
    """The record's outcome; anything unknown counts as an error."""
    o = r.get("outcome")
    return o if o in OUTCOMES else "error"


def rerun_command(meta: dict[str, Any], out_dir: Path, run_id: str) -> str:
    """The exact command that reruns ``run_id``, from ``meta["rerun_hint"]`` or ``out_dir``."""
    hint = str(meta.get("rerun_hint") or "").strip()
    rid = shlex.quote(run_id)
    if not hint:
        return f"thermine campaign rerun {shlex.quote(str(out_dir))} {rid}"
    return hint.replace("RUN_ID", rid) if "RUN_ID" in hint else f"{hint} {rid}"


def tail(text: str, n: int = TRACEBACK_LINES) -> str:
    """The last ``n`` lines of ``text``, saying how many earlier lines were dropped."""
    lines = text.rstrip("\n").splitlines()
    if len(lines) <= n:
        return "\n".join(lines)
    return "\n".join([f"... ({len(lines) - n} earlier lines omitted)", *lines[-n:]])


def violation_count(r: dict[str, Any]) -> int:
    return sum(int(v.get("count") or 1) for v in r.get("violations") or [])


def excess_s(r: dict[str, Any]) -> float | None:
    """Detection latency minus its bound, when both are known."""
    lat, bound = finite(r.get("detection_latency_s")), finite(r.get("detection_bound_s"))
    return None if lat is None or bound is None else lat - bound


def _severity(r: dict[str, Any]) -> tuple[int, float, int]:
    """Sort key, worst first: error/timeout, violations, undetected, latency over bound."""
    o, idx = outcome_of(r), int(r.get("index") or 0)
    if o in ("error", "timeout"):
        return (0 if o == "error" else 1, 0.0, idx)
    if violation_count(r):
        return (2, -float(violation_count(r)), idx)
    if r.get("detected") is False:
        return (3, 0.0, idx)
    ex = excess_s(r)
    if ex is not None and ex > 0:
        return (4, -ex, idx)
    return (5, 0.0, idx)


def _run_dir_link(out_dir: Path, run_dir: Any) -> tuple[str | None, str | None]:
    """(run_dir, timeline.png path) as safe relative links, or None."""
    if not run_dir or not isinstance(run_dir, str) or ":" in run_dir or run_dir.startswith("/"):
        return None, None
    rd = run_dir.rstrip("/")
    timeline = f"{rd}/timeline.png" if (out_dir / rd / "timeline.png").is_file() else None
    return rd, timeline


def anchor(r: dict[str, Any]) -> str:
    """The HTML id of a run's failure section: ``run-<index>``."""
    return f"run-{int(r.get('index') or 0)}"


def url(path: str) -> str:
    """A relative path quoted for use in a link."""
    return quote(path, safe="/._-+=")


# ---------------------------------------------------------------- analysis


def _issue(r: dict[str, Any], meta: dict[str, Any], out_dir: Path) -> Issue:
    o, fault = outcome_of(r), str(r.get("fault"))
    reasons = [str(x) for x in r.get("reasons") or []]
    err = r.get("error")
    err_last = str(err).strip().splitlines()[-1] if err and str(err).strip() else None
    headline = reasons[0] if reasons else (err_last or o)
    spec = r.get("fault_spec") or {}
    if fault == NOMINAL or not spec:
        injected = "nothing (nominal run)" if fault == NOMINAL else f"fault {fault}"
    else:
        params = json.dumps(spec.get("params") or {}, sort_keys=True)
        injected = (f"fault {fault}: layer {spec.get('layer')}, kind {spec.get('kind')}"
                    + (f", target {spec['target']}" if spec.get("target") else "")
                    + (f", params {params}" if spec.get("params") else ""))
    injected += f"; trigger {r.get('trigger')}; seed {r.get('seed')}"
    criteria = meta.get("criteria") or {}
    expected = ["the run finishes without an exception or a timeout"]
    bound = finite(r.get("detection_bound_s"))
    if fault != NOMINAL and bound is not None:
        expected.append(f"FDIR detects the fault within {bound:g} s")
    expect = r.get("expect") or {}
    if fault != NOMINAL and expect.get("end_state"):
        expected.append(f"the run ends in {' or '.join(expect['end_state'])}")
    if fault != NOMINAL and expect.get("complete") is not None:
        expected.append("the mission completes" if expect["complete"]
                        else "the mission does not complete")
    if fault == NOMINAL and criteria.get("nominal_must_complete"):
        expected.append("the nominal mission completes")
    if fault == NOMINAL and criteria.get("nominal_no_trip"):
        expected.append("no FDIR monitor trips (no false alarm)")
    if "max_violations" in criteria:
        n = criteria["max_violations"]
        expected.append("no safety-invariant violations" if n == 0
                        else f"at most {n} safety-invariant violations")
    observed = [f"outcome {o.upper()}"]
    if fault != NOMINAL:
        if r.get("detected") is True:
            observed.append(f"detected after {fmt(r.get('detection_latency_s'))} s "
                            f"(bound {fmt(bound, 'g')} s) by monitor {r.get('monitor') or '—'}, "
                            f"response {r.get('response') or '—'}")
        elif r.get("detected") is False:
            observed.append(f"not detected (bound {fmt(bound, 'g')} s)")
    for v in r.get("violations") or []:
        observed.append(f"violation {v.get('invariant')} at {fmt(v.get('at_s'))} s: value "
                        f"{fmt(v.get('value'), '.4g')}, limit {fmt(v.get('limit'), '.4g')}, "
                        f"{v.get('count')} sample(s)")
    mc = r.get("mission_complete")
    observed.append(f"final state {r.get('final_state') or '—'}, mission complete "
                    f"{'—' if mc is None else ('yes' if mc else 'no')}, end reason "
                    f"{r.get('end_reason') or '—'}, mission time "
                    f"{fmt(r.get('mission_time_s'))} s, wall time {fmt(r.get('wall_time_s'))} s")
    if err_last:
        observed.append(f"error: {err_last}")
    run_dir, timeline = _run_dir_link(out_dir, r.get("run_dir"))
    disp = sorted((r.get("dispersions") or {}).items())
    return Issue(
        record=r, title=f"{r.get('run_id')}: {o.upper()}: {headline}", injected=injected,
        expected=expected, observed=observed, reasons=reasons,
        dispersions=[(str(k), v if isinstance(v, str) else finite(v), param_unit(str(k)))
                     for k, v in disp],
        run_dir=run_dir, timeline=timeline,
        rerun=rerun_command(meta, out_dir, str(r.get("run_id"))),
        traceback=tail(str(err)) if err and o in ("error", "timeout") else None)


def _span(values: list[float]) -> str:
    if not values:
        return "—"
    lo, hi = values[0], values[-1]
    return f"{lo:g}" if lo == hi else f"{lo:g}–{hi:g}"


def _latency_rows(records: list[dict[str, Any]], faults: list[str]) -> list[dict[str, Any]]:
    rows = []
    for fault in faults:
        if fault == NOMINAL:
            continue
        rs = [r for r in records if r.get("fault") == fault]
        lats = sorted(x for r in rs if r.get("detected") is True
                      if (x := finite(r.get("detection_latency_s"))) is not None)
        bounds = sorted({b for r in rs if (b := finite(r.get("detection_bound_s"))) is not None})
        monitors = sorted({str(r["monitor"]) for r in rs if r.get("monitor")})
        ratios = [x / b for r in rs if r.get("detected") is True
                  if (x := finite(r.get("detection_latency_s"))) is not None
                  if (b := finite(r.get("detection_bound_s"))) is not None and b > 0]
        rows.append({
            "fault": fault, "runs": len(rs), "detected": sum(r.get("detected") is True for r in rs),
            "n": len(lats), "min": lats[0] if lats else None,
            "median": statistics.median(lats) if lats else None,
            "max": lats[-1] if lats else None,
            "bound": _span(bounds), "bounds": bounds,
            "worst_ratio": max(ratios) if ratios else None,
            "monitors": ", ".join(monitors) or "—"})
    return rows


def _worst(records: list[dict[str, Any]], meta: dict[str, Any], out_dir: Path) -> list[dict]:
    rows: list[dict[str, Any]] = []
    for r in records:
        lat, bound = finite(r.get("detection_latency_s")), finite(r.get("detection_bound_s"))
        if r.get("detected") is True and lat is not None and bound is not None and bound > 0:
            rows.append({"record": r, "latency": lat, "bound": bound, "ratio": lat / bound,
                         "rerun": rerun_command(meta, out_dir, str(r.get("run_id")))})
    rows.sort(key=lambda w: (-w["ratio"], int(w["record"].get("index") or 0)))
    return rows[:WORST_CASES]


def _dispersion_rows(records: list[dict[str, Any]], entries: Any,
                     ) -> list[tuple[str, str, str, int, float, float, float]]:
    """One row per dispersed parameter over the seeds (each seed counted once): its
    unit, how it is drawn (``meta["dispersions"]``, the campaign's entries) and the
    values flown."""
    values: dict[str, dict[Any, float]] = {}
    named: dict[str, dict[Any, str]] = {}  # (a choice's values: counted, not spanned)
    for r in records:
        for k, v in (r.get("dispersions") or {}).items():
            if isinstance(v, str):
                named.setdefault(str(k), {})[r.get("seed", id(r))] = v
            elif (x := finite(v)) is not None:
                values.setdefault(str(k), {})[r.get("seed", id(r))] = x
    draws = draws_by_param(entries if isinstance(entries, list) else [], [*values, *named])
    rows: list[tuple[str, str, str, int, Any, Any, Any]] = []
    for k, by_seed in sorted(values.items()):
        vs = sorted(by_seed.values())
        rows.append((k, param_unit(k), draws.get(k, "—"), len(vs), vs[0],
                     statistics.median(vs), vs[-1]))
    for k, by_name in sorted(named.items()):
        counts = Counter(by_name.values())
        rows.append((k, "—", draws.get(k, "—"), len(by_name),
                     ", ".join(f"{v} x{c}" for v, c in sorted(counts.items())), None, None))
    return rows


def verdict(counts: Counter[str], planned: Any = None, interrupted: bool = False) -> str:
    """'GREEN: 96/96 passed', 'RED: 3 failed, 1 error of 96', 'NO RESULTS: ...', or for
    an interrupted campaign (no verdict) 'INTERRUPTED: 40 of 96 runs flown (...)'."""
    total = sum(counts.values())
    if interrupted:
        return (f"INTERRUPTED: {total} of {planned if planned is not None else '?'} runs "
                f"flown ({', '.join(f'{counts[o]} {o}' for o in OUTCOMES)}); run the same "
                "command to resume")
    if total == 0:
        return f"NO RESULTS: no runs finished yet (0/{planned if planned is not None else '?'})"
    partial = (f" (incomplete: {total} of {planned} planned runs done)"
               if isinstance(planned, int) and planned != total else "")
    if counts["pass"] == total:
        return f"GREEN: {total}/{total} passed{partial}"
    parts = [f"{counts['fail']} failed"] if counts["fail"] else []
    parts += [f"{counts[o]} {o}{'s' if counts[o] > 1 else ''}"
              for o in ("error", "timeout") if counts[o]]
    return f"RED: {', '.join(parts)} of {total}{partial}"


def _header(meta: dict[str, Any], done: int) -> list[tuple[str, str]]:
    criteria = meta.get("criteria") or {}
    wall = finite(meta.get("wall_time_s"))
    return [
        ("campaign file", str(meta.get("campaign_file", "—"))),
        ("code version", short(meta["code_version"]) if meta.get("code_version") else "—"),
        ("mission", str(meta.get("mission", "—"))),
        ("hardware", str(meta.get("hardware", "—"))),
        ("created (UTC)", str(meta.get("created_utc", "—"))),
        ("runs done / planned", f"{done} / {meta.get('planned_runs', '?')}"),
        ("workers", str(meta.get("workers", "—"))),
        ("executor", str(meta.get("executor", "—"))),
        ("wall time", "—" if wall is None else f"{wall:.1f} s ({wall / 60:.1f} min)"
         + (f" in this invocation (resumed: {meta['resumed_runs']} runs were done before)"
            if meta.get("resumed_runs") else "")),
        ("criteria", ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(criteria.items()))
         or "—"),
    ]


def summarize(out_dir: Path, meta: dict[str, Any], records: list[dict[str, Any]]) -> Summary:
    """Sort the records by index and compute the matrix, verdict, failures and statistics."""
    recs = sorted(records, key=lambda r: (int(r.get("index") or 0), str(r.get("run_id"))))
    s = Summary(meta=meta, out_dir=Path(out_dir), records=recs)
    for r in recs:
        fault, trig = str(r.get("fault")), str(r.get("trigger"))
        if fault not in s.faults:
            s.faults.append(fault)
        s.cells.setdefault((fault, trig), Counter())[outcome_of(r)] += 1
        s.fault_totals.setdefault(fault, Counter())[outcome_of(r)] += 1
        s.counts[outcome_of(r)] += 1
    s.triggers = order_triggers((str(r.get("trigger")) for r in recs), recs)
    if NOMINAL in s.faults:  # nominal first, the rest in matrix order
        s.faults.remove(NOMINAL)
        s.faults.insert(0, NOMINAL)
    s.verdict = verdict(s.counts, meta.get("planned_runs"), bool(meta.get("interrupted")))
    s.header = _header(meta, len(recs))
    s.latency = _latency_rows(recs, s.faults)
    s.issues = [_issue(r, meta, s.out_dir)
                for r in sorted((r for r in recs if outcome_of(r) != "pass"), key=_severity)]
    for i in s.issues:  # worst first: the first one of a cell is its worst
        key = (str(i.record.get("fault")), str(i.record.get("trigger")))
        s.cell_failure.setdefault(key, str(i.record.get("run_id")))
    s.worst = _worst(recs, meta, s.out_dir)
    s.dispersions = _dispersion_rows(recs, meta.get("dispersions"))
    return s


def has_failures(c: Counter[str] | None) -> bool:
    """True when a matrix cell holds a failed, errored or timed-out run."""
    if not c:
        return False
    return c["pass"] < sum(c.values())


def cell_text(c: Counter[str] | None) -> str:
    """'passed/total' for one matrix cell, or '' when the fault never ran with that trigger."""
    return "" if not c else f"{c['pass']}/{sum(c.values())}"


def totals_line(counts: Counter[str]) -> str:
    return (f"total {sum(counts.values())}: " + ", ".join(f"{counts[o]} {o}" for o in OUTCOMES))
