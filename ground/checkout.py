"""``thermine checkout``: what an engineer runs first at the bench.

Pings the platform, reads every sensor against a plausible range, moves every actuator
a little within safe limits, checks that it moved, and puts it back. Prints a PASS/FAIL
table with values and units. Works on any backend (sim, serial), through the same ports
the flight software uses.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from common.dictionary import DICTIONARY
from flight.channels import REQUIRED_DEVICES, SENSORS
from hal.errors import HalError
from hal.interfaces import Platform
from hal.registry import build_platform, load_hardware

#: telemetry name -> (unit, plausible low, plausible high) for a payload at rest
PLAUSIBLE: dict[str, tuple[str, float, float]] = DICTIONARY.plausible
SETTLE_S = 1.0  # mission time to let an actuator act before reading back


@dataclass
class Row:
    item: str
    value: str
    expected: str
    ok: bool
    #: not verifiable on this payload as it is (the row says why): neither pass nor fail
    skipped: bool = False


def _read(platform: Platform, name: str) -> Any:
    role, method = SENSORS[name]
    return getattr(platform.devices[role], method)()


def _sensor_rows(platform: Platform) -> list[Row]:
    rows = []
    for name, (unit, lo, hi) in PLAUSIBLE.items():
        try:
            v = _read(platform, name)
        except HalError as exc:
            rows.append(Row(f"read {name}", f"error: {exc}", f"{lo:g}..{hi:g} {unit}", False))
            continue
        fv = float(v)
        ok = math.isfinite(fv) and lo <= fv <= hi
        if unit == "-":  # a switch: say it in words (valve_open: closed at rest)
            words = {0.0: "closed", 1.0: "open"}
            rows.append(Row(f"read {name}", words.get(fv, f"{fv:g}"),
                            words.get(lo, "") if lo == hi else f"{lo:g}..{hi:g}", ok))
            continue
        rows.append(Row(f"read {name}", f"{fv:.6g} {unit}", f"{lo:g}..{hi:g} {unit}", ok))
    return rows


def _actuator_row(platform: Platform, item: str, act: Callable[[], object],
                  check: Callable[[], tuple[str, bool]], undo: Callable[[], None],
                  expected: str) -> Row:
    """Act, let it settle, read back, always undo."""
    try:
        act()
        platform.advance(SETTLE_S)
        value, ok = check()
    except HalError as exc:
        value, ok = f"error: {exc}", False
    finally:
        try:
            undo()
            platform.advance(SETTLE_S)
        except HalError as exc:
            value, ok = f"could not undo: {exc}", False
    return Row(item, value, expected, ok)


def _actuator_rows(platform: Platform) -> list[Row]:
    # each role's device implements its kind's port (hal.interfaces), checked when the
    # platform was built: called here by role, duck-typed
    d: Mapping[str, Any] = platform.devices
    rows = []

    def bus_w() -> float:
        return float(_read(platform, "bus_power_w"))

    def heat(role: str, power_w: float) -> None:
        d[role].set_enabled(True)
        d[role].set_power_w(power_w)

    def cool(role: str) -> None:
        d[role].set_power_w(0.0)
        d[role].set_enabled(False)

    def cut(role: str) -> None:
        d[role].set_power_w(1.0)
        d[role].set_enabled(False)

    def bus_rise(base: float, power_w: float) -> tuple[str, bool]:
        return f"bus +{bus_w() - base:.2f} W", abs(bus_w() - base - power_w) < 0.5 * power_w

    def bus_flat(base: float) -> tuple[str, bool]:
        return f"bus +{bus_w() - base:.2f} W", abs(bus_w() - base) < 0.5

    for role, power_w in (("heater", 1.0), ("trap_heater", 1.0)):
        base = bus_w()
        rows.append(_actuator_row(
            platform, f"{role} {power_w:g} W and back",
            partial(heat, role, power_w),
            partial(bus_rise, base, power_w),
            partial(cool, role),
            f"bus +{power_w:g} W"))
    for role in ("heater", "trap_heater"):  # the load switch cuts a driver left on
        base = bus_w()
        rows.append(_actuator_row(
            platform, f"{role} load switch cuts 1 W",
            partial(cut, role),
            partial(bus_flat, base),
            partial(cool, role),
            "bus +0 W"))
    rows.append(_actuator_row(
        platform, "valve open and closed",
        lambda: d["valve"].set_open(True),
        lambda: ("open" if _read(platform, "valve_open") else "closed",
                 bool(_read(platform, "valve_open"))),
        lambda: d["valve"].set_open(False),
        "open"))
    base = bus_w()
    rows.append(_actuator_row(
        platform, "cryocooler on and off",
        lambda: d["cryocooler"].set_on(True),
        lambda: (f"bus +{bus_w() - base:.2f} W", bus_w() - base > 1.0),
        lambda: d["cryocooler"].set_on(False),
        "bus up by more than 1 W"))
    water_kg = float(_read(platform, "reservoir_mass_kg"))
    if water_kg <= 1e-6:  # a dry membrane carries no current: nothing would move
        rows.append(Row("electrolyzer 0.1 A and back", f"reservoir {water_kg * 1e3:.3f} g",
                        "water to split", True, skipped=True))
        return rows
    rows.append(_actuator_row(
        platform, "electrolyzer 0.1 A and back",
        lambda: d["electrolyzer"].set_current_a(0.1),
        lambda: (f"{float(_read(platform, 'stack_current_a')):.3f} A",
                 0.05 <= float(_read(platform, "stack_current_a")) <= 0.15),
        lambda: d["electrolyzer"].set_current_a(0.0),
        "0.05..0.15 A"))
    return rows


def checkout(hardware: Path, out: Callable[[str], None] = print) -> int:
    """Run the checkout against ``hardware``; print the table; 0 if every row passes.

    Raises:
        hal.errors.ConfigError: the hardware YAML is wrong (a device missing, ...).
        hal.errors.HalError: the platform cannot be reached at all.
    """
    cfg = load_hardware(hardware, REQUIRED_DEVICES)
    platform = build_platform(hardware, cfg, {}, seed=0)
    try:
        rows = [Row("platform", f"{cfg.backend} backend up", "reachable", True)]
        rows += _sensor_rows(platform)
        rows += _actuator_rows(platform)
        rows += _sensor_rows(platform)[-1:]  # the valve is closed again
        rows[-1].item = "valve closed after checkout"
    finally:
        platform.close()
    width = max(len(r.item) for r in rows)
    out(f"checkout of {hardware} ({cfg.backend})")
    for r in rows:
        verdict = "SKIP" if r.skipped else "PASS" if r.ok else "FAIL"
        out(f"  {verdict}  {r.item:<{width}}  {r.value:<28}  ({r.expected})")
    failed = sum(not r.ok for r in rows)
    skipped = sum(r.skipped for r in rows)
    out(f"{len(rows) - failed - skipped} passed, {failed} failed"
        + (f", {skipped} skipped (not verifiable as the payload is)" if skipped else ""))
    return 0 if failed == 0 else 1
