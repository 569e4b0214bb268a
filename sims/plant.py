"""The coupled plant: sample -> chamber vapour -> cold trap -> reservoir -> PEM stack.

One call to :meth:`Plant.step` advances everything by ``dt`` given the actuator inputs.
The chamber vapour is solved implicitly together with the sublimation of every layer and
the flow through the valve (its time constant is milliseconds, far below any cycle).
Water is conserved to rounding: every kilogram is in exactly one compartment of
:meth:`Plant.water_ledger_kg`. Plant faults (:mod:`sims.faults`) in :attr:`Plant.faults`
are applied every step; the healthy defaults leave the physics untouched. Several scoops
fly per mission: :meth:`Plant.load_sample` swaps the crucible's sample, the accounts of
the old one closed into :attr:`Plant.spent` (:mod:`sims.plant_ledger`, which also holds
the truth table).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from common.clock import SteppedClock
from sims import ice, power
from sims.compiled import kernels as _kernels
from sims.constants import M_H2O, R
from sims.faults import PlantFaults
from sims.params import PlantParams, SampleParams
from sims.plant_ledger import LEDGER as _LEDGER
from sims.plant_ledger import TRUTH, SpentSamples
from sims.sample import Sample
from sims.stack import Stack
from sims.trap import Trap

_count = np.count_nonzero
MAX_STEP_DK = 10.0  # a thermal step moving any node more than this is redone in halves
MIN_TEMP_K = 10.0


@dataclass
class Inputs:
    """Actuator inputs to the plant, SI units. What the HAL sim backends write."""

    heater_power_w: float = 0.0
    valve_open: bool = False
    cryocooler_on: bool = False
    trap_heater_power_w: float = 0.0
    # load switches upstream of each heater's driver: off removes the power whatever the
    # driver does (even a driver failed on)
    heater_enabled: bool = True
    trap_heater_enabled: bool = True
    electrolyzer_current_a: float = 0.0


def _clip(x: float, hi: float) -> float:
    """``min(max(x, 0.0), hi)`` to the last bit (NaN and -0.0 included), without the calls."""
    x = 0.0 if 0.0 > x else x
    return hi if hi < x else x


class Plant:
    """The whole simulated payload. Deterministic; no I/O; stepped by ``dt``."""

    def __init__(self, params: PlantParams | None = None) -> None:
        self.params = params or PlantParams()
        p = self.params
        self.inputs = Inputs()
        self.faults = PlantFaults()
        self.sample: Sample = Sample(p.sample, p.heater, p.chamber.wall_temp_k, p.solver.refresh_s)
        self._slow_dt_s = 0.0  # time accumulated toward the next thermal/vapour step
        self._slow_heater_j: float = 0.0
        self._slow_valve = False
        self._slow_inert = False  # the interval's sample inert and unheated
        self._slow_limit = self._slow_limit_s() * (1.0 - 1e-9)  # (rounding: 10 x 0.1 s)
        self._fault_stamp = -1  # the faults' stamp when last taken (_take_faults)
        self._heater_faulty = False
        self._valve_stuck: bool | None = None
        self.trap: Trap = Trap(p.trap, p.chamber.wall_temp_k)
        self.stack: Stack = Stack(p.electrolyzer)
        self.vapour_kg: float = 0.0
        self.lost_kg: float = 0.0
        self.clock: SteppedClock = SteppedClock()
        self.bus_power_w: float = 0.0
        self.brownout: bool = False
        self.heater_power_w: float = 0.0  # granted (what went into the plate), not commanded
        # what the bus gave the cryocooler and the trap heater over the mission [J] (the
        # sample heater's is the samples' ledgers, the stack's its own)
        self.cryocooler_energy_j: float = 0.0
        self.trap_heater_energy_j: float = 0.0
        #: the samples emptied out of the crucible (:meth:`load_sample`), their accounts
        self.spent: SpentSamples = SpentSamples()
        t_g = p.chamber.wall_temp_k
        self._gas_temp_k = t_g
        self._valve_area_m2 = math.pi * p.chamber.valve_diameter_m**2 / 4.0
        # free-molecular orifice conductance for chamber gas at the wall temperature [m^3/s]
        self._valve_c_m3_s = self._valve_area_m2 * math.sqrt(R * t_g / (2 * math.pi * M_H2O))
        #: every kilogram of ice ever loaded (each sample's initial ice) [kg]
        self.ice_initial_kg = self.sample.ice_initial_kg

    # ---- readings ---------------------------------------------------------------
    @property
    def time_s(self) -> float:
        """Plant time [s]: the sum of every ``dt`` stepped (tick-counted, no drift)."""
        return self.clock.now_s()

    @property
    def valve_open_actual(self) -> bool:
        """The valve's true position: the command unless :attr:`faults` has it stuck."""
        return self.faults.valve_open(self.inputs.valve_open)

    def bus_cap_w(self) -> float:
        """The rover's power cap on the payload now [W] (scaled down in a brown-out)."""
        return self.params.power.bus_cap_w * self.faults.bus_cap_factor

    def chamber_pressure_pa(self) -> float:
        """Vapour pressure in the chamber [Pa] (ideal gas at the wall temperature)."""
        v = self.params.chamber.volume_m3
        return self.vapour_kg * R * self._gas_temp_k / (M_H2O * v)

    @property
    def samples_loaded(self) -> int:
        """Samples put in the crucible so far, the one in it now included (1 at start)."""
        return self.spent.count + 1

    def water_ledger_kg(self) -> dict[str, float]:
        """Where every kilogram of the ice ever loaded is now [kg]."""
        return {k: read(self) for k, read in _LEDGER.items()}

    def mass_balance_error_kg(self) -> float:
        """Ice ever loaded minus the sum of all compartments [kg]; zero up to rounding."""
        return self.ice_initial_kg - math.fsum(self.water_ledger_kg().values())

    def truth(self, keys: Iterable[str] | None = None) -> dict[str, float]:
        """The plant's true state, for sensors, oracles and summaries (SI units): every
        entry of :data:`TRUTH`, or only ``keys`` (an oracle's few, without the energy
        ledger's array sums).

        Raises:
            KeyError: naming a key that is not in :data:`TRUTH`.
        """
        if keys is None:
            return {k: read(self) for k, read in TRUTH.items()}
        return {k: TRUTH[k](self) for k in keys}

    # ---- the rover's scoops -------------------------------------------------------
    def load_sample(self, sample: SampleParams) -> None:
        """A fresh scoop of ``sample`` in the crucible: the rover emptied the old one.

        The thermal/vapour interval being accumulated is closed first, with the old
        sample. The old sample leaves with the ice it still holds (the ledger's
        ``spent_ice_kg``) and its heat (``spent_heat_j``: its balance closes as it
        stood); the new one is built as the first was, on the plate as it is (the heater
        plate is the crucible's, not the scoop's: its heat carries over into the new
        sample's balance as ``carried_in_j``). The chamber vapour, the trap, reservoir,
        stack and tanks carry on.
        """
        if self._slow_dt_s > 0.0:
            self._slow_step()
        plate_k = self.sample.temp_k.item(0)
        self.spent.retire(self.sample)
        p = self.params = dataclasses.replace(self.params, sample=sample)
        new = Sample(sample, p.heater, p.chamber.wall_temp_k, p.solver.refresh_s)
        temp_k = new.temp_k.copy()  # (replaced, never changed in place: see Sample)
        temp_k[0] = plate_k
        new.temp_k = temp_k
        new.carried_in_j = p.heater.plate_heat_capacity_j_k * (plate_k - new.t0_k)
        self.sample = new
        self.ice_initial_kg += self.sample.ice_initial_kg

    # ---- stepping ---------------------------------------------------------------
    def step(self, dt_s: float) -> None:
        """Advance the plant by ``dt_s`` seconds with the current :attr:`inputs`, under
        the current :attr:`faults`.

        Raises:
            ValueError: if ``dt_s`` is not positive.
        """
        if not dt_s > 0.0:
            raise ValueError(f"dt_s must be > 0, got {dt_s}")
        p, u, f = self.params, self.inputs, self.faults
        if f.stamp != self._fault_stamp:  # a fault came or went (or new faults)
            self._take_faults()
        trap, stack = self.trap, self.stack
        current_a = 0.0  # a dry stack trips its supply: it draws nothing from the bus
        if trap.reservoir_kg > 0.0:
            current_a = _clip(u.electrolyzer_current_a, p.electrolyzer.max_current_a)
        trap_heater_w = 0.0
        if u.trap_heater_enabled:
            trap_heater_w = _clip(u.trap_heater_power_w, p.trap.heater_max_power_w)
        heater_w = 0.0
        if u.heater_enabled:
            if self._heater_faulty:
                heater_w = f.heater_power_w(u.heater_power_w, p.heater.max_power_w)
            else:  # _clip(commanded, rating), inlined: the heater is on in most cycles
                heater_w = u.heater_power_w
                heater_w = 0.0 if 0.0 > heater_w else heater_w
                hi = p.heater.max_power_w
                heater_w = hi if hi < heater_w else heater_w
        cryo_w, stack_fraction, trap_heater_w, heater_w, _, self.brownout = power.allocate_w(
            p.power.bus_cap_w * f.bus_cap_factor,
            p.trap.cryo_input_power_w if u.cryocooler_on else 0.0,
            stack.power_w(current_a) if current_a > 0.0 else 0.0,
            trap_heater_w,
            heater_w,
        )
        self.heater_power_w = heater_w
        trap.cryo_on = cryo_w > 0.0
        trap.heater_power_w = trap_heater_w

        valve = u.valve_open if self._valve_stuck is None else self._valve_stuck
        inert = heater_w == 0.0 and self.sample._inert
        if self._slow_dt_s > 0.0 and (valve != self._slow_valve or inert != self._slow_inert):
            self._slow_step()  # close the interval with the old valve state (or regime)
        self._slow_valve = valve
        if inert != self._slow_inert:
            self._slow_inert = inert
            self._slow_limit = self._slow_limit_s() * (1.0 - 1e-9)
        self._slow_dt_s += dt_s
        self._slow_heater_j += heater_w * dt_s
        if self._slow_dt_s >= self._slow_limit:
            self._slow_step()
        trap.step(dt_s)
        split = stack.step(dt_s, current_a * stack_fraction, trap.reservoir_kg)
        trap.reservoir_kg -= split
        self.bus_power_w = cryo_w + trap_heater_w + heater_w + stack.current_a * stack.voltage_v
        self.cryocooler_energy_j += cryo_w * dt_s
        self.trap_heater_energy_j += trap_heater_w * dt_s
        clock = self.clock
        if dt_s == clock._dt_s:  # SteppedClock.advance for the usual cycle, inlined: one tick
            clock._ticks += 1
            clock._now_s = clock._start_s + clock._ticks * dt_s
        else:
            clock.advance(dt_s)

    def _take_faults(self) -> None:
        """Take the current :attr:`faults` into the trap and the stack and note what the
        per-cycle step asks of them (called when their stamp changes)."""
        f = self.faults
        self.trap.lift_factor = f.cryocooler_lift_factor
        self.stack.extra_r_ohm_cm2 = f.membrane_extra_ohm_cm2
        self.stack.h2_leak_kg_s = f.h2_tank_leak_kg_s
        self._heater_faulty = f.heater_open_circuit or f.heater_stuck_on_w is not None
        self._valve_stuck = f.valve_stuck
        self._fault_stamp = f.stamp

    def _slow_limit_s(self) -> float:
        """The longest thermal/vapour step of the interval being accumulated [s]."""
        solver = self.params.solver
        if self._slow_inert and solver.inert_step_s > 0.0:
            return solver.inert_step_s
        return solver.thermal_step_s

    def _slow_step(self) -> None:
        """Conduction and vapour over the accumulated interval, in sub-steps no longer than
        :meth:`_slow_limit_s`."""
        limit_s = self._slow_limit_s()
        self._slow_limit = limit_s * (1.0 - 1e-9)  # (the solver's settings, read again)
        n = max(1, math.ceil(self._slow_dt_s / limit_s - 1e-9)) if limit_s > 0.0 else 1
        dt_s = self._slow_dt_s / n
        heater_w = self._slow_heater_j / self._slow_dt_s
        for _ in range(n):
            self._checked_vapour_step(dt_s, heater_w)
        self._slow_dt_s = 0.0
        self._slow_heater_j = 0.0

    def _checked_vapour_step(self, dt_s: float, heater_w: float, depth: int = 0) -> None:
        """:meth:`_vapour_step`, redone in halves where it was not plausible.

        Linearising sublimation is excellent while the front moves smoothly; when layers
        trade vapour fast through a sealed, pressurised chamber (a valve stuck closed
        with the heater on) a step can jump. A step that moves any temperature by more
        than ``MAX_STEP_DK`` or leaves a temperature below ``MIN_TEMP_K`` is undone and
        done as two half steps, down to 1/256 of the step.
        """
        s, trap = self.sample, self.trap
        # the sample's state is its attributes: arrays are replaced, never changed in
        # place (the temperatures included), except scratch buffers
        saved = (s.__dict__.copy(), self.vapour_kg, self.lost_kg, trap.ice_kg,
                 trap._latent_pending_j)
        self._vapour_step(dt_s, heater_w)
        # every node moved less than MAX_STEP_DK and stays above MIN_TEMP_K (NaN fails
        # every comparison, so a non-finite step is redone too)
        if depth >= 8 or _kernels.plausible(s.temp_k, saved[0]["temp_k"], MAX_STEP_DK,
                                            MIN_TEMP_K):
            # linearise the next step about where this one ended
            s.vapour_coefficients(self.vapour_kg / self.params.chamber.volume_m3,
                                  self._gas_temp_k)
            return
        s.__dict__.clear()
        s.__dict__.update(saved[0])
        self.vapour_kg, self.lost_kg, trap.ice_kg, trap._latent_pending_j = saved[1:]
        self._checked_vapour_step(dt_s / 2, heater_w, depth + 1)
        self._checked_vapour_step(dt_s / 2, heater_w, depth + 1)

    def _vapour_step(self, dt_s: float, heater_w: float) -> None:
        """One implicit step of the sample's heat and the chamber vapour.

        The trap (through the open valve: its ice effuses back at its own temperature by
        HKL, chamber vapour effuses onto it and sticks) and the leak to vacuum enter the
        sample's coupled solve as a source and a sink linear in the chamber density.
        Where a reservoir would give more ice than it holds, it gives what it holds.
        """
        p = self.params.chamber
        s, trap = self.sample, self.trap
        if not s.linearised:
            s.vapour_coefficients(self.vapour_kg / p.volume_m3, self._gas_temp_k)
        trap_src, c_valve = 0.0, 0.0
        if self._slow_valve:
            # Net flow onto the trap is c rho - J: chamber vapour sticks, the trap's ice
            # effuses back (HKL at its temperature). A trap evaporating faster than its ice
            # lasts gives what it has and catches nothing (it is above the frost point).
            evap = self._valve_area_m2 * ice.sublimation_flux_scalar_kg_m2_s(trap.temp_k)
            net_now = self._valve_c_m3_s * self.vapour_kg / p.volume_m3 - evap
            if net_now >= 0.0 or -net_now * dt_s < trap.ice_kg:
                trap_src, c_valve = evap, self._valve_c_m3_s
            else:
                trap_src = trap.ice_kg / dt_s
        # a spring-loaded relief valve vents the chamber to vacuum above its cracking
        # pressure (what is vented is lost water); it keeps a sealed, heated chamber near
        # the triple point, where an all-ice model still holds
        c_relief = p.relief_conductance_m3_s if (
            self.chamber_pressure_pa() > p.relief_pressure_pa) else 0.0
        out, rho = s.conduct(dt_s, heater_w, self.vapour_kg, p.volume_m3, trap_src,
                             c_valve + p.leak_conductance_m3_s + c_relief)
        out_kg = below_kg = 0.0
        if not s.conduction_only:  # (else nothing left or entered the sample)
            if _count(out > s.ice_kg):  # (else keep conduct()'s own array)
                out = np.minimum(out, s.ice_kg)
            # what the layers gave, less what left through an open bottom (lost water)
            below_kg = s.below_step_kg
            out_kg = float(np.add.reduce(out)) - below_kg
        rho = max(rho, 0.0)
        trap_out = min((trap_src - c_valve * rho) * dt_s, trap.ice_kg)
        leaked = (p.leak_conductance_m3_s + c_relief) * rho * dt_s
        new_vapour = self.vapour_kg + out_kg + trap_out - leaked
        if new_vapour < 0.0:
            # A limited source (or the linearisation, far from its point) left the sinks
            # larger than what there is to take: scale every sink down to what there is.
            taken = -float(out[out < 0.0].sum())
            sinks = leaked + max(-trap_out, 0.0) + taken
            scale = max(sinks + new_vapour, 0.0) / sinks
            leaked *= scale
            trap_out = trap_out * scale if trap_out < 0.0 else trap_out
            out = np.where(out < 0.0, out * scale, out)
            new_vapour = max(
                self.vapour_kg + float(out.sum()) - below_kg + trap_out - leaked, 0.0)
        s.sublimate(out)
        self.vapour_kg = new_vapour
        self.lost_kg += leaked + below_kg
        trap.deposit(-trap_out)
