"""Write a campaign's report files: report.md, report.html, junit.xml and the figures
(each renderer reads a :class:`ground.campaign.report.Summary`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ground.campaign.junit import junit_xml
from ground.campaign.outdir import atomic_write
from ground.campaign.report import summarize
from ground.campaign.report_html import render_html, render_markdown, write_figures


def write_reports(out_dir: Path, meta: dict[str, Any],
                  records: list[dict[str, Any]]) -> dict[str, Path]:
    """Write report.md, report.html, junit.xml and the PNG figures into out_dir.

    Returns {name: path}; the names are the file names: ``report.md``, ``report.html``,
    ``junit.xml``, ``latency.png`` and ``outcomes.png``. ``out_dir`` is created if missing.
    Each file is replaced atomically, so readers see either the old or the new version.

    Raises:
        OSError: ``out_dir`` cannot be created or written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    s = summarize(out_dir, meta, records)
    paths = write_figures(s, out_dir)
    for name, text in (("report.md", render_markdown(s)), ("report.html", render_html(s))):
        atomic_write(out_dir / name, text.encode("utf-8"))
        paths[name] = out_dir / name
    atomic_write(out_dir / "junit.xml", junit_xml(s))
    paths["junit.xml"] = out_dir / "junit.xml"
    return dict(sorted(paths.items()))
