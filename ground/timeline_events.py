"""What a timeline says from a run's events and summary: the phases that happened, the
markers (faults injected, FDIR trips, commands, warnings), the gaps in a sensor's
readings with their cause, and the title (mission, seed, run, final state, SAFE reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from common.errors import ConfigError
from ground.timeline_io import RunData

#: marker kinds, most severe first (a group of markers takes its most severe kind)
KINDS = ("fault", "fdir", "warning", "command")
KIND_COLOURS = {"fault": "#b2182b", "fdir": "#e08214", "warning": "#762a83",
                "command": "#2166ac"}
_WARNINGS = ("phase_timeout", "power_shed", "actuator_failed", "sequence_failed",
             "sensor_failed")


@dataclass(frozen=True)
class Marker:
    """Something that happened at ``t_s`` [s]: ``kind`` (one of :data:`KINDS`), a short
    ``label`` and the ``detail`` a hover shows."""

    t_s: float
    kind: str
    label: str
    detail: str


def fmt_time(t_s: float, unit: str, div: float) -> str:
    """``t_s`` in the axis unit: ``973 s``, ``16.2 min``, ``6.24 h`` (under 100 s in
    seconds)."""
    return f"{t_s:.0f} s" if unit == "s" or t_s < 100.0 else f"{t_s / div:.3g} {unit}"


def phases_of(data: RunData, end_s: float) -> list[tuple[str, float, float]]:
    """(state, entered [s], left [s]) of every phase that lasted, from summary.json's
    ``phases`` (else the telemetry's state column).

    Raises:
        ConfigError: a row of summary.json's ``phases`` is not a phase.
    """
    out: list[tuple[str, float, float]] = []
    rows = (data.summary or {}).get("phases")
    if isinstance(rows, list) and rows:
        for i, p in enumerate(rows):
            try:
                t0 = float(p["entered_s"])
                t1 = end_s if p.get("left_s") is None else float(p["left_s"])
                state = str(p["state"])
            except (KeyError, TypeError, ValueError, AttributeError):
                raise ConfigError(f"{data.run_dir / 'summary.json'}: phases[{i}]",
                                  f"not a phase (state, entered_s, left_s): {p!r:.80}"
                                  ) from None
            if t1 > t0:
                out.append((state, t0, t1))
        return out
    t = data.t_s
    start = 0
    for i in range(1, len(data.states) + 1):
        if i == len(data.states) or data.states[i] != data.states[start]:
            t1 = end_s if i == len(data.states) else float(t[i])
            if t1 > float(t[start]):
                out.append((data.states[start], float(t[start]), t1))
            start = i
    return out


def _marker(e: dict[str, Any]) -> Marker | None:
    name = e.get("event")
    t = e.get("t_s")
    if not isinstance(t, int | float):
        return None
    t = float(t)
    if name == "fault_injected":
        target = f" on {e['target']}" if e.get("target") else ""
        return Marker(t, "fault", f"fault {e.get('fault')}",
                      f"fault injected: {e.get('fault')} ({e.get('layer')} "
                      f"{e.get('kind')}{target})")
    if name == "fault_cleared":
        return Marker(t, "fault", f"{e.get('fault')} cleared", f"fault cleared: {e.get('fault')}")
    if name == "fdir_trip":
        why = e.get("detail") or e.get("reason") or ""
        return Marker(t, "fdir", f"FDIR {e.get('monitor')}",
                      f"FDIR trip {e.get('monitor')} ({e.get('kind')}): {why}; response "
                      f"{e.get('response')}")
    if name == "fdir_escalate":
        return Marker(t, "fdir", f"{e.get('monitor')} -> {e.get('escalate_to')}",
                      f"FDIR {e.get('monitor')} escalated to {e.get('escalate_to')}: "
                      f"{e.get('why')}")
    if name == "command":
        ok = e.get("accepted", True)
        args = e.get("args") or {}
        args = args if isinstance(args, dict) else {}
        label = " ".join([str(e.get("name")), *(str(v) for v in args.values())])
        full = " ".join([str(e.get("name")), *(f"{k}={v}" for k, v in args.items())])
        return Marker(t, "command" if ok else "warning",
                      label + ("" if ok else " REFUSED"),
                      f"command {full} from {e.get('source')}" + ("" if ok else " refused")
                      + (f": {e['detail']}" if e.get("detail") else ""))
    if name == "telecommand" and e.get("verdict") not in (None, "accepted", "ok"):
        return Marker(t, "warning", f"TC {e.get('name')} rejected",
                      f"telecommand {e.get('name')} rejected: {e.get('reason')}")
    if name in _WARNINGS:
        fields = ", ".join(f"{k}={v}" for k, v in e.items()
                           if k not in ("event", "level", "t_s", "mission_time_s"))
        what = e.get("telemetry") or e.get("state") or e.get("load") or e.get("command") or ""
        return Marker(t, "warning", f"{name} {what}".strip(), f"{name}: {fields}")
    return None


def markers_of(events: list[dict[str, Any]]) -> list[Marker]:
    """The markers of a run's events, in time order."""
    out = [m for m in (_marker(e) for e in events) if m is not None]
    return sorted(out, key=lambda m: m.t_s)


def group_markers(markers: tuple[Marker, ...] | list[Marker], within_s: float
                  ) -> list[tuple[float, str, list[Marker]]]:
    """Markers closer than ``within_s`` [s] to the first of their group, as
    (time of the first [s], the most severe kind, the markers)."""
    groups: list[tuple[float, str, list[Marker]]] = []
    for m in markers:
        if groups and m.t_s - groups[-1][0] <= within_s:
            t0, kind, ms = groups[-1]
            ms.append(m)
            groups[-1] = (t0, min(kind, m.kind, key=KINDS.index), ms)
        else:
            groups.append((m.t_s, m.kind, [m]))
    return groups


@dataclass(frozen=True)
class LaneLabel:
    """A group of markers in the top lane: at ``t_s`` [s], its most severe ``kind``, a
    ``text`` (shortened) on label ``row`` (None: no room, a tick only), written to the
    left of its tick when ``left`` (it would run past the end), and the ``detail`` of
    every marker in it."""

    t_s: float
    kind: str
    text: str
    row: int | None
    left: bool
    detail: tuple[str, ...]


#: the lane's phase bar spans 0 to this (of the lane's height, 0..1)
LANE_BAR = 0.22


def lane_y(lab: LaneLabel) -> float:
    """The height (0..1 of the lane) of ``lab``'s label: rows above the phase bar, a
    label without room a short tick."""
    return 0.3 if lab.row is None else 0.38 + 0.16 * lab.row


def lane_layout(markers: tuple[Marker, ...] | list[Marker], end_s: float, rows: int = 4,
                char_frac: float = 0.0068, max_chars: int = 60) -> list[LaneLabel]:
    """The lane's labels: markers within 0.25 % of the run grouped (the most severe
    first in its text), each group's text on the first of ``rows`` label rows where it
    overlaps no other (``char_frac``: the width of a character as a fraction of the
    run's length)."""
    span = max(end_s, 1e-9)
    taken: list[list[tuple[float, float]]] = [[] for _ in range(rows)]
    out = []
    for t0, kind, ms in group_markers(markers, 0.0025 * span):
        ordered = sorted(ms, key=lambda m: KINDS.index(m.kind))  # (the most severe first)
        text = " / ".join(dict.fromkeys(m.label for m in ordered))
        text = text if len(text) <= max_chars else text[:max_chars - 2] + ".."
        x = t0 / span
        width = char_frac * (len(text) + 2)
        left = x + width > 1.0
        a, b = (x - width, x) if left else (x, x + width)
        row = next((r for r in range(rows)
                    if all(b < a2 or a > b2 for a2, b2 in taken[r])), None)
        if row is not None:
            taken[row].append((a, b))
        out.append(LaneLabel(t0, kind, text, row, left, tuple(m.detail for m in ms)))
    return out


def gaps_of(data: RunData, keys: list[str]) -> list[tuple[str, float, float, str]]:
    """(field, last reading [s], next reading [s] or the end, why) of every run
    of missing readings of ``keys``; why from the run's ``sensor_failed`` event (the
    first failure of a sensor is logged) and the FDIR stale trip that followed."""
    out = []
    t = data.t_s
    for key in keys:
        col = data.column(key)
        if col is None or key.startswith("cmd_"):
            continue
        bad = ~np.isfinite(col)
        if not bad.any():
            continue
        edges = np.flatnonzero(np.diff(np.concatenate(([0], bad.astype(np.int8), [0]))))
        for i0, i1 in zip(edges[::2], edges[1::2], strict=True):
            t0 = float(t[i0 - 1] if i0 > 0 else t[i0])  # (the last reading: the line ends)
            t1 = float(t[i1]) if i1 < len(t) else float(t[-1])
            out.append((key, t0, t1, _why(data.events, key, t0, t1)))
    return out


def _why(events: list[dict[str, Any]], key: str, t0: float, t1: float) -> str:
    failed = [e for e in events if e.get("event") == "sensor_failed"
              and e.get("telemetry") == key and float(e.get("t_s", 1e99)) <= t0 + 1.0]
    why = (f"read failed: {failed[-1].get('error')}" if failed else
           "no reading (a failed read; events.jsonl gives no cause)")
    trips = [e for e in events if e.get("event") == "fdir_trip" and e.get("telemetry") == key
             and e.get("kind") == "stale" and t0 <= float(e.get("t_s", -1)) <= t1 + 1.0]
    if trips:
        why += f"; FDIR {trips[0].get('monitor')} -> {trips[0].get('response')}"
    return why


def title_of(data: RunData, end_s: float, unit: str, div: float) -> tuple[str, ...]:
    """The title lines: who (mission, seed, run), how it ended, why SAFE, the faults."""
    s = data.summary or {}
    start = next((e for e in data.events if e.get("event") == "run_start"), {})
    mission = start.get("mission", "mission ?")
    seed = s.get("seed", start.get("seed", "?"))
    lines = [f"{mission}  |  seed {seed}  |  run {data.run_dir.name}"]
    if s:
        state = s.get("final_state", "?")
        how = "mission complete" if s.get("mission_complete") else \
            f"ended: {s.get('end_reason', '?')}"
        lines.append(f"final state {state} ({how}) at {fmt_time(end_s, unit, div)}")
    else:
        lines.append(f"last state {data.states[-1]} at {fmt_time(end_s, unit, div)} "
                     "(no summary.json: the run is still going, or was killed)")
    if s.get("safe_reason"):
        lines.append(f"SAFE because {s['safe_reason']}")
    for f in s.get("faults") or []:
        det = f.get("detected_at_s")
        seen = (f"detected at {fmt_time(float(det), unit, div)} by {f.get('monitor')}"
                if det is not None else "not detected")
        at = f.get("injected_at_s")
        when = fmt_time(float(at), unit, div) if at is not None else "never"
        lines.append(f"fault {f.get('id')} ({f.get('layer')} {f.get('kind')}) injected at "
                     f"{when}, {seen}, outcome {f.get('outcome')}")
    return tuple(lines)
