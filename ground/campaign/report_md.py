"""report.md: the campaign report as Markdown (GitHub renders it; CI can attach it).

The same content as report.html (``report_html``), from a ``report.Summary``.
"""

from __future__ import annotations

from typing import Any

from ground.campaign.report import Issue, Summary, cell_text, fmt, has_failures, url
from ground.campaign.report_labels import trigger_heading
from ground.campaign.report_tables import (
    DISP_HEAD,
    DISP_NOTE,
    FAIL_HEAD,
    LAT_HEAD,
    WORST_HEAD,
    disp_cells,
    headline,
    latency_cells,
    no_timeline_reason,
    run_links,
    worst_cells,
)
from ground.campaign.spec import NOMINAL


def _md(text: Any) -> str:
    """Text safe inside a markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _fence(text: str, lang: str = "") -> str:
    """A fenced block longer than any run of backticks inside ``text``."""
    ticks, run = 0, 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        ticks = max(ticks, run)
    fence = "`" * max(3, ticks + 1)
    return f"{fence}{lang}\n{text}\n{fence}"


def _table(head: list[str], rows: list[list[Any]], raw: bool = False) -> list[str]:
    esc = (lambda x: str(x)) if raw else _md
    out = ["| " + " | ".join(_md(h) for h in head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return out + [""]


def _cell(c: Any) -> str:
    return "—" if not c else cell_text(c) + (" ✗" if has_failures(c) else "")


def matrix_lines(s: Summary) -> list[str]:
    """The outcome matrix: faults x triggers in mission-time order, then all triggers."""
    head = ["fault / trigger", *(" ".join(p for p in trigger_heading(t) if p)
                                  for t in s.triggers), "all triggers"]
    rows = []
    for f in s.faults:
        cells = [_cell(s.cells.get((f, t))) for t in s.triggers]
        rows.append([f, *cells, _cell(s.fault_totals.get(f))])
    return _table(head, rows)


def render_markdown(s: Summary) -> str:
    """The text of report.md."""
    out = [f"# Fault-injection campaign: {s.meta.get('name', 'campaign')}", ""]
    out += [f"**Verdict: {s.verdict}**", ""]
    out += _table(["", ""], [[k, v] for k, v in s.header])
    if not s.records:
        return "\n".join(out + ["No runs finished yet: there is nothing to report.", ""])
    out += ["## Outcome matrix", "",
            "Cells are runs passed/flown; triggers in mission-time order. ✗: a run failed, "
            "erred or timed out; —: not flown (the case has no such trigger; the "
            f"{NOMINAL} runs have none). Also as a picture: [outcomes.png](outcomes.png).", ""]
    out += matrix_lines(s)
    out += [f"{s.counts['pass']} of {sum(s.counts.values())} runs passed: "
            + ", ".join(f"{s.counts[o]} {o}" for o in ("fail", "error", "timeout")), ""]
    out += ["## Detection latency", ""]
    if s.latency:
        out += ["![detection latency / bound per fault](latency.png)", ""]
        out += _table(LAT_HEAD, latency_cells(s))
    else:
        out += ["All runs are nominal: there are no detections to summarize.", ""]
    if not any(x["n"] for x in s.latency):
        out += ["No detections with a finite latency: latency.png says so.", ""]
    out += ["## Failures", ""]
    if not s.issues:
        out += ["None: every run passed.", ""]
    else:
        out += _table(FAIL_HEAD, [[f"[{_md(i.record.get('run_id'))}](#{_md(_slug(i))})",
                                   i.record.get("outcome"), _md(headline(i)),
                                   f"[timeline.png]({url(i.timeline)})" if i.timeline
                                   else _md(no_timeline_reason(i))]
                                  for i in s.issues], raw=True)
    for i in s.issues:
        out += _md_issue(i)
    out += ["## Worst cases (detection latency / bound)", ""]
    if s.worst:
        out += _table(WORST_HEAD, worst_cells(s))
        hint = s.meta.get("rerun_hint") or "thermine campaign rerun CAMPAIGN_DIR RUN_ID"
        out += [f"Rerun any of them: `{hint}`", ""]
    else:
        out += ["No detected runs with a latency and a bound.", ""]
    if s.dispersions:
        out += ["## Dispersions", "",
                DISP_NOTE, ""] + _table(DISP_HEAD, disp_cells(s))
    return "\n".join(out)


def _slug(i: Issue) -> str:
    """GitHub's anchor of the issue's heading (lower case, punctuation dropped)."""
    keep = [ch for ch in i.title.lower() if ch.isalnum() or ch in " -_"]
    return "".join(keep).replace(" ", "-")


def _md_issue(i: Issue) -> list[str]:
    out = [f"### {i.title}", "", f"**Injected:** {i.injected}", "", "**Expected:**", ""]
    out += [f"- {x}" for x in i.expected] + ["", "**Observed:**", ""]
    out += [f"- {x}" for x in i.observed] + ["", "**Reasons:**", ""]
    out += [f"- {x}" for x in i.reasons] if i.reasons else ["- (none recorded)"]
    out += [""]
    if i.dispersions:
        out += ["**Dispersions:** " + ", ".join(
            f"`{k}` = {v if isinstance(v, str) else fmt(v, '.6g')}"
            + ("" if u == "1" else f" {u}") for k, v, u in i.dispersions), ""]
    if i.run_dir:
        links = [f"[{name}]({url(target)})" for name, target in run_links(i)]
        out += ["**Run directory:** " + " · ".join(links), ""]
    if i.timeline:
        out += [f"[![timeline of {i.record.get('run_id')}]({url(i.timeline)})]"
                f"({url(i.timeline)})", ""]
    out += ["**Reproduce:**", "", _fence(i.rerun, "sh"), ""]
    if i.traceback:
        out += ["**Traceback:**", "", _fence(i.traceback, "text"), ""]
    return out
