"""The payload's own accounting: water, gas and energy from its own sensors and commands.

There is no plant truth on the Moon: what the payload made, it must say from what it
measures (docs/operations.md, "Accounting"). Every figure is cumulative over the run and
kept per scoop (a yield line each); SIL puts the plant's truth beside it (the harness).

- **Water captured**: the reservoir gauge when the melt is in it (the reading on entering
  ELECTROLYZE, less the scoop's starting level). While the catch is still ice on the trap,
  where the gauge cannot see it, the trap mass is inferred from the flow through the open
  valve: free-molecular effusion, ``m' = p A sqrt(M / (2 pi R T))`` (chamber pressure
  ``p``, orifice area ``A``, chamber gas temperature ``T``).
- **Water electrolysed, H2 and O2** by Faraday's law from the integrated stack current:
  ``m = (I - I_x) n_cells dt M_H2O / (2 F)``, the gas crossover current ``I_x`` giving the
  faradaic efficiency ``1 - I_x / I``; split by molar mass. Cross-checked by the tanks'
  gas by the ideal-gas law, ``m = (p - p_0) V M / (R T)`` (``p_0`` the first reading).
- **Energy per subsystem**: the bus by its power monitor; the plate and melt heaters by
  their commanded power while their load switch is closed; the cryocooler by its rated
  draw while on; the electrolyzer by stack voltage x current; avionics and whatever the
  others miss as the rest of the bus.

Every integral takes the readings of this cycle (they describe the interval just past)
and the commands of the last one (they acted over it), so sensors and commands cover the
same interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from flight.config import PayloadConfig

FARADAY_C_PER_MOL = 96485.33212  # CODATA 2018 (exact since the 2019 SI)
R_J_PER_MOL_K = 8.314462618
M_H2O_KG_PER_MOL = 0.01801528
M_H2_KG_PER_MOL = 0.00201588
M_O2_KG_PER_MOL = 0.0319988
#: water split per coulomb through one cell [kg/C]: two electrons per molecule
KG_WATER_PER_C = M_H2O_KG_PER_MOL / (2.0 * FARADAY_C_PER_MOL)
_H2_SHARE = M_H2_KG_PER_MOL / M_H2O_KG_PER_MOL
#: the energy integrals, in telemetry order
ENERGY_KEYS = ("energy_bus_j", "energy_heater_j", "energy_cryocooler_j",
               "energy_trap_heater_j", "energy_electrolyzer_j", "energy_avionics_j")
#: their places in the integrals' list (the cycle's hot path)
_BUS, _HEATER, _CRYO, _TRAP, _STACK, _AVIONICS = range(len(ENERGY_KEYS))


@dataclass
class ScoopLine:
    """One scoop's yield line (SI units), from flight's own sensors."""

    scoop: int
    loaded_s: float
    completed_s: float | None = None
    water_captured_kg: float = 0.0
    water_electrolyzed_kg: float = 0.0
    h2_produced_kg: float = 0.0
    o2_produced_kg: float = 0.0
    #: the tanks' gain over the scoop by the ideal-gas law (the cross-check of Faraday)
    h2_tank_kg: float | None = 0.0
    o2_tank_kg: float | None = 0.0
    energy_j: dict[str, float] = field(default_factory=dict)

    def per_kg(self) -> dict[str, float | None]:
        """Energy per kg of water captured [J/kg] on two bases: heater only, and the
        whole payload (the bus); None before any water is captured."""
        w = self.water_captured_kg
        if not w > 0.0:
            return {"heater_j_per_kg": None, "payload_j_per_kg": None}
        return {"heater_j_per_kg": self.energy_j.get("energy_heater_j", 0.0) / w,
                "payload_j_per_kg": self.energy_j.get("energy_bus_j", 0.0) / w}

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(self.per_kg())
        return d


class Accountant:
    """Integrates the accounting every cycle (:meth:`update`); :meth:`values` are the
    OPS telemetry's accounting channels; :attr:`lines` the scoops' yield lines.

    ``emit(event, **fields)`` records ``scoop_complete`` with each line.
    """

    def __init__(self, payload: PayloadConfig, dt_s: float,
                 emit: Callable[..., None]) -> None:
        self.dt_s = dt_s
        self.emit = emit
        self._cells_kg_per_c = payload.stack_cells * KG_WATER_PER_C
        self._crossover_a = payload.crossover_current_a
        self._cryo_w = payload.cryocooler_power_w
        area_m2 = math.pi * payload.valve_diameter_m ** 2 / 4.0
        #: effusion through the open valve per pascal of chamber pressure [kg/(s Pa)]
        self._flow_kg_s_pa = area_m2 * math.sqrt(
            M_H2O_KG_PER_MOL / (2.0 * math.pi * R_J_PER_MOL_K * payload.chamber_gas_temp_k))
        rt = R_J_PER_MOL_K * payload.tank_temp_k
        self._h2_kg_per_pa = payload.h2_tank_volume_m3 * M_H2_KG_PER_MOL / rt
        self._o2_kg_per_pa = payload.o2_tank_volume_m3 * M_O2_KG_PER_MOL / rt
        self._tank0_pa: tuple[float, float] | None = None
        self._tank_last_kg: tuple[float | None, float | None] = (None, None)
        # running integrals (the whole run)
        self._e = [0.0] * len(ENERGY_KEYS)  # in ENERGY_KEYS order
        self._cryo_j = self._cryo_w * dt_s
        self.split_kg = 0.0
        self.inferred_kg = 0.0  # water that flowed through the open valve to the trap
        self.captured_kg = 0.0  # completed scoops' and the current one's (gauge) catch
        self.scoop = 1
        self.lines: list[ScoopLine] = [ScoopLine(1, 0.0)]
        self._base: dict[str, float] = {}   # the run's integrals when this scoop began
        self._level_kg: float | None = None  # the reservoir when this scoop began
        self._gauged = False                 # this scoop's catch read off the gauge
        self._scoop_inferred0 = 0.0

    @property
    def energy_j(self) -> dict[str, float]:
        """The energy integrals by name (:data:`ENERGY_KEYS`) [J]."""
        return dict(zip(ENERGY_KEYS, self._e, strict=True))

    # ---- the cycle -------------------------------------------------------------------
    def update(self, now_s: float, state: str, r: Mapping[str, Any],
               last: Mapping[str, Any]) -> None:
        """Integrate the interval just past: readings ``r`` of this cycle, commands
        ``last`` sent in the previous one (``now_s`` and ``state``: the cycle's start)."""
        dt = self.dt_s
        e = self._e  # (a list: the cycle's hot path; energy_j names them)
        bus_w = r["bus_power_w"]
        known_j = 0.0
        if last["heater_enabled"]:
            j = last["heater_power_w"] * dt
            e[_HEATER] += j
            known_j += j
        if last["cryocooler_on"]:
            j = self._cryo_j
            e[_CRYO] += j
            known_j += j
        if last["trap_heater_enabled"]:
            j = last["trap_heater_power_w"] * dt
            e[_TRAP] += j
            known_j += j
        amps = r["stack_current_a"]
        if amps is not None and amps > 0.0:
            volts = r["stack_voltage_v"]
            if volts is not None and volts == volts:
                j = volts * amps * dt
                e[_STACK] += j
                known_j += j
            useful_a = amps - self._crossover_a
            if useful_a > 0.0:
                self.split_kg += useful_a * dt * self._cells_kg_per_c
        if bus_w is not None and bus_w == bus_w:
            j = bus_w * dt
            e[_BUS] += j
            e[_AVIONICS] += j - known_j
        if r["valve_open"]:
            p_pa = r["chamber_pressure_pa"]
            if p_pa is not None and p_pa > 0.0:
                self.inferred_kg += self._flow_kg_s_pa * p_pa * dt
        if self._tank0_pa is None:
            h2, o2 = r["h2_tank_pressure_pa"], r["o2_tank_pressure_pa"]
            if h2 is not None and o2 is not None and h2 == h2 and o2 == o2:
                self._tank0_pa = (h2, o2)
        if self._level_kg is None:
            level = r["reservoir_mass_kg"]
            if level is not None and level == level:
                self._level_kg = level

    def state_changed(self, now_s: float, src: str, dst: str, r: Mapping[str, Any]) -> None:
        """The state chart moved this cycle (readings ``r`` of this cycle): the melt is
        gauged on entering ELECTROLYZE, the scoop's line closed on its end."""
        line = self.lines[-1]
        if dst == "ELECTROLYZE" and src == "TRANSFER":
            level = r["reservoir_mass_kg"]
            if level is not None and level == level and self._level_kg is not None:
                line.water_captured_kg = max(0.0, level - self._level_kg)
                self._gauged = True
        elif dst == "IDLE" and src == "ELECTROLYZE":
            self._close_line(now_s, r)
        elif dst.startswith("EXTRACT") and src == "IDLE" and line.completed_s is not None:
            # the same crucible extracted again (no LOAD_SAMPLE between): a line of its
            # own, so the completed one is never rewritten
            self._new_line(self.scoop, now_s, r, again=True)

    def _close_line(self, now_s: float, r: Mapping[str, Any]) -> None:
        line = self.lines[-1] = self._so_far(r)
        line.completed_s = round(now_s, 6)  # (as events stamp it)
        self.captured_kg += line.water_captured_kg
        self.emit("scoop_complete", scoop=line.scoop,
                  water_captured_kg=line.water_captured_kg,
                  water_electrolyzed_kg=line.water_electrolyzed_kg,
                  h2_produced_kg=line.h2_produced_kg, o2_produced_kg=line.o2_produced_kg)

    def _so_far(self, r: Mapping[str, Any]) -> ScoopLine:
        """The scoop in progress' line as it stands (not completed)."""
        old = self.lines[-1]
        base = self._base
        split = self.split_kg - base.get("water_electrolyzed_kg", 0.0)
        h2 = split * _H2_SHARE
        h2_tank, o2_tank = self._tank_kg(r)
        return ScoopLine(
            old.scoop, old.loaded_s, None, self.current_catch_kg(r), split, h2, split - h2,
            None if h2_tank is None else h2_tank - base.get("h2_tank_kg", 0.0),
            None if o2_tank is None else o2_tank - base.get("o2_tank_kg", 0.0),
            {k: v - base.get(k, 0.0) for k, v in self.energy_j.items()})

    def sample_loaded(self, scoop: int, now_s: float, r: Mapping[str, Any]) -> None:
        """A fresh scoop (LOAD_SAMPLE): the next yield line starts here (one left
        unfinished, by SAFE say, keeps its figures so far)."""
        if self.lines[-1].completed_s is None:
            line = self.lines[-1] = self._so_far(r)
            self.captured_kg += line.water_captured_kg
        self._new_line(scoop, now_s, r)

    def _new_line(self, scoop: int, now_s: float, r: Mapping[str, Any],
                  again: bool = False) -> None:
        self.scoop = scoop
        self._base = {k: v for k, v in self._totals(r).items() if v is not None}
        self._base.update(self.energy_j)
        level = r["reservoir_mass_kg"]
        self._level_kg = level if level is not None and level == level else None
        self._gauged = False
        self._scoop_inferred0 = self.inferred_kg
        self.lines.append(ScoopLine(scoop, round(now_s, 6)))
        self.emit("scoop_started", scoop=scoop, again=again)

    # ---- what it says ----------------------------------------------------------------
    def _tank_kg(self, r: Mapping[str, Any]) -> tuple[float | None, float | None]:
        """The gas in each tank above the first reading [kg] by the ideal-gas law; a
        failed reading gives the last good figure (None before any)."""
        if self._tank0_pa is None:
            return None, None
        h2, o2 = r["h2_tank_pressure_pa"], r["o2_tank_pressure_pa"]
        last_h2, last_o2 = self._tank_last_kg
        h2_kg = last_h2 if h2 is None or h2 != h2 else (h2 - self._tank0_pa[0]) * self._h2_kg_per_pa
        o2_kg = last_o2 if o2 is None or o2 != o2 else (o2 - self._tank0_pa[1]) * self._o2_kg_per_pa
        self._tank_last_kg = (h2_kg, o2_kg)
        return h2_kg, o2_kg

    def _totals(self, r: Mapping[str, Any]) -> dict[str, float | None]:
        h2_tank, o2_tank = self._tank_kg(r)
        return {"water_electrolyzed_kg": self.split_kg, "h2_tank_kg": h2_tank,
                "o2_tank_kg": o2_tank}

    def current_catch_kg(self, r: Mapping[str, Any]) -> float:
        """The scoop in progress' catch [kg]: the gauge once the melt is in the
        reservoir (the reading on entering ELECTROLYZE), else the larger of the trap mass
        inferred from the valve flow and the gauge's rise; 0 once the scoop completed."""
        line = self.lines[-1]
        if line.completed_s is not None:
            return 0.0
        if self._gauged:
            return line.water_captured_kg
        inferred = self.inferred_kg - self._scoop_inferred0
        level = r["reservoir_mass_kg"]
        if level is not None and level == level and self._level_kg is not None:
            rise = level - self._level_kg
            return rise if rise > inferred else inferred
        return inferred

    def values(self, r: Mapping[str, Any]) -> dict[str, Any]:
        """The OPS telemetry's accounting channels (SI units, cumulative over the run)."""
        split = self.split_kg
        h2 = split * _H2_SHARE
        h2_tank, o2_tank = self._tank_kg(r)
        e = self._e
        return {
            "scoop": self.scoop,
            "water_captured_kg": self.captured_kg + self.current_catch_kg(r),
            "water_electrolyzed_kg": split, "h2_produced_kg": h2,
            "o2_produced_kg": split - h2, "h2_tank_kg": h2_tank, "o2_tank_kg": o2_tank,
            "energy_bus_j": e[_BUS], "energy_heater_j": e[_HEATER],
            "energy_cryocooler_j": e[_CRYO], "energy_trap_heater_j": e[_TRAP],
            "energy_electrolyzer_j": e[_STACK], "energy_avionics_j": e[_AVIONICS]}

    def summary(self, r: Mapping[str, Any]) -> dict[str, Any]:
        """The run's totals and every yield line (an unfinished scoop's line says so:
        ``completed_s`` None, its figures so far)."""
        lines = [line.as_dict() for line in self.lines[:-1]]
        last = self.lines[-1]
        lines.append((last if last.completed_s is not None else self._so_far(r)).as_dict())
        return {"totals": self.values(r), "scoops": lines}
