"""Labels for the campaign report: trigger columns in mission-time order and their
headings, and the unit and draw of each dispersed parameter.

A trigger label is what :func:`ground.campaign.spec.trigger_label` writes into each run's
results line: ``EXTRACT_HEAT+200s``, ``t=0s``, ``heater_temp_k>400+0s``, ``plan`` (a plan
file's own triggers) or ``-`` (a fault-free run, which has no trigger).
"""

from __future__ import annotations

import functools
import re
import statistics
from collections.abc import Iterable
from typing import Any

#: the trigger label of a fault-free (nominal) run: it has no trigger column
NO_TRIGGER = "-"

_AT = re.compile(r"^t=(?P<t>[0-9.]+(?:e[+-]?\d+)?)s$")
_AFTER = re.compile(r"^(?P<base>.+?)\+(?P<after>[0-9.]+(?:e[+-]?\d+)?)s$")
_WHEN = re.compile(r"[<>]")


@functools.lru_cache(maxsize=1)
def state_order() -> dict[str, int]:
    """Leaf states of the mission state chart in the chart's order (BOOT, CHECKOUT, IDLE,
    EXTRACT_HEAT, ...): the order a mission passes through them."""
    from flight.sequencer import leaf_states, load_chart

    return {name: i for i, name in enumerate(leaf_states(load_chart()))}


def static_key(label: str) -> tuple[int, int, float, str]:
    """Sort key of a trigger label from the label alone: mission start (``t=0s`` and
    other absolute times, by time), then states in the chart's order (by seconds after
    entry), then telemetry conditions, then plan files."""
    if m := _AT.match(label):
        return (0, 0, float(m["t"]), label)
    m = _AFTER.match(label)
    base, after = (m["base"], float(m["after"])) if m else (label, 0.0)
    if not _WHEN.search(base) and base in state_order():
        return (1, state_order()[base], after, label)
    if _WHEN.search(base):
        return (2, 0, after, label)
    return (3, 0, after, label)


def order_triggers(labels: Iterable[str], records: Iterable[dict[str, Any]]) -> list[str]:
    """The trigger columns (without :data:`NO_TRIGGER`) in mission-time order.

    When every column has runs whose fault was injected (``injected_at_s`` in the
    results), columns go by the median mission time of injection: the order the faults
    really came in. Otherwise (an interrupted campaign, results without that field) by
    :func:`static_key`. Ties go by :func:`static_key`.
    """
    cols = [t for t in dict.fromkeys(labels) if t != NO_TRIGGER]
    times: dict[str, list[float]] = {t: [] for t in cols}
    for r in records:
        t, at = str(r.get("trigger")), r.get("injected_at_s")
        if t in times and isinstance(at, int | float) and not isinstance(at, bool):
            times[t].append(float(at))
    if cols and all(times[t] for t in cols):
        return sorted(cols, key=lambda t: (statistics.median(times[t]), static_key(t)))
    return sorted(cols, key=static_key)


def trigger_heading(label: str) -> tuple[str, str]:
    """Two lines for a column heading: (``EXTRACT_CAPTURE``, ``+60 s``),
    (``t = 0 s``, ``mission time``), (``heater_temp_k>400``, ``+0 s``)."""
    if m := _AT.match(label):
        return f"t = {m['t']} s", "mission time"
    if m := _AFTER.match(label):
        return m["base"], f"+{m['after']} s"
    return label, ""


# ---------------------------------------------------------------- dispersion units

#: unit of a parameter by the end of its name (longest first); SI units, as in the code
_SUFFIX_UNITS = (
    ("_w_at_ref", "W"), ("_kg_m3", "kg/m³"), ("_m3_s", "m³/s"), ("_j_k", "J/K"),
    ("_w_k", "W/K"), ("_cm2", "cm²"), ("_m3", "m³"), ("_kg", "kg"), ("_pa", "Pa"),
    ("_k", "K"), ("_w", "W"), ("_m", "m"), ("_s", "s"), ("_a", "A"),
)


@functools.lru_cache(maxsize=1)
def _noise_units() -> dict[str, str]:
    """Sensor role -> the unit of its readings (the channel dictionary's)."""
    from common.dictionary import load_dictionary

    return {c.device.role: c.unit for c in load_dictionary().channels.sensors
            if c.device is not None}


def param_unit(param: str) -> str:
    """The unit of a dispersed parameter's value: ``W`` for ``power.bus_cap_w``, the
    sensor's unit for ``noise.<role>`` (the 1-sigma noise of its readings), ``1`` for a
    dimensionless one (a fraction, a scale factor, an emissivity)."""
    section, _, key = param.partition(".")
    if section == "noise":
        try:
            return _noise_units().get(key, "?")
        except Exception:  # noqa: BLE001 - a label must not stop the report
            return "?"
    for suffix, unit in _SUFFIX_UNITS:
        if key.endswith(suffix):
            return unit
    return "1"


def _g(x: Any) -> str:
    return "?" if x is None else f"{x:g}"


def describe_draw(entry: dict[str, Any]) -> str:
    """How a dispersion entry of the campaign draws: ``uniform 0.8–1.2 × nominal``,
    ``normal mean 1 sigma 0.1 in 0.7–1.3 × nominal``, ``uniform 40–50 W``."""
    param = str(entry.get("param", ""))
    scale = entry.get("mode", "scale") == "scale"
    unit = "× nominal" if scale else param_unit(param)
    if entry.get("dist") == "choice":
        return "one of " + ", ".join(map(str, entry.get("values") or []))
    if entry.get("dist") == "normal":
        text = f"normal mean {_g(entry.get('mean'))} sigma {_g(entry.get('sigma'))}"
        if entry.get("low") is not None or entry.get("high") is not None:
            text += f" in {_g(entry.get('low'))}–{_g(entry.get('high'))}"
    else:
        text = f"uniform {_g(entry.get('low'))}–{_g(entry.get('high'))}"
    return f"{text} {unit}" if unit != "1" else text


def draws_by_param(entries: Iterable[Any], params: Iterable[str]) -> dict[str, str]:
    """Parameter -> :func:`describe_draw` of the entry that sets it (``noise.*`` stands for
    every ``noise.<role>``); parameters of no entry are left out."""
    out: dict[str, str] = {}
    names = list(params)
    for e in entries:
        if not isinstance(e, dict) or not e.get("param"):
            continue
        p = str(e["param"])
        for name in (n for n in names if n == p or (p == "noise.*"
                                                     and n.startswith("noise."))):
            out[name] = describe_draw(e)
    return out
