"""Plant-level faults: physical failures of the payload that the plant consults every step.

:class:`PlantFaults` holds the state of every fault the plant can suffer; its defaults are
the healthy plant, so a plant whose faults were never touched steps bit-for-bit as one
without faults. Faults are switched by kind name (:data:`PLANT_FAULT_KINDS`) with
:meth:`PlantFaults.activate` and :meth:`PlantFaults.clear`, or by setting the fields
directly (every assignment is range-checked). A poorer-than-expected sample is not a
state the plant can enter mid-run: :func:`apply_ice_poor` changes the parameters the
plant is built from. Pure data and arithmetic: no I/O, deterministic.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from sims.params import PlantParams


class FaultKind(NamedTuple):
    """How one fault kind maps onto a :class:`PlantFaults` field.

    ``field``: the field it sets. ``param``: the keyword of :meth:`PlantFaults.activate`
    that gives the field's value, or None when the kind takes no parameter. ``value``:
    the value set when ``param`` is None, else the parameter's default (None: required).
    """

    field: str
    param: str | None
    value: bool | float | None


#: Every fault the plant can suffer mid-run, by kind name.
PLANT_FAULT_KINDS: dict[str, FaultKind] = {
    "heater_open_circuit": FaultKind("heater_open_circuit", None, True),
    "heater_stuck_on": FaultKind("heater_stuck_on_w", "power_w", None),
    "cryocooler_degraded": FaultKind("cryocooler_lift_factor", "lift_factor", 0.3),
    "cryocooler_failed": FaultKind("cryocooler_lift_factor", None, 0.0),
    "valve_stuck_open": FaultKind("valve_stuck", None, True),
    "valve_stuck_closed": FaultKind("valve_stuck", None, False),
    "membrane_degraded": FaultKind("membrane_extra_ohm_cm2", "extra_ohm_cm2", 0.5),
    "h2_tank_leak": FaultKind("h2_tank_leak_kg_s", "rate_kg_s", 1e-7),
    "brownout": FaultKind("bus_cap_factor", "cap_factor", 0.3),
}

#: Faults that can only be applied before the run starts (to the plant's parameters).
PRE_RUN_FAULT_KINDS: dict[str, str] = {
    "ice_poor_sample": "apply_ice_poor(params, factor) before building the Plant",
}

# Allowed range of each numeric field (inclusive) and its unit, for the error messages.
_RANGES: dict[str, tuple[float, float, str]] = {
    "heater_stuck_on_w": (0.0, math.inf, "W"),
    "cryocooler_lift_factor": (0.0, 1.0, ""),
    "membrane_extra_ohm_cm2": (0.0, math.inf, "ohm cm^2"),
    "h2_tank_leak_kg_s": (0.0, math.inf, "kg/s"),
    "bus_cap_factor": (0.0, 1.0, ""),
}
_BOOL_FIELDS = ("heater_open_circuit", "valve_stuck")
_OPTIONAL_FIELDS = ("heater_stuck_on_w", "valve_stuck")


def _check(name: str, value: Any) -> Any:
    """``value`` if it is valid for field ``name``, else raise ValueError naming both.

    Numbers come back as float; a finite upper bound is inclusive, an infinite one is
    exclusive (the value must be finite).
    """
    if value is None and name in _OPTIONAL_FIELDS:
        return None
    if name in _BOOL_FIELDS:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be a bool, got {value!r}")
        return value
    lo, hi, unit = _RANGES[name]
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = lo <= value <= hi and math.isfinite(value)
    if not ok:
        upper = "< inf" if math.isinf(hi) else f"<= {hi:g}"
        raise ValueError(
            f"{name} must be a finite number >= {lo:g} and {upper} {unit}".rstrip()
            + f", got {value!r}")
    return value


_STAMPS = itertools.count(1)  # PlantFaults.stamp: one counter for all instances


@dataclass
class PlantFaults:
    """The plant's faults, consulted every step. Defaults are the healthy plant.

    Fields (SI):
        heater_open_circuit: the sample heater draws and delivers 0 W whatever is
            commanded (wins over ``heater_stuck_on_w``).
        heater_stuck_on_w: the heater delivers and draws this power [W] whatever is
            commanded, clipped to the element rating and still subject to the bus cap;
            None: healthy.
        cryocooler_lift_factor: the cryocooler's lift is scaled by this (1 healthy,
            0 failed); its electrical input is unchanged.
        valve_stuck: None healthy; True stuck open, False stuck closed (commands are
            ignored; the position switch reports the true position).
        membrane_extra_ohm_cm2: added to each PEM cell's ohmic area resistance
            [ohm cm^2].
        h2_tank_leak_kg_s: hydrogen leaving the H2 tank to vacuum [kg/s], while any is
            left.
        bus_cap_factor: the rover's power cap on the payload is scaled by this (0..1).

    ``stamp`` (not a field) takes a new value from one counter shared by every instance
    at each assignment: the plant takes its faults again only when the stamp it last saw
    changed, not every cycle.

    Raises:
        ValueError: on assigning a field a value of the wrong type or out of range.
    """

    heater_open_circuit: bool = False
    heater_stuck_on_w: float | None = None
    cryocooler_lift_factor: float = 1.0
    valve_stuck: bool | None = None
    membrane_extra_ohm_cm2: float = 0.0
    h2_tank_leak_kg_s: float = 0.0
    bus_cap_factor: float = 1.0
    if TYPE_CHECKING:  # (for the type checker only: at run time not a field, see above)
        stamp: int = dataclasses.field(init=False, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        """Range-check every assignment to a field (see the class docstring).

        Raises:
            ValueError: if ``value`` is not valid for the field ``name``.
        """
        if name in _RANGES or name in _BOOL_FIELDS:
            value = _check(name, value)
        super().__setattr__(name, value)
        # a new stamp from one counter for every change of any instance: the plant
        # re-reads the faults only when the stamp it saw last is not this one
        super().__setattr__("stamp", next(_STAMPS))

    # ---- switching by kind ------------------------------------------------------
    def activate(self, kind: str, **params: float) -> None:
        """Switch on the fault ``kind`` (a key of :data:`PLANT_FAULT_KINDS`).

        Its parameter, if it takes one, is passed by keyword (e.g.
        ``activate("heater_stuck_on", power_w=20.0)``); omitted, it takes its default.

        Raises:
            ValueError: naming the kind and the allowed ones if ``kind`` is unknown (or
                can only be applied before the run); naming the parameter and the allowed
                ones if a keyword is not one ``kind`` takes; if a required parameter is
                missing; if the value is out of range.
        """
        spec = _spec(kind)
        allowed = () if spec.param is None else (spec.param,)
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise ValueError(
                f"fault {kind!r} takes no parameter {', '.join(map(repr, unknown))}; "
                f"allowed: {', '.join(allowed) if allowed else 'none'}")
        value = spec.value if spec.param is None else params.get(spec.param, spec.value)
        if value is None:
            raise ValueError(f"fault {kind!r} requires the parameter {spec.param!r}")
        try:
            setattr(self, spec.field, value)
        except ValueError as exc:
            raise ValueError(f"fault {kind!r}: {spec.param or spec.field}: {exc}") from None

    def clear(self, kind: str) -> None:
        """Switch off the fault ``kind``: its field goes back to healthy. Kinds that share
        a field (stuck open / closed, degraded / failed) clear each other.

        Raises:
            ValueError: naming the kind and the allowed ones if ``kind`` is unknown.
        """
        spec = _spec(kind)
        setattr(self, spec.field, _HEALTHY[spec.field])

    def clear_all(self) -> None:
        """Return every field to healthy."""
        for name, value in _HEALTHY.items():
            setattr(self, name, value)

    def active(self) -> list[str]:
        """Names of the fault kinds now active, in catalogue order (for summaries). A field
        at a fixed kind's value (e.g. lift factor 0) names that kind, not the
        parameterised one sharing the field."""
        out = []
        for kind, spec in PLANT_FAULT_KINDS.items():
            now = getattr(self, spec.field)
            if spec.param is None:
                hit = now == spec.value
            else:
                hit = now != _HEALTHY[spec.field] and not any(
                    s.field == spec.field and s.param is None and now == s.value
                    for s in PLANT_FAULT_KINDS.values())
            if hit:
                out.append(kind)
        return out

    # ---- what the plant asks ----------------------------------------------------
    def heater_power_w(self, commanded_w: float, rating_w: float) -> float:
        """Power the sample heater asks of the bus [W]: ``commanded_w`` clipped to
        ``[0, rating_w]``; 0 when open, the stuck power (clipped) when stuck on."""
        if self.heater_open_circuit:
            return 0.0
        if self.heater_stuck_on_w is not None:
            return min(max(self.heater_stuck_on_w, 0.0), rating_w)
        return min(max(commanded_w, 0.0), rating_w)

    def valve_open(self, commanded: bool) -> bool:
        """The valve's true position given the command."""
        return commanded if self.valve_stuck is None else self.valve_stuck


_HEALTHY: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(PlantFaults)}


def _spec(kind: str) -> FaultKind:
    """The catalogue entry of ``kind``.

    Raises:
        ValueError: naming ``kind`` and the allowed kinds if it is not in the catalogue.
    """
    if kind in PLANT_FAULT_KINDS:
        return PLANT_FAULT_KINDS[kind]
    if kind in PRE_RUN_FAULT_KINDS:
        raise ValueError(f"fault {kind!r} can only be applied before the run starts: use "
                         f"{PRE_RUN_FAULT_KINDS[kind]}")
    raise ValueError(f"unknown plant fault kind {kind!r}; allowed: "
                     f"{', '.join(PLANT_FAULT_KINDS)}")


def ice_poor_fraction(ice_mass_fraction: float, factor: float) -> float:
    """The ice mass fraction of an ice-poor scoop: ``ice_mass_fraction`` x ``factor``.

    Raises:
        ValueError: if ``factor`` is not a finite number in [0, 1].
    """
    if (not isinstance(factor, (int, float)) or isinstance(factor, bool)
            or not 0.0 <= factor <= 1.0):
        raise ValueError(f"ice_poor_sample: factor must be a number in [0, 1], got {factor!r}")
    return ice_mass_fraction * factor


def apply_ice_poor(params: PlantParams, factor: float) -> PlantParams:
    """``params`` with the sample's ice mass fraction multiplied by ``factor`` (0..1).

    The ``ice_poor_sample`` fault: the sample holds less ice than expected. Apply it to
    the parameters before the :class:`~sims.plant.Plant` is built.

    Raises:
        ValueError: if ``factor`` is not a finite number in [0, 1].
    """
    sample = dataclasses.replace(params.sample, ice_mass_fraction=ice_poor_fraction(
        params.sample.ice_mass_fraction, factor))
    return dataclasses.replace(params, sample=sample)


def param_catalogue() -> dict[str, dict[str, tuple[float | None, float, float]]]:
    """kind -> parameter -> (default, lo, hi): what a fault plan may set, for validation."""
    out: dict[str, dict[str, tuple[float | None, float, float]]] = {}
    for kind, spec in PLANT_FAULT_KINDS.items():
        if spec.param is None:
            out[kind] = {}
        else:
            lo, hi, _ = _RANGES[spec.field]
            out[kind] = {spec.param: (spec.value, lo, hi)}
    return out
