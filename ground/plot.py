"""timeline.png of a run: the timeline model (ground/timeline_model.py) drawn with
matplotlib. A lane on top shows the phases and what happened (faults injected, FDIR
trips, commands); below it temperatures, chamber pressure, water and products, tank
pressures, the stack's voltage and current and the power, each with its FDIR limit bands,
setpoints and sensor gaps. ground/plot_html.py draws the same model interactively."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from ground.pyplot import pyplot
from ground.timeline_events import KIND_COLOURS, LANE_BAR, lane_layout, lane_y
from ground.timeline_model import PHASE_COLOURS, Panel, Timeline, band_edge, build_timeline

#: one min/max pair per bucket: more than the ~1000 px of a panel's width
PNG_BUCKETS = 1500
_WIDTH_IN = 13.0
_AXES_FRACTION = 0.70  # of the width; the legends sit to the right
_LANE_ROWS = 4
_STYLE: dict[str, dict[str, Any]] = {"solid": {"lw": 1.1}, "dash": {"lw": 1.1, "ls": "--"},
          "wide": {"lw": 4.0, "alpha": 0.55}}


def _lane(ax: Any, tl: Timeline) -> None:
    """Phases as a coloured bar with their names, markers as labelled ticks above."""
    div = tl.time_div
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    span = max(tl.end_s, 1e-9)
    for p in tl.phases:
        colour = PHASE_COLOURS.get(p.state, "#dddddd")
        ax.axvspan(p.t0_s / div, p.t1_s / div, ymin=0, ymax=LANE_BAR, color=colour, lw=0)
        if (p.t1_s - p.t0_s) / span > 0.0065 * len(p.state):  # the name fits
            ax.text((p.t0_s + p.t1_s) / 2 / div, LANE_BAR / 2, p.state, ha="center", va="center",
                    fontsize=7, clip_on=True)
    for lab in lane_layout(tl.markers, tl.end_s, _LANE_ROWS):
        colour = KIND_COLOURS[lab.kind]
        top = lane_y(lab)
        ax.plot([lab.t_s / div] * 2, [LANE_BAR, top], color=colour, lw=1.0)
        if lab.row is not None:
            ax.text(lab.t_s / div, top, f"{lab.text} " if lab.left else f" {lab.text}",
                    fontsize=7, color=colour, va="center", ha="right" if lab.left else "left",
                    clip_on=False)
    handles = [_patch(PHASE_COLOURS.get(s, "#dddddd"), s)
               for s in dict.fromkeys(p.state for p in tl.phases)]
    handles += [_line(KIND_COLOURS[k], k) for k in KIND_COLOURS
                if any(m.kind == k for m in tl.markers)]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=7,
              frameon=False, title="phases, events", title_fontsize=7, ncol=2)


def _patch(colour: str, label: str) -> Any:
    from matplotlib.patches import Patch  # (installed: pyplot() succeeded)

    return Patch(color=colour, label=label)


def _line(colour: str, label: str, **kw: Any) -> Any:
    from matplotlib.lines import Line2D

    return Line2D([], [], color=colour, label=label, **kw)


def _panel(ax: Any, p: Panel, tl: Timeline) -> None:
    div = tl.time_div
    lo, hi = p.y_range
    for ph in tl.phases:
        ax.axvspan(ph.t0_s / div, ph.t1_s / div, color=PHASE_COLOURS.get(ph.state, "#ddd"),
                   alpha=0.25, lw=0)
    for lab in lane_layout(tl.markers, tl.end_s, _LANE_ROWS):
        ax.axvline(lab.t_s / div, color=KIND_COLOURS[lab.kind], lw=0.7,
                   alpha=0.35 if lab.kind == "command" else 0.6)
    for b in p.bands:
        if not b.on_scale:
            continue
        edge = band_edge(b, p)
        for a, z in b.spans:
            ax.fill_between([a / div, z / div], b.value, edge, facecolor=b.colour,
                            alpha=0.25, lw=0, hatch="xxx", edgecolor="white")
            ax.plot([a / div, z / div], [b.value] * 2, color=b.colour, lw=1.2, ls=(0, (5, 3)))
    for s in p.series:
        kw = dict(_STYLE.get(s.style, _STYLE["solid"]))
        ax.plot(s.t_s / div, s.y, color=s.colour, label=f"{s.label} [{p.unit}]",
                drawstyle="steps-pre" if s.step else "default", **kw)
    for sp in p.setpoints:
        ax.plot(sp.t_s / div, sp.y, color=sp.colour, lw=1.3, ls=":", label=sp.label)
    labelled = 0
    for g in p.gaps:
        ax.axvspan(g.t0_s / div, g.t1_s / div, facecolor="none", edgecolor="#555555",
                   hatch="///", lw=0, alpha=0.6)
        if labelled < 2 and (g.t1_s - g.t0_s) >= 0.01 * tl.end_s:
            labelled += 1
            ax.text(g.t0_s / div, 0.86 - 0.22 * (labelled - 1),
                    textwrap.fill(f"{g.label}: no reading since {g.t0_s:.1f} s: {g.why}",
                                  100, max_lines=2, placeholder=".."), fontsize=7,
                    va="top", color="#333333", transform=ax.get_xaxis_transform(),
                    bbox={"facecolor": "white", "alpha": 0.85, "lw": 0, "pad": 1})
    if p.log:
        ax.set_yscale("log")
    ax.set_ylim(lo, hi)
    ax.set_title(p.title, loc="left", fontsize=9, pad=2)
    ax.set_ylabel(p.unit)
    ax.grid(alpha=0.3)
    handles, _labels = ax.get_legend_handles_labels()
    handles += [_line(b.colour, f"limit {b.label}\n{_wrap(b.action)}", ls=(0, (5, 3)))
                for b in p.bands if b.on_scale]
    if p.gaps:
        handles.append(_patch("#bbbbbb", "no reading (hatched)"))
    for n in p.notes:
        handles.append(_line("none", _wrap(n)))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=7,
              frameon=False)


def _wrap(text: str, width: int = 44) -> str:
    return textwrap.fill(text, width, subsequent_indent="  ", max_lines=3, placeholder="..")


def draw_png(tl: Timeline, out: Path) -> Path:
    """Draw ``tl`` into ``out`` (PNG) and return ``out``.

    Raises:
        ConfigError: matplotlib is not installed.
    """
    plt = pyplot()
    heights = [1.1] + [1.55 * p.height for p in tl.panels]
    head_in = 0.22 * len(tl.title) + 0.35
    foot_in = 0.2 * len(tl.footnote) + 0.55
    fig_h = sum(heights) + head_in + foot_in
    fig, axes = plt.subplots(len(heights), 1, figsize=(_WIDTH_IN, fig_h), sharex=True,
                             gridspec_kw={"height_ratios": heights, "hspace": 0.32})
    fig.subplots_adjust(left=0.06, right=0.06 + _AXES_FRACTION, top=1 - head_in / fig_h,
                        bottom=foot_in / fig_h)
    _lane(axes[0], tl)
    for ax, p in zip(axes[1:], tl.panels, strict=True):
        _panel(ax, p, tl)
    axes[-1].set_xlabel(f"mission time [{tl.time_unit}]")
    axes[-1].set_xlim(0, tl.end_s / tl.time_div)
    y = 1 - 0.12 / fig_h
    for i, line in enumerate(tl.title):
        wrapped = textwrap.shorten(line, 190)
        fig.text(0.06, y, wrapped, fontsize=12 if i == 0 else 9,
                 weight="bold" if i == 0 else "normal", va="top",
                 color="#b2182b" if line.startswith(("SAFE", "fault")) else "black")
        y -= (0.3 if i == 0 else 0.21) / fig_h
    for i, line in enumerate(reversed(tl.footnote)):
        fig.text(0.06, (0.08 + 0.19 * i) / fig_h, textwrap.shorten(line, 200), fontsize=7,
                 color="#444444")
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def plot_run(run_dir: Path, mission: Path | None = None) -> Path:
    """Write ``timeline.png`` into ``run_dir`` and return its path; ``mission``: the
    mission YAML whose limits and setpoints to draw (default: the run's, by name).

    Raises:
        ConfigError: matplotlib is not installed, ``run_dir`` has no telemetry.jsonl, a
            file of it is empty or damaged (named), or ``mission`` is not valid.
    """
    pyplot()  # (first: without matplotlib, say how to install it)
    tl = build_timeline(Path(run_dir), mission, PNG_BUCKETS)
    return draw_png(tl, Path(run_dir) / "timeline.png")
