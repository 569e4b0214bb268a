"""report.html: the campaign report as one self-contained page (inline CSS, no JS) that
fits a 1400 px window: the verdict, the code that flew it, the outcome matrix with its
legend, detection latency against its bound, every failure with its timeline, the worst
cases and the dispersions with their units.

Every piece of text that comes from a record goes through ``html.escape``; every link is
relative to the campaign directory. (``render_markdown`` and ``write_figures`` are
re-exported for the callers that import them from here.)
"""

from __future__ import annotations

import html
from typing import Any

from ground.campaign.report import Issue, Summary, anchor, cell_text, fmt, has_failures, url
from ground.campaign.report_figures import (
    ALL_PASSED_COLOUR,
    FAIL_COLOUR,
    NOT_FLOWN_COLOUR,
    SOME_FAILED_COLOUR,
    write_figures,
)
from ground.campaign.report_labels import trigger_heading
from ground.campaign.report_md import render_markdown
from ground.campaign.report_tables import (
    DISP_HEAD,
    DISP_NOTE,
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

__all__ = ["render_html", "render_markdown", "write_figures"]

_OK, _BAD = ALL_PASSED_COLOUR, SOME_FAILED_COLOUR
_CSS = f"""body{{font:14px/1.4 system-ui,sans-serif;max-width:1340px;margin:1.2em auto;
padding:0 16px;color:#222}}h1{{font-size:1.6em;margin:.2em 0}}h2{{margin:1.4em 0 .4em;
border-bottom:1px solid #ddd}}.sub{{color:#555;margin:0 0 .8em}}
table{{border-collapse:collapse;margin:.4em 0 1em}}th,td{{border:1px solid #ccc;
padding:.2em .5em;text-align:left;vertical-align:top}}th{{background:#f3f3f3}}
td.num{{text-align:right;white-space:nowrap}}table.kv td:first-child{{white-space:nowrap;
color:#555}}table.kv td{{overflow-wrap:anywhere}}
table.matrix th.trig{{font-size:12px;font-weight:600;text-align:center;
vertical-align:bottom;max-width:7.5em}}table.matrix th.trig span{{display:block;
font-weight:normal;color:#555}}table.matrix td{{text-align:center;white-space:nowrap;
min-width:3em}}table.matrix td:first-child{{text-align:left}}
table.matrix .total{{border-left:3px solid #666}}
.ok{{background:{_OK}}}.bad{{background:{_BAD};font-weight:bold}}.bad a{{color:#900}}
.na{{background:{NOT_FLOWN_COLOUR}}}td.nom{{color:#666;font-style:italic}}
.legend span.sw{{display:inline-block;width:1.1em;height:1.1em;vertical-align:-.2em;
border:1px solid #aaa;margin:0 .3em 0 1em}}.legend span.sw:first-child{{margin-left:0}}
pre{{background:#f6f8fa;padding:.5em;white-space:pre-wrap;overflow-wrap:anywhere;
margin:.3em 0}}.verdict{{font-size:1.3em;font-weight:bold;padding:.4em .8em;
display:inline-block;margin:.3em 0}}.GREEN{{background:{_OK}}}.RED{{background:{_BAD}}}
.NO{{background:#eee}}.INTERRUPTED{{background:#fbe7b5;border:2px solid #c90}}
section.issue{{border-left:4px solid {FAIL_COLOUR};padding-left:1em;margin:1.5em 0;
overflow:hidden}}section.issue img.tl{{float:right;width:420px;margin:0 0 .5em 1em;
border:1px solid #ccc}}img{{max-width:100%}}td.why{{overflow-wrap:anywhere}}"""


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _table(head: list[str] | None, rows: list[list[Any]], cls: str = "",
           num: tuple[int, ...] = ()) -> str:
    """A table of escaped text (no heading row when ``head`` is None); columns in
    ``num`` are right-aligned numbers."""
    out = [f'<table class="{cls}">' if cls else "<table>"]
    if head is not None:
        out[0] += "<tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>"
    for row in rows:
        out.append("<tr>" + "".join(f'<td class="num">{_e(v)}</td>' if j in num else
                                    f"<td>{_e(v)}</td>" for j, v in enumerate(row)) + "</tr>")
    return "\n".join(out + ["</table>"])


def _ul(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{_e(x)}</li>" for x in items) + "</ul>"


def _heading(label: str) -> str:
    """A trigger column heading: the state (breakable after '_') over the delay."""
    top, bottom = trigger_heading(label)
    top_html = _e(top).replace("_", "_<wbr>")
    return f'<th class="trig" title="{_e(label)}">{top_html}<span>{_e(bottom)}</span></th>'


def _cell(c: Any, target: dict[str, Any] | None, total: bool = False) -> str:
    """One matrix cell: green, red (linking ``target``, its worst failure) or grey."""
    extra = " total" if total else ""
    if not c:
        return f'<td class="na{extra}" title="not flown"></td>'
    text = _e(cell_text(c))
    if not has_failures(c):
        return f'<td class="ok{extra}">{text}</td>'
    inner = f'<a href="#{_e(anchor(target))}">{text}</a>' if target else text
    return f'<td class="bad{extra}">{inner}</td>'


def matrix_html(s: Summary) -> str:
    """The outcome matrix with its legend: faults x triggers in mission-time order, then
    all triggers; a red cell links to its worst failure."""
    legend = (
        '<p class="legend"><span class="sw ok"></span>all runs passed'
        '<span class="sw bad"></span>a run failed, erred or timed out (the cell links to it)'
        '<span class="sw na"></span>not flown: the case has no such trigger. '
        "Cells: runs passed / flown. Triggers in mission-time order; "
        '<a href="outcomes.png">as a picture</a>.</p>')
    head = ('<tr><th>fault / trigger</th>' + "".join(_heading(t) for t in s.triggers)
            + '<th class="trig total">all<span>triggers</span></th></tr>')
    by_id = {str(i.record.get("run_id")): i.record for i in s.issues}
    rows = []
    for f in s.faults:
        worst = next((i.record for i in s.issues if i.record.get("fault") == f), None)
        total = _cell(s.fault_totals.get(f), worst, total=True)
        if f == NOMINAL:
            cells = (f'<td class="nom" colspan="{len(s.triggers)}">fault-free runs: '
                     "no fault injected, no trigger</td>") if s.triggers else ""
        else:
            cells = "".join(_cell(s.cells.get((f, t)), by_id.get(s.cell_failure.get((f, t), "")))
                            for t in s.triggers)
        rows.append(f"<tr><td>{_e(f)}</td>{cells}{total}</tr>")
    counts = s.counts
    foot = (f"<p>{counts['pass']} of {sum(counts.values())} runs passed; "
            + ", ".join(f"{counts[o]} {o}" for o in ("fail", "error", "timeout")) + ".</p>")
    return "\n".join([legend, '<table class="matrix">', head, *rows, "</table>", foot])


def _failures_table(s: Summary) -> str:
    out = ["<table><tr><th>run</th><th>outcome</th><th>why</th><th>timeline</th></tr>"]
    for i in s.issues:
        tl = (f'<a href="{_e(url(i.timeline))}">timeline.png</a>' if i.timeline
              else _e(no_timeline_reason(i)))
        out.append(f'<tr><td><a href="#{_e(anchor(i.record))}">{_e(i.record.get("run_id"))}'
                   f'</a></td><td>{_e(str(i.record.get("outcome")).upper())}</td>'
                   f'<td class="why">{_e(headline(i))}</td><td>{tl}</td></tr>')
    return "\n".join(out + ["</table>"])


def _worst_table(s: Summary) -> str:
    """The worst cases; a run that failed links to its section."""
    failing = {str(i.record.get("run_id")): i.record for i in s.issues}
    out = ["<table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in WORST_HEAD) + "</tr>"]
    for row in worst_cells(s):
        r = failing.get(str(row[1]))
        cells = [f'<td class="num">{_e(v)}</td>' if j in (0, 3, 4, 5) else f"<td>{_e(v)}</td>"
                 for j, v in enumerate(row)]
        if r is not None:
            cells[1] = f'<td><a href="#{_e(anchor(r))}">{_e(row[1])}</a></td>'
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "\n".join(out + ["</table>"])


def _html_issue(i: Issue) -> str:
    out = [f'<section class="issue" id="{_e(anchor(i.record))}"><h3>{_e(i.title)}</h3>']
    if i.timeline:
        out.append(f'<a href="{_e(url(i.timeline))}"><img class="tl" loading="lazy" '
                   f'src="{_e(url(i.timeline))}" alt="timeline of '
                   f'{_e(i.record.get("run_id"))}"></a>')
    out += [f"<p><b>Injected:</b> {_e(i.injected)}</p>",
            "<p><b>Expected:</b></p>" + _ul(i.expected),
            "<p><b>Observed:</b></p>" + _ul(i.observed),
            "<p><b>Reasons:</b></p>" + _ul(i.reasons or ["(none recorded)"])]
    if i.dispersions:
        out.append("<p><b>Dispersions:</b> " + ", ".join(
            f"<code>{_e(k)}</code> = {_e(v if isinstance(v, str) else fmt(v, '.6g'))}"
            + ("" if u == "1" else f" {_e(u)}")
            for k, v, u in i.dispersions) + "</p>")
    if i.run_dir:
        out.append("<p><b>Run directory:</b> " + " · ".join(
            f'<a href="{_e(url(t))}">{_e(n)}</a>' for n, t in run_links(i)) + "</p>")
    out.append(f"<p><b>Reproduce:</b></p><pre>{_e(i.rerun)}</pre>")
    if i.traceback:
        out.append(f"<p><b>Traceback:</b></p><pre>{_e(i.traceback)}</pre>")
    return "\n".join(out + ["</section>"])


def _top(s: Summary) -> list[str]:
    name = s.meta.get("name", "campaign")
    word = s.verdict.split(":")[0].split()[0] if s.verdict else "NO"
    title = f"{word}: fault-injection campaign {name}"
    sub = [f"{len(s.records)} of {s.meta.get('planned_runs', '?')} runs"]
    sub += [f"created {s.meta['created_utc']} UTC"] if s.meta.get("created_utc") else []
    sub += [f"code {dict(s.header).get('code version', '—')}"]
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
           f"<h1>Fault-injection campaign: {_e(name)}</h1>",
           f'<p class="sub">{_e(" · ".join(sub))}</p>',
           f'<p class="verdict {_e(word)}">Verdict: {_e(s.verdict)}</p>']
    if s.meta.get("interrupted"):
        out.append("<p><b>This campaign was interrupted</b> before every run was flown: "
                   "there is no verdict. Run the same command again to fly the rest.</p>")
    return out + [_table(None, [[k, v] for k, v in s.header], cls="kv")]


def render_html(s: Summary) -> str:
    """The text of report.html: the same content as report.md, self-contained."""
    out = _top(s)
    if not s.records:
        out.append("<p>No runs finished yet: there is nothing to report.</p>")
        return "\n".join(out + ["</body></html>", ""])
    out += ["<h2>Outcome matrix</h2>", matrix_html(s), "<h2>Detection latency</h2>"]
    if s.latency:
        out.append('<p><img src="latency.png" alt="detection latency over its bound, per '
                   'fault"></p>')
        out.append(_table(LAT_HEAD, latency_cells(s), num=(1, 2, 3, 4, 5, 6)))
    else:
        out.append("<p>All runs are nominal: there are no detections to summarize.</p>")
    if not any(x["n"] for x in s.latency):
        out.append("<p>No detections with a finite latency: latency.png says so.</p>")
    out.append("<h2>Failures</h2>")
    if s.issues:
        out += [_failures_table(s), *(_html_issue(i) for i in s.issues)]
    else:
        out.append("<p>None: every run passed.</p>")
    out.append("<h2>Worst cases (detection latency / bound)</h2>")
    if s.worst:
        hint = s.meta.get("rerun_hint") or "thermine campaign rerun CAMPAIGN_DIR RUN_ID"
        out += [_worst_table(s),
                f"<p>Rerun any of them: <code>{_e(hint)}</code></p>"]
    else:
        out.append("<p>No detected runs with a latency and a bound.</p>")
    if s.dispersions:
        out += ["<h2>Dispersions</h2>",
                f"<p>{_e(DISP_NOTE)}</p>",
                _table(DISP_HEAD, disp_cells(s), num=(3, 4, 5, 6))]
    return "\n".join(out + ["</body></html>", ""])
