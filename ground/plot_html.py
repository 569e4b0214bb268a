"""timeline.html of a run: the timeline model (ground/timeline_model.py) as an
interactive plotly figure (zoom, pan, hover values with units) in one self-contained
file: plotly.js is inlined, so it opens with no network. The same lane, panels, bands,
setpoints, gaps and markers as timeline.png (ground/plot.py)."""

from __future__ import annotations

import html
import importlib
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from common.errors import ConfigError
from ground.pyplot import INSTALL_HINT
from ground.timeline_events import KIND_COLOURS, LANE_BAR, lane_layout, lane_y
from ground.timeline_model import PHASE_COLOURS, Panel, Timeline, band_edge, build_timeline

#: min/max pairs per series: zoomed in, a bucket of the nominal run is ~11 s
HTML_BUCKETS = 2000
_LANE_ROWS = 4
_PX_PER_HEIGHT = 190


def _plotly() -> tuple[Any, Any]:
    """(plotly.graph_objects, plotly.subplots.make_subplots).

    Raises:
        ConfigError: plotly is not installed (says how to install it).
    """
    try:
        go = importlib.import_module("plotly.graph_objects")
        subplots = importlib.import_module("plotly.subplots")
    except ImportError:
        raise ConfigError("plotly", f"not installed; the HTML timeline needs it: {INSTALL_HINT}"
                          ) from None
    return go, subplots.make_subplots


def _wrap(text: str, width: int = 48) -> str:
    return "<br>  ".join(html.escape(line) for line in textwrap.wrap(text, width))


def _title_colour(line: str) -> str:
    """Red for what went wrong (the SAFE reason, a fault), else dark grey."""
    return "#b2182b" if line.startswith(("SAFE", "fault")) else "#222222"


def _xs(t_s: np.ndarray, div: float) -> np.ndarray:
    return (np.asarray(t_s, dtype=float) / div).astype(np.float32)


def _polygons(spans: list[tuple[float, float]], y0: float, y1: float, div: float
              ) -> tuple[list[float | None], list[float | None]]:
    """Rectangles from ``y0`` to ``y1`` over ``spans`` [s], as one filled trace's points
    (a trace, unlike a shape, takes data values on a log axis too)."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for a, b in spans:
        xs += [a / div, b / div, b / div, a / div, a / div, None]
        ys += [y0, y0, y1, y1, y0, None]
    return xs, ys


class _Parts:
    """The traces (with their subplot row), shapes and annotations of the figure,
    added to it in one go."""

    def __init__(self) -> None:
        self.traces: list[tuple[Any, int]] = []
        self.shapes: list[dict[str, Any]] = []
        self.annotations: list[dict[str, Any]] = []

    def trace(self, trace: Any, row: int) -> None:
        self.traces.append((trace, row))

    def shape(self, **kw: Any) -> None:
        self.shapes.append(kw)

    def note(self, **kw: Any) -> None:
        self.annotations.append(kw)


def _lane(fig: Any, parts: _Parts, go: Any, tl: Timeline) -> None:
    div = tl.time_div
    span = max(tl.end_s, 1e-9)
    for p in tl.phases:
        parts.shape(type="rect", x0=p.t0_s / div, x1=p.t1_s / div, y0=0, y1=LANE_BAR,
                      xref="x", yref="y", line_width=0, layer="below",
                      fillcolor=PHASE_COLOURS.get(p.state, "#dddddd"))
        if (p.t1_s - p.t0_s) / span > 0.0065 * len(p.state):
            parts.note(x=(p.t0_s + p.t1_s) / 2 / div, y=LANE_BAR / 2, xref="x", yref="y",
                               text=p.state, showarrow=False, font_size=10)
    parts.trace(go.Scatter(  # the phases on hover
        x=[(p.t0_s + p.t1_s) / 2 / div for p in tl.phases], y=[LANE_BAR / 2] * len(tl.phases),
        mode="markers", marker={"opacity": 0}, showlegend=False, name="phase",
        hovertemplate=[f"{p.state}: {p.t0_s:.1f} s to {p.t1_s:.1f} s<extra></extra>"
                       for p in tl.phases]), 1)
    for kind, colour in KIND_COLOURS.items():
        labs = [lab for lab in lane_layout(tl.markers, tl.end_s, _LANE_ROWS) if lab.kind == kind]
        if not labs:
            continue
        xs: list[float | None] = []
        ys: list[float | None] = []
        for lab in labs:
            top = lane_y(lab)
            xs += [lab.t_s / div, lab.t_s / div, None]
            ys += [LANE_BAR, top, None]
        parts.trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": colour, "width": 1},
                                 hoverinfo="skip", showlegend=False), 1)
        parts.trace(go.Scatter(
            x=[lab.t_s / div for lab in labs],
            y=[lane_y(lab) for lab in labs],
            mode="markers+text", marker={"color": colour, "size": 6}, name=kind,
            text=["" if lab.row is None else f"{lab.text} " if lab.left else f" {lab.text}"
                  for lab in labs],
            textposition=["middle left" if lab.left else "middle right" for lab in labs],
            textfont={"color": colour, "size": 10},
            hovertemplate=[f"t = {lab.t_s:.1f} s<br>" + "<br>".join(
                html.escape(d) for d in lab.detail) + "<extra></extra>" for lab in labs],
            legend="legend"), 1)
        for lab in labs:  # a thin line through every panel
            parts.shape(type="line", x0=lab.t_s / div, x1=lab.t_s / div, y0=0, y1=1,
                          xref="x", yref="paper", layer="below",
                          line={"color": colour, "width": 0.8},
                          opacity=0.35 if kind == "command" else 0.6)
    for state in dict.fromkeys(p.state for p in tl.phases):  # the phases that happened
        parts.trace(go.Scatter(x=[None], y=[None], mode="markers", name=state,
                                 marker={"symbol": "square", "size": 11,
                                         "color": PHASE_COLOURS.get(state, "#dddddd")},
                                 legend="legend"), 1)
    parts.note(text="phases and events (hover a dot for details)", x=0, y=1,
                       xref="x domain", yref="y domain", xanchor="left", yanchor="bottom",
                       showarrow=False, font={"size": 12})
    fig.update_yaxes(range=[0, 1], visible=False, fixedrange=True, row=1, col=1)


def _panel(fig: Any, parts: _Parts, go: Any, p: Panel, tl: Timeline, row: int) -> None:
    div = tl.time_div
    legend = f"legend{row}"
    lo, hi = p.y_range
    for ph in tl.phases:
        parts.shape(type="rect", x0=ph.t0_s / div, x1=ph.t1_s / div, y0=0, y1=1,
                      xref="x", yref=f"y{row} domain", line_width=0, layer="below",
                      fillcolor=PHASE_COLOURS.get(ph.state, "#dddddd"), opacity=0.35)
    for b in p.bands:
        if not b.on_scale:
            continue
        xs, ys = _polygons(list(b.spans), b.value, band_edge(b, p), div)
        parts.trace(go.Scatter(x=xs, y=ys, fill="toself", fillcolor=b.colour, opacity=0.25,
                                 line={"width": 0}, hoverinfo="skip", showlegend=False,
                                 legend=legend), row)
        lx: list[float | None] = []
        for a, z in b.spans:
            lx += [a / div, z / div, None]
        parts.trace(go.Scatter(
            x=lx, y=[b.value if x is not None else None for x in lx], mode="lines",
            line={"color": b.colour, "width": 1.2, "dash": "dash"},
            name=f"limit {b.label}<br>  {_wrap(b.action)}",
            legend=legend,
            hovertemplate=f"limit {html.escape(b.label)}: {html.escape(b.action)}"
                          "<extra></extra>"), row)
    for g in p.gaps:
        xs, ys = _polygons([(g.t0_s, g.t1_s)], lo, hi, div)
        parts.trace(go.Scatter(x=xs, y=ys, fill="toself", fillcolor="rgba(90,90,90,0.18)",
                                 line={"width": 0, "color": "rgba(90,90,90,0.5)"},
                                 name=f"{g.label}: no reading",
                                 legend=legend, hoveron="fills",
                                 hovertemplate=html.escape(f"{g.label}: no reading "
                                                           f"{g.t0_s:.1f}-{g.t1_s:.1f} s: "
                                                           f"{g.why}") + "<extra></extra>"), row)
    for i, g in enumerate([g for g in p.gaps if g.t1_s - g.t0_s >= 0.01 * tl.end_s][:2]):
        parts.note(x=g.t0_s / div, y=0.8 - 0.16 * i, xref="x", yref=f"y{row} domain",
                           text=html.escape(f"{g.label}: no reading: {g.why}"),
                           showarrow=False, xanchor="left", font_size=10,
                           bgcolor="rgba(255,255,255,0.8)")
    for s in p.series:
        line: dict[str, Any] = {"color": s.colour, "width": 1.3}
        if s.style == "dash":
            line["dash"] = "dash"
        if s.style == "wide":
            line["width"] = 5
        parts.trace(go.Scatter(
            x=_xs(s.t_s, div), y=np.asarray(s.y, dtype=np.float32), mode="lines",
            name=f"{s.label} [{p.unit}]", line=line, legend=legend,
            opacity=0.55 if s.style == "wide" else 1.0, line_shape="vh" if s.step else "linear",
            hovertemplate=f"%{{y:.4g}} {p.unit}<extra>{html.escape(s.label)}</extra>"), row)
    for sp in p.setpoints:
        parts.trace(go.Scatter(
            x=_xs(sp.t_s, div), y=sp.y, mode="lines", name=sp.label, legend=legend,
            line={"color": sp.colour, "width": 1.5, "dash": "dot"},
            hovertemplate=f"%{{y:.4g}} {p.unit}<extra>{html.escape(sp.label)}</extra>"), row)
    for n in p.notes:  # (a legend line: what the range leaves out)
        parts.trace(go.Scatter(x=[None], y=[None], mode="lines", line={"color": "white"},
                                 name=_wrap(n), legend=legend), row)
    parts.note(text=f"{html.escape(p.title)} [{p.unit}]", x=0, y=1, xref="x domain",
                       yref=f"y{row} domain", xanchor="left", yanchor="bottom",
                       showarrow=False, font={"size": 12})
    if p.log:
        fig.update_yaxes(type="log", range=[np.log10(lo), np.log10(hi)], dtick=1, row=row,
                         col=1)
    else:
        fig.update_yaxes(range=[lo, hi], row=row, col=1)
    fig.update_yaxes(title_text=p.unit, row=row, col=1)


def figure(tl: Timeline) -> Any:
    """The plotly figure of ``tl``.

    Raises:
        ConfigError: plotly is not installed.
    """
    go, make_subplots = _plotly()
    heights = [1.0] + [p.height for p in tl.panels]
    fig = make_subplots(rows=len(heights), cols=1, shared_xaxes=True,
                        vertical_spacing=0.03, row_heights=heights)
    parts = _Parts()
    _lane(fig, parts, go, tl)
    for i, p in enumerate(tl.panels, start=2):
        _panel(fig, parts, go, p, tl, i)
    legends: dict[str, Any] = {}
    for i in range(1, len(heights) + 1):
        dom = fig.layout[f"yaxis{i if i > 1 else ''}"].domain
        legends[f"legend{i if i > 1 else ''}"] = {
            "x": 1.01, "y": dom[1], "yanchor": "top", "xanchor": "left",
            "font": {"size": 10}, "bgcolor": "rgba(255,255,255,0)", "tracegroupgap": 2}
    head = "<br>".join(
        (f"<b>{html.escape(line)}</b>" if i == 0 else
         f"<span style='font-size:12px;color:{_title_colour(line)}'>"
         f"{html.escape(line)}</span>") for i, line in enumerate(tl.title))
    foot = "<br>".join(html.escape(f) for f in tl.footnote)
    top = 45 + 22 * len(tl.title)
    height = int(_PX_PER_HEIGHT * sum(heights)) + top + 110
    fig.update_layout(
        height=height, margin={"t": top, "b": 110, "l": 70, "r": 330},
        hovermode="x unified", plot_bgcolor="white", **legends)
    parts.note(text=head, xref="paper", yref="paper", x=0, y=1, yshift=28,
                       showarrow=False, xanchor="left", yanchor="bottom", align="left",
                       font={"size": 16})
    parts.note(text=foot, xref="paper", yref="paper", x=0, y=0, yshift=-48,
                       showarrow=False, xanchor="left", yanchor="top", align="left",
                       font={"size": 10, "color": "#444"})
    # (all at once: plotly copies the layout on every add_shape, quadratic in shapes)
    fig.add_traces([t for t, _row in parts.traces], rows=[r for _t, r in parts.traces],
                   cols=[1] * len(parts.traces))
    fig.update_layout(shapes=parts.shapes,
                      annotations=[*fig.layout.annotations, *parts.annotations])
    fig.update_xaxes(showgrid=True, gridcolor="#e5e5e5", hoverformat=".4g",
                     range=[0, tl.end_s / tl.time_div])
    fig.update_yaxes(showgrid=True, gridcolor="#e5e5e5")
    fig.update_xaxes(title_text=f"mission time [{tl.time_unit}]", row=len(heights), col=1)
    return fig


def draw_html(tl: Timeline, out: Path) -> Path:
    """Write ``tl`` as one self-contained HTML file ``out`` and return ``out``.

    Raises:
        ConfigError: plotly is not installed.
    """
    fig = figure(tl)
    page = fig.to_html(include_plotlyjs=True, full_html=True,
                       config={"displaylogo": False, "responsive": True,
                               "toImageButtonOptions": {"filename": "timeline"}})
    name = html.escape(f"timeline: {tl.title[0]}")
    page = page.replace("<head>", f"<head><title>{name}</title>", 1)
    out.write_text(page, encoding="utf-8")
    return out


def plot_html(run_dir: Path, mission: Path | None = None) -> Path:
    """Write ``timeline.html`` into ``run_dir`` and return its path; ``mission``: as
    :func:`ground.plot.plot_run`.

    Raises:
        ConfigError: plotly is not installed, ``run_dir`` has no telemetry.jsonl, a file
            of it is empty or damaged (named), or ``mission`` is not valid.
    """
    _plotly()
    tl = build_timeline(Path(run_dir), mission, HTML_BUCKETS)
    return draw_html(tl, Path(run_dir) / "timeline.html")
