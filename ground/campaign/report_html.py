"""Renderers for the campaign report: report.md, report.html and the two PNG figures.

All of them read a ``report.Summary``; ``report_files.write_reports`` writes what they return.
The HTML page is self-contained (inline CSS, no JS), and every piece of text that comes
from a record goes through ``html.escape``.
"""

from __future__ import annotations

import html
import io
from pathlib import Path
from typing import Any

from common.errors import ConfigError
from ground.campaign.outdir import atomic_write
from ground.campaign.report import (
    Issue,
    Summary,
    cell_text,
    finite,
    fmt,
    has_failures,
    outcome_of,
    totals_line,
    url,
)
from ground.pyplot import pyplot

# ---------------------------------------------------------------- markdown


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


def _md_table(head: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(_md(h) for h in head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    return out + [""]


def render_markdown(s: Summary) -> str:
    """The text of report.md."""
    out = [f"# Fault-injection campaign: {s.meta.get('name', 'campaign')}", ""]
    out += _md_table(["", ""], [[k, v] for k, v in s.header])
    out += [f"**Verdict: {s.verdict}**", ""]
    if not s.records:
        return "\n".join(out + ["No runs finished yet: there is nothing to report.", ""])
    out += ["## Outcome matrix", "",
            "Cells are passed/total; ✗ marks a cell with a failed, errored or timed-out run.", ""]
    rows = [[f, *((cell_text(c) or "—") + (" ✗" if has_failures(c) else "")
                  for c in (s.cells.get((f, t)) for t in s.triggers))] for f in s.faults]
    out += _md_table(["fault / trigger", *s.triggers], rows)
    out += [totals_line(s.counts), "", "![outcome matrix](outcomes.png)", ""]
    out += ["## Detection latency", ""]
    if s.latency:
        out += _md_table(_LAT_HEAD, _latency_cells(s))
    else:
        out += ["All runs are nominal: there are no detections to summarize.", ""]
    if not any(x["n"] for x in s.latency):
        out += ["No detections with a finite latency: latency.png says so.", ""]
    out += ["![detection latency histogram](latency.png)", "", "## Failures", ""]
    if not s.issues:
        out += ["None: every run passed.", ""]
    for i in s.issues:
        out += _md_issue(i)
    out += ["## Worst cases (detection latency / bound)", ""]
    if s.worst:
        out += _md_table(_WORST_HEAD, [[*row[:-1], f"`{row[-1]}`"] for row in _worst_cells(s)])
    else:
        out += ["No detected runs with a latency and a bound.", ""]
    if s.dispersions:
        out += ["## Dispersions", ""] + _md_table(_DISP_HEAD, _disp_cells(s))
    return "\n".join(out)


def _md_issue(i: Issue) -> list[str]:
    out = [f"### {i.title}", "", f"**Injected:** {i.injected}", "", "**Expected:**", ""]
    out += [f"- {x}" for x in i.expected] + ["", "**Observed:**", ""]
    out += [f"- {x}" for x in i.observed] + ["", "**Reasons:**", ""]
    out += [f"- {x}" for x in i.reasons] if i.reasons else ["- (none recorded)"]
    out += [""]
    if i.dispersions:
        out += ["**Dispersions:** " + ", ".join(f"`{k}` = {fmt(v, '.6g')}"
                                                 for k, v in i.dispersions), ""]
    if i.run_dir:
        links = [f"[{name}]({url(target)})" for name, target in _run_links(i)]
        out += ["**Run directory:** " + " · ".join(links), ""]
    out += ["**Reproduce:**", "", _fence(i.rerun, "sh"), ""]
    if i.traceback:
        out += ["**Traceback:**", "", _fence(i.traceback, "text"), ""]
    return out


# ---------------------------------------------------------------- shared table cells

_LAT_HEAD = ["fault", "detected / runs", "n", "min [s]", "median [s]", "max [s]", "bound [s]",
             "monitors"]
_WORST_HEAD = ["#", "run", "outcome", "latency [s]", "bound [s]", "ratio", "rerun"]
_DISP_HEAD = ["parameter", "n", "min", "median", "max"]


def _latency_cells(s: Summary) -> list[list[Any]]:
    return [[x["fault"], f"{x['detected']}/{x['runs']}", x["n"], fmt(x["min"]),
             fmt(x["median"]), fmt(x["max"]), x["bound"], x["monitors"]] for x in s.latency]


def _worst_cells(s: Summary) -> list[list[Any]]:
    return [[n, w["record"].get("run_id"), outcome_of(w["record"]), fmt(w["latency"]),
             fmt(w["bound"], "g"), fmt(w["ratio"], ".2f"), w["rerun"]]
            for n, w in enumerate(s.worst, 1)]


def _disp_cells(s: Summary) -> list[list[Any]]:
    return [[k, n, fmt(a, ".4g"), fmt(m, ".4g"), fmt(b, ".4g")] for k, n, a, m, b in s.dispersions]


def _run_links(i: Issue) -> list[tuple[str, str]]:
    assert i.run_dir is not None
    links = [(f"{i.run_dir}/", f"{i.run_dir}/"), ("summary.json", f"{i.run_dir}/summary.json"),
             ("events.jsonl", f"{i.run_dir}/events.jsonl")]
    return links + ([("timeline.png", i.timeline)] if i.timeline else [])


# ---------------------------------------------------------------- HTML

_CSS = """body{font-family:system-ui,sans-serif;max-width:1500px;margin:2em auto;padding:0 1em;
color:#222}table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid #ccc;
padding:.25em .6em;text-align:left;vertical-align:top}th{background:#f3f3f3}
td.num{text-align:right}td.bad{background:#f8d0d0;font-weight:bold}td.ok{background:#d6f0d6}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap}
.verdict{font-size:1.3em;font-weight:bold;padding:.4em .8em;display:inline-block}
.GREEN{background:#d6f0d6}.RED{background:#f8d0d0}.NO{background:#eee}
.INTERRUPTED{background:#fbe7b5}
section.issue{border-left:4px solid #c33;padding-left:1em;margin:1.5em 0}img{max-width:100%}"""


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _table(head: list[str], rows: list[list[Any]], classes: list[list[str]] | None = None) -> str:
    out = ["<table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>"]
    for r, row in enumerate(rows):
        cls = classes[r] if classes else [""] * len(row)
        out.append("<tr>" + "".join(f'<td class="{c}">{_e(v)}</td>' if c else f"<td>{_e(v)}</td>"
                                    for v, c in zip(row, cls, strict=True)) + "</tr>")
    return "\n".join(out + ["</table>"])


def _ul(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{_e(x)}</li>" for x in items) + "</ul>"


def _html_issue(i: Issue) -> str:
    out = [f'<section class="issue"><h3>{_e(i.title)}</h3>',
           f"<p><b>Injected:</b> {_e(i.injected)}</p>",
           "<p><b>Expected:</b></p>" + _ul(i.expected),
           "<p><b>Observed:</b></p>" + _ul(i.observed),
           "<p><b>Reasons:</b></p>" + _ul(i.reasons or ["(none recorded)"])]
    if i.dispersions:
        out.append("<p><b>Dispersions:</b> " + ", ".join(
            f"<code>{_e(k)}</code> = {_e(fmt(v, '.6g'))}" for k, v in i.dispersions) + "</p>")
    if i.run_dir:
        out.append("<p><b>Run directory:</b> " + " · ".join(
            f'<a href="{_e(url(t))}">{_e(n)}</a>' for n, t in _run_links(i)) + "</p>")
    out.append(f"<p><b>Reproduce:</b></p><pre>{_e(i.rerun)}</pre>")
    if i.traceback:
        out.append(f"<p><b>Traceback:</b></p><pre>{_e(i.traceback)}</pre>")
    return "\n".join(out + ["</section>"])


def render_html(s: Summary) -> str:
    """The text of report.html: the same content as report.md, self-contained."""
    title = f"Fault-injection campaign: {s.meta.get('name', 'campaign')}"
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
           f"<h1>{_e(title)}</h1>", _table(["", ""], [[k, v] for k, v in s.header]),
           f'<p class="verdict {_e(s.verdict.split(":")[0].split()[0])}">'
           f"Verdict: {_e(s.verdict)}</p>"]
    if not s.records:
        out.append("<p>No runs finished yet: there is nothing to report.</p>")
        return "\n".join(out + ["</body></html>", ""])
    rows, classes = [], []
    for f in s.faults:
        cells = [s.cells.get((f, t)) for t in s.triggers]
        rows.append([f, *(cell_text(c) or "—" for c in cells)])
        classes.append(["", *("" if not c else "num bad" if has_failures(c) else "num ok"
                              for c in cells)])
    out += ["<h2>Outcome matrix</h2>",
            "<p>Cells are passed/total; red cells hold a failed, errored or timed-out run.</p>",
            _table(["fault / trigger", *s.triggers], rows, classes),
            f"<p>{_e(totals_line(s.counts))}</p>",
            '<img src="outcomes.png" alt="outcome matrix">', "<h2>Detection latency</h2>"]
    if s.latency:
        out.append(_table(_LAT_HEAD, _latency_cells(s)))
    else:
        out.append("<p>All runs are nominal: there are no detections to summarize.</p>")
    if not any(x["n"] for x in s.latency):
        out.append("<p>No detections with a finite latency: latency.png says so.</p>")
    out += ['<img src="latency.png" alt="detection latency histogram">', "<h2>Failures</h2>"]
    out += [_html_issue(i) for i in s.issues] or ["<p>None: every run passed.</p>"]
    out.append("<h2>Worst cases (detection latency / bound)</h2>")
    out.append(_table(_WORST_HEAD, _worst_cells(s)) if s.worst
               else "<p>No detected runs with a latency and a bound.</p>")
    if s.dispersions:
        out += ["<h2>Dispersions</h2>", _table(_DISP_HEAD, _disp_cells(s))]
    return "\n".join(out + ["</body></html>", ""])


# ---------------------------------------------------------------- figures


def _placeholder(plt: Any, text: str) -> Any:
    fig, ax = plt.subplots(figsize=(6, 2))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=14)
    return fig


def _latency_figure(plt: Any, s: Summary) -> Any:
    data = [(x["fault"], [lat for r in s.records if r.get("fault") == x["fault"]
                          and r.get("detected") is True
                          and (lat := finite(r.get("detection_latency_s"))) is not None])
            for x in s.latency]
    data = [(f, v) for f, v in data if v]
    if not data:
        return _placeholder(plt, "no detections" if s.records else "no runs finished yet")
    fig, ax = plt.subplots(figsize=(9, 4.5))
    colours = [plt.get_cmap("tab20")(i % 20) for i in range(len(data))]
    ax.hist([v for _, v in data], bins=min(40, max(5, sum(len(v) for _, v in data) // 3)),
            stacked=True, color=colours, label=[f for f, _ in data])
    bounds = {x["fault"]: x["bounds"] for x in s.latency}
    for (f, _), c in zip(data, colours, strict=True):
        for b in bounds.get(f, []):
            ax.axvline(b, color=c, ls="--", lw=1)
    ax.set_xlabel("detection latency [s] (dashed: bound)")
    ax.set_ylabel("runs")
    ax.set_title("Detection latency per fault")
    ax.legend(fontsize=7, loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _outcome_figure(plt: Any, s: Summary) -> Any:
    import numpy as np

    if not s.records:
        return _placeholder(plt, "no runs finished yet")
    frac = np.full((len(s.faults), len(s.triggers)), np.nan)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(s.triggers) + 3),
                                    max(2.5, 0.45 * len(s.faults) + 1.5)))
    for i, f in enumerate(s.faults):
        for j, t in enumerate(s.triggers):
            if c := s.cells.get((f, t)):
                frac[i, j] = c["pass"] / sum(c.values())
                ax.text(j, i, cell_text(c), ha="center", va="center", fontsize=8)
    cmap = plt.get_cmap("RdYlGn").with_extremes(bad="#dddddd")
    im = ax.imshow(np.ma.masked_invalid(frac), cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(s.triggers)), s.triggers, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(s.faults)), s.faults, fontsize=8)
    ax.set_title("Pass fraction per fault and trigger (cells: passed/total)")
    fig.colorbar(im, ax=ax, label="pass fraction")
    fig.tight_layout()
    return fig


def write_figures(s: Summary, out_dir: Path) -> dict[str, Path]:
    """Write latency.png and outcomes.png (placeholders when there is nothing to plot;
    none when matplotlib, an optional dependency, is not installed).

    Raises:
        OSError: ``out_dir`` cannot be written.
    """
    try:
        plt = pyplot()
    except ConfigError:
        return {}

    paths: dict[str, Path] = {}
    for name, draw in (("latency.png", _latency_figure), ("outcomes.png", _outcome_figure)):
        fig = draw(plt, s)
        buf = io.BytesIO()
        try:
            fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
        finally:
            plt.close(fig)
        atomic_write(out_dir / name, buf.getvalue())
        paths[name] = out_dir / name
    return paths
