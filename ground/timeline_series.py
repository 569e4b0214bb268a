"""What each timeline panel plots (telemetry fields, display units and scales, styles),
and the two transforms on a series: mean power from an energy counter, and honest
decimation (the min and max of each time bucket, so a spike survives)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SeriesSpec:
    """A telemetry field on a panel: ``y = field x scale`` in the panel's unit.

    ``derive="rate"``: the field is an energy counter [J]; plotted is its mean power
    over each sample interval [W] (what a 1 Hz sample of the power would miss, a power
    cycle between two samples, shows as the energy it did not use). ``style``: "solid",
    "dash" (a command), "wide" (drawn under a thinner line that may cover it).
    """

    key: str
    label: str
    colour: str
    scale: float = 1.0
    style: str = "solid"
    derive: str | None = None


@dataclass(frozen=True)
class PanelSpec:
    """A panel: ``title``, display ``unit``, relative ``height``; ``log`` with ``floor``:
    a log axis on which values under ``floor`` (the sensor's noise) sit at the floor."""

    title: str
    unit: str
    series: tuple[SeriesSpec, ...]
    log: bool = False
    floor: float | None = None
    height: float = 1.0


H2, O2 = "#1b7837", "#74add1"
PANELS: tuple[PanelSpec, ...] = (
    PanelSpec("temperatures", "K", (
        # (the plate last, on top: unheated, it reads what the sample reads)
        SeriesSpec("sample_temp_k", "sample (bottom)", "#ff7f0e"),
        SeriesSpec("trap_temp_k", "cold trap", "#1f77b4"),
        SeriesSpec("heater_temp_k", "heater plate", "#d62728")), height=1.5),
    # the gauge's noise (5 mPa 1-sigma in SIL) is no pressure: it sits on a 20 mPa floor
    PanelSpec("chamber pressure (log; readings under 0.02 Pa, the gauge's noise, drawn at "
              "0.02 Pa)", "Pa", (
        SeriesSpec("chamber_pressure_pa", "chamber", "#9467bd"),), log=True, floor=0.02),
    PanelSpec("water and products", "g", (
        SeriesSpec("reservoir_mass_kg", "reservoir (gauge)", "#17becf", 1e3),
        SeriesSpec("water_captured_kg", "captured (estimate)", "#1f77b4", 1e3, "dash"),
        SeriesSpec("o2_produced_kg", "O2 produced", O2, 1e3),
        SeriesSpec("h2_produced_kg", "H2 produced", H2, 1e3))),
    # O2 wide and pale under H2: the tanks hold the same pressure (2:1 gas, 1:2 volume)
    PanelSpec("tank pressures", "kPa", (
        SeriesSpec("o2_tank_pressure_pa", "O2 tank", O2, 1e-3, "wide"),
        SeriesSpec("h2_tank_pressure_pa", "H2 tank", H2, 1e-3))),
    PanelSpec("electrolyzer stack voltage", "V", (
        SeriesSpec("stack_voltage_v", "stack voltage", "#8c564b"),), height=0.8),
    PanelSpec("electrolyzer stack current", "A", (
        SeriesSpec("cmd_electrolyzer_current_a", "commanded", "#555555", 1.0, "dash"),
        SeriesSpec("stack_current_a", "stack current", "#8c564b")), height=0.8),
    PanelSpec("power (mean over each sample interval)", "W", (
        # the bus wide and pale under its loads: it equals one of them at times
        SeriesSpec("energy_bus_j", "bus (measured)", "#000000", 1.0, "wide", "rate"),
        SeriesSpec("bus_cap_w", "rover cap", "#7f7f7f", 1.0, "dash"),
        SeriesSpec("energy_heater_j", "plate heater (cmd)", "#d62728", derive="rate"),
        SeriesSpec("energy_cryocooler_j", "cryocooler", "#1f77b4", derive="rate"),
        SeriesSpec("energy_trap_heater_j", "melt heater (cmd)", "#ff7f0e", derive="rate"),
        SeriesSpec("energy_electrolyzer_j", "electrolyzer", "#2ca02c", derive="rate")),
        height=1.3),
)


def mean_power(t_s: np.ndarray, energy_j: np.ndarray) -> np.ndarray:
    """The mean power [W] over each sample interval of an energy counter [J]: element
    ``i`` is ``(E[i] - E[i-1]) / (t[i] - t[i-1])``, NaN for the first sample, a
    non-increasing time or a missing value."""
    p = np.full(t_s.shape, np.nan)
    if t_s.size > 1:
        dt = np.diff(t_s)
        de = np.diff(energy_j)
        with np.errstate(invalid="ignore", divide="ignore"):
            p[1:] = np.where(dt > 0, de / np.where(dt > 0, dt, 1.0), np.nan)
    return p


def decimate(t_s: np.ndarray, y: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``buckets`` time buckets of ``(t_s, y)``, each drawn as its minimum and
    maximum in time order (a spike survives, noise shows as the band it is); a bucket
    with a missing value gets a NaN after them, so a gap is never bridged. Series of up
    to ``2 x buckets`` samples are returned as they are."""
    n = t_s.size
    if n <= 2 * buckets or buckets < 1:
        return t_s, y
    edges = np.searchsorted(t_s, np.linspace(float(t_s[0]), float(t_s[-1]), buckets + 1))
    edges[-1] = n
    ts: list[float] = []
    ys: list[float] = []
    for i0, i1 in zip(edges[:-1], edges[1:], strict=True):
        if i1 <= i0:
            continue
        seg = y[i0:i1]
        ok = np.isfinite(seg)
        if not ok.any():
            ts.append(float(t_s[i0]))
            ys.append(math.nan)
            continue
        idx = np.flatnonzero(ok)
        lo = int(idx[np.argmin(seg[idx])])
        hi = int(idx[np.argmax(seg[idx])])
        pts = sorted({lo, hi})
        if not ok.all():
            pts.append(int(np.flatnonzero(~ok)[0]))
            pts.sort()
        for j in pts:
            ts.append(float(t_s[i0 + j]))
            ys.append(float(seg[j]) if ok[j] else math.nan)
    return np.array(ts), np.array(ys)
