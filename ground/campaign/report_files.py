"""Write a campaign's report files: report.md, report.html, junit.xml and the figures
(each renderer reads a :class:`ground.campaign.report.Summary`), after drawing the
timeline of every kept failing run that has none yet."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ground.campaign.junit import junit_xml
from ground.campaign.outdir import atomic_write
from ground.campaign.report import outcome_of, summarize
from ground.campaign.report_figures import write_figures
from ground.campaign.report_html import render_html
from ground.campaign.report_md import render_markdown


def draw_missing_timelines(out_dir: Path, records: list[dict[str, Any]]) -> list[Path]:
    """Draw ``timeline.png`` (:func:`ground.plot.plot_run`) in the kept directory of each
    run that did not pass and has telemetry but no timeline yet (its worker could not
    draw one: no matplotlib on a Dask worker, say). Returns the timelines drawn; a run
    that cannot be drawn is named on stderr and skipped (a picture is a convenience)."""
    drawn: list[Path] = []
    for r in records:
        rd = r.get("run_dir")
        if outcome_of(r) == "pass" or not isinstance(rd, str) or not rd or ":" in rd \
                or rd.startswith("/"):
            continue
        run_dir = out_dir / rd
        if (run_dir / "timeline.png").is_file() or not (run_dir / "telemetry.jsonl").is_file():
            continue
        try:
            from ground.plot import plot_run

            drawn.append(plot_run(run_dir))
        except Exception as exc:  # noqa: BLE001 - the report goes on without it
            print(f"thermine: no timeline for {r.get('run_id')}: {exc}", file=sys.stderr)
    return drawn


def write_reports(out_dir: Path, meta: dict[str, Any],
                  records: list[dict[str, Any]]) -> dict[str, Path]:
    """Write report.md, report.html, junit.xml and the PNG figures into out_dir.

    Returns {name: path}; the names are the file names: ``report.md``, ``report.html``,
    ``junit.xml``, ``latency.png`` and ``outcomes.png``. ``out_dir`` is created if missing.
    Each file is replaced atomically, so readers see either the old or the new version.
    The failing runs' timelines are drawn first (:func:`draw_missing_timelines`), so the
    reports link them.

    Raises:
        OSError: ``out_dir`` cannot be created or written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    draw_missing_timelines(out_dir, records)
    s = summarize(out_dir, meta, records)
    paths = write_figures(s, out_dir)
    for name, text in (("report.md", render_markdown(s)), ("report.html", render_html(s))):
        atomic_write(out_dir / name, text.encode("utf-8"))
        paths[name] = out_dir / name
    atomic_write(out_dir / "junit.xml", junit_xml(s))
    paths["junit.xml"] = out_dir / "junit.xml"
    return dict(sorted(paths.items()))
