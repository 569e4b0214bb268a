"""The timeline of a run as data: panels of series with units, FDIR limit bands,
setpoint lines, sensor gaps with their cause, event markers, phases and a title.

ground/plot.py draws it as timeline.png, ground/plot_html.py as an interactive
timeline.html; both draw this model and nothing else, so they never disagree. Times are
mission seconds; values are in each panel's display unit (K, Pa, g, kPa, V, A, W).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ground.timeline_config import RunConfig, run_config
from ground.timeline_events import Marker, gaps_of, markers_of, phases_of, title_of
from ground.timeline_io import RunData, read_run
from ground.timeline_series import PANELS, PanelSpec, decimate, mean_power


@dataclass(frozen=True)
class Series:
    """One line: ``t_s`` [s] and ``y`` [the panel's unit], NaN where there is no value;
    ``step``: the value holds over the interval before each point (a mean per sample)."""

    key: str
    label: str
    colour: str
    style: str
    step: bool
    t_s: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class Band:
    """An FDIR limit: values beyond ``value`` (above it when ``above``) trip a monitor in
    the mission time ``spans`` [s] where it is enabled; ``label``: ``plate > 480 K``,
    ``action``: the monitor, its response and where it is enabled; ``on_scale``: the
    panel's range holds it (else the picture says where it is)."""

    label: str
    action: str
    colour: str
    value: float
    above: bool
    spans: tuple[tuple[float, float], ...]
    on_scale: bool


@dataclass(frozen=True)
class Setpoint:
    """A controller's target as a line (NaN between the states it applies in)."""

    label: str
    colour: str
    t_s: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class Gap:
    """No reading of ``label`` from ``t0_s`` to ``t1_s`` [s], and why."""

    label: str
    t0_s: float
    t1_s: float
    why: str


@dataclass(frozen=True)
class Panel:
    """One plot: its series, bands, setpoints and gaps; ``y_range`` [unit] (on a log
    panel the values, not their logarithms); ``notes``: what the range leaves out;
    ``height``: relative to the other panels."""

    title: str
    unit: str
    log: bool
    series: tuple[Series, ...]
    bands: tuple[Band, ...]
    setpoints: tuple[Setpoint, ...]
    gaps: tuple[Gap, ...]
    y_range: tuple[float, float]
    notes: tuple[str, ...] = ()
    height: float = 1.0


@dataclass(frozen=True)
class Phase:
    """The payload in ``state`` from ``t0_s`` to ``t1_s`` [s]."""

    state: str
    t0_s: float
    t1_s: float


@dataclass(frozen=True)
class Timeline:
    """Everything a timeline picture shows; ``time_unit``/``time_div``: the x axis
    (``t_s / time_div`` in ``time_unit``)."""

    run_dir: Path
    title: tuple[str, ...]
    panels: tuple[Panel, ...]
    phases: tuple[Phase, ...]
    markers: tuple[Marker, ...]
    end_s: float
    time_unit: str
    time_div: float
    footnote: tuple[str, ...] = field(default=())


#: the colour of each phase's shading (only the phases that happened are shown)
PHASE_COLOURS = {"BOOT": "#bdbdbd", "CHECKOUT": "#cab2d6", "IDLE": "#e8e8e8",
                 "EXTRACT_HEAT": "#f4a582", "EXTRACT_CAPTURE": "#fddbc7",
                 "EXTRACT_SECURE": "#d1e5f0", "TRANSFER": "#92c5de",
                 "ELECTROLYZE": "#b8e186", "SAFE": "#f4606c"}
#: the smallest y span of a panel per unit, so a sensor's noise never fills a panel
MIN_SPAN = {"K": 20.0, "g": 1.0, "kPa": 20.0, "V": 0.5, "A": 2.0, "W": 5.0}
#: a log panel spans at least this many decades
MIN_DECADES = 2.0


def band_edge(b: Band, p: Panel, depth: float = 0.06) -> float:
    """The far edge of ``b``'s shaded strip on panel ``p``: ``depth`` of the panel's
    height beyond the limit, on its bad side (a strip, not the whole side: the other
    series of the panel have other limits)."""
    lo, hi = p.y_range
    sign = 1.0 if b.above else -1.0
    if p.log:
        return b.value * (hi / lo) ** (sign * depth)
    return b.value + sign * depth * (hi - lo)


def time_axis(end_s: float) -> tuple[str, float]:
    """The x axis unit for a run of ``end_s`` seconds: (name, seconds per unit)."""
    if end_s > 3 * 3600.0:
        return "h", 3600.0
    if end_s > 600.0:
        return "min", 60.0
    return "s", 1.0


def _spans(phases: tuple[Phase, ...], enabled: Callable[[str], bool]
           ) -> tuple[tuple[float, float], ...]:
    """The merged spans [s] of the phases for which ``enabled(state)`` holds."""
    out: list[tuple[float, float]] = []
    for p in phases:
        if enabled(p.state):
            if out and abs(out[-1][1] - p.t0_s) < 1e-9:
                out[-1] = (out[-1][0], p.t1_s)
            else:
                out.append((p.t0_s, p.t1_s))
    return tuple(out)


def _setpoint_line(sp_value: float, changes: tuple[tuple[float, float], ...],
                   spans: tuple[tuple[float, float], ...], scale: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    t: list[float] = []
    y: list[float] = []

    def value_at(ts: float) -> float:
        v = sp_value
        for tc, vc in changes:
            if tc <= ts:
                v = vc
        return v

    for a, b in spans:
        t.append(a)
        y.append(value_at(a) * scale)
        for tc, vc in changes:
            if a < tc < b:
                t += [tc, tc]
                y += [value_at(tc - 1e-9) * scale, vc * scale]
        t += [b, b]
        y += [value_at(b) * scale, math.nan]
    return np.array(t, dtype=float), np.array(y, dtype=float)


def _y_range(spec: PanelSpec, values: list[np.ndarray], limits: list[float]
             ) -> tuple[tuple[float, float], list[bool]]:
    """The panel's range: the data (at least MIN_SPAN), and each limit when it lies
    within one data span of it (else it is noted off scale)."""
    finite = [v[np.isfinite(v)] for v in values]
    finite = [v for v in finite if v.size]
    if spec.log:
        floor = spec.floor or 1e-3
        data = np.concatenate(finite) if finite else np.array([floor])
        lo_d = math.log10(max(floor, float(np.min(data))))
        hi_d = math.log10(max(floor, float(np.max(data))))
        span = max(hi_d - lo_d, MIN_DECADES)
        on = [lim > 0 and lo_d - span <= math.log10(lim) <= hi_d + span for lim in limits]
        for lim, ok in zip(limits, on, strict=True):
            if ok:
                lo_d, hi_d = min(lo_d, math.log10(lim)), max(hi_d, math.log10(lim))
        if hi_d - lo_d < MIN_DECADES:
            hi_d = lo_d + MIN_DECADES
        pad = 0.05 * (hi_d - lo_d)
        return (10 ** (lo_d - pad), 10 ** (hi_d + pad)), on
    data = np.concatenate(finite) if finite else np.array([0.0])
    lo, hi = float(np.min(data)), float(np.max(data))
    span = hi - lo
    on = [lo - span <= lim <= hi + span for lim in limits]
    for lim, ok in zip(limits, on, strict=True):
        if ok:
            lo, hi = min(lo, lim), max(hi, lim)
    need = MIN_SPAN.get(spec.unit, 0.0)
    if hi - lo < need:
        mid = 0.5 * (hi + lo)
        lo, hi = mid - need / 2, mid + need / 2
        if min(float(np.min(data)), 0.0) == 0.0 and lo < 0.0 <= float(np.min(data)):
            lo, hi = 0.0, need  # a quantity that cannot go negative starts at zero
    pad = 0.04 * (hi - lo) if hi > lo else 1.0
    return (lo - pad, hi + pad), on


def _panel(spec: PanelSpec, data: RunData, cfg: RunConfig, phases: tuple[Phase, ...],
           buckets: int) -> Panel:
    t = data.t_s
    series: list[Series] = []
    values: list[np.ndarray] = []
    for s in spec.series:
        col = data.column(s.key)
        if col is None:
            continue
        y = (mean_power(t, col) if s.derive == "rate" else col) * s.scale
        if spec.log and spec.floor is not None:
            y = np.where(np.isfinite(y), np.maximum(y, spec.floor), np.nan)
        values.append(y)
        td, yd = decimate(t, y, buckets)
        series.append(Series(s.key, s.label, s.colour, s.style, s.derive == "rate", td, yd))
    scale_of = {s.key: (s.scale, s.label, s.colour) for s in spec.series if s.derive is None}
    # (limit, value [unit], bad above it?): a limit with both bounds is two bands
    sides = [(lim, bound * scale_of[lim.telemetry][0], above) for lim in cfg.limits
             if lim.telemetry in scale_of
             for bound, above in ((lim.above, True), (lim.below, False)) if bound is not None]
    lim_values = [value for _lim, value, _above in sides]
    setpoints: list[Setpoint] = []
    for sp in cfg.setpoints:
        if sp.telemetry in scale_of:
            spans = _spans(phases, sp.states.__contains__)
            if spans:
                ts, ys = _setpoint_line(sp.value, sp.changes, spans, scale_of[sp.telemetry][0])
                setpoints.append(Setpoint(sp.label, scale_of[sp.telemetry][2], ts, ys))
                values.append(ys)
    y_range, on = _y_range(spec, values, lim_values)
    merged: dict[tuple[str, bool, float, tuple[tuple[float, float], ...]], list[Any]] = {}
    for (lim, value, above), ok in zip(sides, on, strict=True):
        spans = _spans(phases, lim.enabled)
        if not spans:
            continue  # never watched in this run (stack voltage outside ELECTROLYZE)
        where = "" if lim.enabled_in == "all" else f" in {','.join(lim.enabled_in)}"
        action = f"{lim.origin} {lim.monitor} -> {lim.response}{where}"
        bound = (lim.telemetry, above, value, spans)
        if bound in merged:  # the same bound twice (a mission limit on a table's limit)
            merged[bound][1].append(action)
        else:
            merged[bound] = [lim, [action], ok]
    bands: list[Band] = []
    notes: list[str] = []
    for (telemetry, above, value, spans), (_lim, actions, ok) in merged.items():
        _scale, label, colour = scale_of[telemetry]
        text = f"{label} {'>' if above else '<'} {value:g} {spec.unit}"
        action = "; ".join(actions)
        bands.append(Band(text, action, colour, value, above, spans, ok))
        if not ok:
            notes.append(f"limit {text} ({action}) is far {'above' if above else 'below'} "
                         "the scale")
    gaps = tuple(Gap(scale_of[key][1], t0, t1, why) for key, t0, t1, why
                 in gaps_of(data, [k for k in scale_of]))
    return Panel(spec.title, spec.unit, spec.log, tuple(series), tuple(bands),
                 tuple(setpoints), gaps, y_range, tuple(notes), spec.height)


def build_timeline(run_dir: Path, mission: Path | None = None,
                   buckets: int = 1500) -> Timeline:
    """The timeline of the run in ``run_dir``; ``mission``: the mission YAML whose limits
    and setpoints apply (default: found by the run's mission name); ``buckets``: at most
    this many min/max pairs per series (spikes survive; fewer samples are kept as is).

    Raises:
        ConfigError: no telemetry.jsonl, an empty or damaged file (named with its
            line), or a bad ``mission``.
    """
    data = read_run(run_dir)
    start = next((e for e in data.events if e.get("event") == "run_start"), {})
    cfg = run_config(start.get("mission"), data.events, mission)
    end_s = max(float(np.nanmax(data.t_s)), 1.0)  # (a one-sample run still has an axis)
    if data.summary and isinstance(data.summary.get("mission_time_s"), int | float):
        end_s = max(end_s, float(data.summary["mission_time_s"]))
    phases = tuple(Phase(s, a, b) for s, a, b in phases_of(data, end_s))
    panels = tuple(_panel(spec, data, cfg, phases, buckets) for spec in PANELS)
    unit, div = time_axis(end_s)
    n = len(data.t_s)
    foot = [cfg.source]
    if n > 2 * buckets:
        foot.append(f"{n} samples drawn as the min and max of each "
                    f"{end_s / buckets:.3g} s bucket (spikes kept); power is the mean "
                    "over each sample interval, from the energy counters")
    else:
        foot.append("every sample drawn; power is the mean over each sample interval, "
                    "from the energy counters")
    return Timeline(run_dir, title_of(data, end_s, unit, div), panels, phases,
                    tuple(markers_of(data.events)), end_s, unit, div, tuple(foot))
