"""The report's figures: ``latency.png`` (detection latency over its bound, one row per
fault, a dot per run) and ``outcomes.png`` (the outcome matrix as a picture).

Both read a :class:`ground.campaign.report.Summary`; matplotlib is optional (the
``plots`` extra): without it :func:`write_figures` writes none and the report says so.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from common.errors import ConfigError
from ground.campaign.outdir import atomic_write
from ground.campaign.report import Summary, cell_text, finite, outcome_of
from ground.campaign.report_labels import trigger_heading
from ground.pyplot import pyplot

#: colours of the report (the same in the HTML page)
PASS_COLOUR, FAIL_COLOUR, NOT_FLOWN_COLOUR = "#2b6cb0", "#c53030", "#d9d9d9"
ALL_PASSED_COLOUR, SOME_FAILED_COLOUR, NONE_PASSED_COLOUR = "#d6f0d6", "#f8d0d0", "#e88080"
#: ratios beyond this are drawn at the edge, with their value written beside them
RATIO_CAP = 1.5


def _placeholder(plt: Any, text: str) -> Any:
    fig, ax = plt.subplots(figsize=(6, 1.2))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=12)
    return fig


def latency_rows(s: Summary) -> list[tuple[str, list[tuple[float, bool]], int, list[float]]]:
    """Faults with a detection bound, tightest first: (fault, [(latency / bound, passed)],
    runs not detected, bounds). A fault without a bound has no row (nothing to compare
    its latency with: the report's table lists it)."""
    rows = []
    for x in s.latency:
        pts: list[tuple[float, bool]] = []
        missed = 0
        for r in s.records:
            if r.get("fault") != x["fault"]:
                continue
            bound = finite(r.get("detection_bound_s"))
            if bound is None or bound <= 0:
                continue
            lat = finite(r.get("detection_latency_s"))
            if r.get("detected") is True and lat is not None:
                pts.append((lat / bound, outcome_of(r) == "pass"))
            elif r.get("detected") is False:
                missed += 1
        if pts or missed:
            rows.append((x["fault"], pts, missed, x["bounds"]))
    rows.sort(key=lambda row: (-(RATIO_CAP + 1.0) if row[2] else
                               -max(p for p, _ in row[1]), row[0]))
    return rows


def _bound_text(bounds: list[float]) -> str:
    if not bounds:
        return "?"
    return f"{bounds[0]:g} s" if len(bounds) == 1 else f"{bounds[0]:g}–{bounds[-1]:g} s"


def latency_figure(plt: Any, s: Summary) -> Any:
    """Detection latency / bound per fault: a dot per detected run (blue passed, red
    not), the bound as a line at 1.0, runs never detected as a red cross at the right
    edge. Tightest margins at the top."""
    rows = latency_rows(s)
    if not rows:
        text = ("no runs finished yet" if not s.records else
                "no fault with a detection bound was detected (see the table)")
        return _placeholder(plt, text)
    import numpy as np

    far = max([p for _, pts, _, _ in rows for p, _ in pts] + [1.0])
    right = min(max(1.25, far * 1.05), RATIO_CAP)
    edge = right * 0.97
    fig, ax = plt.subplots(figsize=(12, 0.3 * len(rows) + 1.7))
    rng = np.random.default_rng(0)  # the same jitter every time: a report is deterministic
    labels = []
    for i, (fault, pts, missed, bounds) in enumerate(rows):
        y = len(rows) - 1 - i
        n = len(pts) + missed
        labels.append(f"{fault}  (bound {_bound_text(bounds)}, {len(pts)}/{n} detected)")
        if pts:
            ratio = np.array([min(p, edge) for p, _ in pts])
            ok = np.array([good for _, good in pts])
            jitter = rng.uniform(-0.18, 0.18, len(pts))
            ax.scatter(ratio[ok], y + jitter[ok], s=18, color=PASS_COLOUR, alpha=0.75, lw=0)
            ax.scatter(ratio[~ok], y + jitter[~ok], s=22, color=FAIL_COLOUR, lw=0)
            worst = max(p for p, _ in pts)
            if worst > edge:
                ax.annotate(f"{worst:.1f}× the bound", (edge, y), xytext=(-4, 5),
                            textcoords="offset points", ha="right", fontsize=7,
                            color=FAIL_COLOUR)
        if missed:
            ax.scatter([edge], [y], marker="x", s=40, color=FAIL_COLOUR)
            ax.annotate(f"{missed} not detected", (edge, y), xytext=(-8, -3),
                        textcoords="offset points", ha="right", va="top", fontsize=7,
                        color=FAIL_COLOUR)
    ax.axvline(1.0, color="black", lw=1.2)
    ax.axvspan(1.0, right, color=FAIL_COLOUR, alpha=0.06, lw=0)
    ax.text(1.0, -0.55, " bound", fontsize=8, va="bottom")
    ax.set_xlim(0.0, right)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_yticks(range(len(rows)), list(reversed(labels)), fontsize=8)
    ax.set_xlabel("detection latency / its bound   (0: at once, 1: at the bound)", fontsize=9)
    from matplotlib.lines import Line2D

    ax.legend(handles=[
        Line2D([], [], ls="", marker="o", color=PASS_COLOUR, label="a run that passed"),
        Line2D([], [], ls="", marker="o", color=FAIL_COLOUR, label="a run that failed"),
        Line2D([], [], ls="", marker="x", color=FAIL_COLOUR, label="not detected")],
        loc="upper center", bbox_to_anchor=(0.5, -0.5 / (0.3 * len(rows) + 1.7)), ncol=3,
        fontsize=8, frameon=False)
    ax.set_title("Detection latency against its bound, per fault (tightest margin on top)",
                 fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def outcome_figure(plt: Any, s: Summary) -> Any:
    """The outcome matrix: faults x triggers (mission-time order) + all triggers; a cell
    green when every run passed, light red when one did not, red when none passed, grey
    where the case is not flown (the colours of the HTML page)."""
    import numpy as np
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    if not s.records:
        return _placeholder(plt, "no runs finished yet")
    cols = [*s.triggers, None]  # None: all triggers
    kind = np.full((len(s.faults), len(cols)), np.nan)  # 0 none, 1 some, 2 all passed
    fig, ax = plt.subplots(figsize=(max(6.0, 1.05 * len(cols) + 3.2),
                                    max(2.5, 0.36 * len(s.faults) + 2.0)))
    for i, f in enumerate(s.faults):
        for j, t in enumerate(cols):
            c = s.fault_totals.get(f) if t is None else s.cells.get((f, t))
            if c:
                kind[i, j] = 2 if c["pass"] == sum(c.values()) else 1 if c["pass"] else 0
                ax.text(j, i, cell_text(c), ha="center", va="center", fontsize=8,
                        fontweight="normal" if kind[i, j] == 2 else "bold")
    colours = [NONE_PASSED_COLOUR, SOME_FAILED_COLOUR, ALL_PASSED_COLOUR]
    cmap = ListedColormap(colours).with_extremes(bad=NOT_FLOWN_COLOUR)
    ax.imshow(np.ma.masked_invalid(kind), cmap=cmap, vmin=-0.5, vmax=2.5, aspect="auto")
    ax.axvline(len(cols) - 1.5, color="black", lw=1.5)
    heads = ["\n".join(p for p in trigger_heading(t) if p) for t in s.triggers]
    ax.set_xticks(range(len(cols)), [*heads, "all\ntriggers"], fontsize=7)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(s.faults)), s.faults, fontsize=8)
    ax.legend(handles=[Patch(color=ALL_PASSED_COLOUR, label="all passed"),
                       Patch(color=SOME_FAILED_COLOUR, label="a run failed, erred or timed out"),
                       Patch(color=NONE_PASSED_COLOUR, label="none passed"),
                       Patch(color=NOT_FLOWN_COLOUR, label="not flown (no such trigger)")],
              loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=4, fontsize=8,
              frameon=False)
    ax.set_title("Runs passed / flown per fault and trigger (triggers in mission-time order)",
                 fontsize=10, pad=30)
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
    for name, draw in (("latency.png", latency_figure), ("outcomes.png", outcome_figure)):
        fig = draw(plt, s)
        buf = io.BytesIO()
        try:
            fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
        finally:
            plt.close(fig)
        atomic_write(out_dir / name, buf.getvalue())
        paths[name] = out_dir / name
    return paths
