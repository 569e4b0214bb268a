"""The regolith sample under its heated plate: 1-D layered heat conduction and sublimation.

Geometry: a cylindrical crucible of diameter ``d`` holds the sample; a perforated heater
plate lies on its surface; the vapour leaves upward through the plate into the chamber.
Node 0 is the plate, nodes 1..N are the sample layers from the top down; the crucible
bottom is adiabatic. Conduction is solved implicitly (backward Euler) with thermal
properties frozen over ``refresh_s`` of mission time, so any ``dt`` is stable and a step
costs one tridiagonal solve. Sublimation is coupled to the chamber vapour
implicitly by :class:`sims.plant.Plant`; here we supply its linear coefficients and apply
the result. See docs/physics.md.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from sims import ice, regolith
from sims.constants import M_H2O, STEFAN_BOLTZMANN, R
from sims.params import HeaterParams, SampleParams
from sims.tridiag import solve_symmetric_tridiagonal, solve_symmetric_tridiagonal2

_CLAPEYRON_B_K = 6143.7  # d ln p / d(1/T), Murphy & Koop (2005) eq. 2
_SQRT_R_2PI_M = math.sqrt(R / (2.0 * math.pi * M_H2O))


class Sample:
    """Heater plate plus ``N`` regolith layers, with their ice and temperatures.

    Attributes (SI): ``temp_k`` (N+1, plate first), ``ice_kg`` (N), ``regolith_kg`` (N).
    """

    def __init__(
        self,
        sample: SampleParams,
        heater: HeaterParams,
        wall_temp_k: float,
        refresh_s: float = 1.0,
    ) -> None:
        self.p = sample
        self.h = heater
        self.wall_temp_k = wall_temp_k
        self.refresh_s = refresh_s
        n = sample.layers
        self.area_m2 = math.pi * sample.diameter_m**2 / 4.0
        self.depth_m = sample.mass_kg / (sample.bulk_density_kg_m3 * self.area_m2)
        self.dz_m = self.depth_m / n
        self.regolith_kg = np.full(n, sample.mass_kg / n)
        f = sample.ice_mass_fraction
        self.ice_kg = self.regolith_kg * (f / (1.0 - f))
        self.ice_initial_kg = float(self.ice_kg.sum())
        self.temp_k = np.full(n + 1, sample.initial_temp_k)
        # depth of each layer's top surface: the dry path its vapour diffuses through
        self.path_m = np.arange(n) * self.dz_m
        # Knudsen diffusivity scales as sqrt(T): D_K(T) = d_k_per_sqrt_k * sqrt(T)
        d_k_per_sqrt_k = ice.knudsen_diffusivity_m2_s(
            1.0, sample.pore_radius_m, sample.porosity, sample.tortuosity
        )
        # 1 + v z / D_K is independent of T (both v and D_K go as sqrt T)
        self._one_plus_path_term = 1.0 + _SQRT_R_2PI_M * self.path_m / d_k_per_sqrt_k
        self._has_dry = False
        self._g: list[float] = []
        self._base_diag = np.zeros(n + 1)
        self._a: NDArray[np.float64] | None = None  # sublimation law at the last solve
        self._b = np.zeros(n)
        self._latent_j_kg = np.zeros(n)
        self._sink_pred_j = np.zeros(n)
        self._u = np.zeros(n + 1)
        self._zeros = np.zeros(n)
        self._inert = False  # set when the sample neither holds ice nor takes vapour
        self._all_dry = False
        self._n_dry = 0
        self._temp_at_refresh: NDArray[np.float64] | None = None
        self._cap_over_dt: NDArray[np.float64] | None = None
        self._cap_j_k = np.zeros(n + 1)
        self._dt_s = 0.0
        self._age_s = 0.0
        # energy ledger [J] and what sublimated, at what temperature (for the floor)
        self.t0_k = sample.initial_temp_k
        self._h_ice0_j_kg = float(ice.ice_enthalpy_array_j_kg(np.array(self.t0_k)))
        self.heater_energy_j = 0.0
        self.radiated_j = 0.0
        self.latent_j = 0.0
        self.ice_sensible_out_j = 0.0  # sensible heat (above t0) carried off by the ice
        self.sublimated_kg = 0.0  # gross, deposits back into the sample not subtracted
        self.sublimated_temp_kg_k = 0.0

    # ---- properties -------------------------------------------------------------
    def ice_fraction(self) -> NDArray[np.float64]:
        """Ice mass fraction of each layer, ice / (ice + regolith)."""
        return self.ice_kg / (self.ice_kg + self.regolith_kg)

    def heat_capacity_j_k(self) -> NDArray[np.float64]:
        """Heat capacity of each node [J/K], plate first, at the current temperatures."""
        t = self.temp_k[1:]
        c = self.regolith_kg * regolith.heat_capacity_j_kg_k(t)
        c = c + self.ice_kg * ice.ice_heat_capacity_j_kg_k(t)
        return np.concatenate(([self.h.plate_heat_capacity_j_k], c))

    def conductances_w_k(self) -> NDArray[np.float64]:
        """Conductance [W/K] between node j and j+1 (plate-layer1, layer1-layer2, ...)."""
        t = self.temp_k[1:]
        k = self.p.conductivity_scale * regolith.icy_conductivity_w_m_k(
            t, self.p.conductivity_depth_m, self.ice_fraction())
        half = 0.5 * self.dz_m / (k * self.area_m2)  # K/W, half a layer
        g = np.empty(self.p.layers)
        # plate -> top layer: contact in parallel with radiation across the gap, the latter
        # linearised at the mean temperature, 4 eps sigma A Tm^3 (parallel plates)
        t_m = 0.5 * (self.temp_k[0] + self.temp_k[1])
        g_gap = self.h.contact_conductance_w_k + (
            4.0 * self.h.gap_emissivity * STEFAN_BOLTZMANN * self.area_m2 * t_m**3)
        g[0] = 1.0 / (1.0 / g_gap + half[0])
        g[1:] = 1.0 / (half[:-1] + half[1:])
        return g

    def _refresh(self, dt_s: float) -> None:
        if self._temp_at_refresh is not None:
            self._enthalpy_correction()
        cap = self.heat_capacity_j_k()
        g = self.conductances_w_k()
        diag = cap / dt_s
        diag[:-1] += g
        diag[1:] += g
        self._g = g.tolist()
        self._base_diag = diag
        self._cap_j_k = cap
        self._temp_at_refresh = self.temp_k.copy()
        self._cap_over_dt = cap / dt_s
        self._dt_s = dt_s
        self._age_s = 0.0

    def _enthalpy_correction(self) -> None:
        """Between refreshes the solver moves temperatures by energy / C(T_refresh). With
        c rising steeply in T that drifts; here each layer is put at the temperature whose
        true enthalpy change (exact integrals of the c(T) fits) equals the energy the
        solver gave it since the last refresh (one Newton step)."""
        t_ref = self._temp_at_refresh[1:]
        t = self.temp_k[1:]
        energy_j = self._cap_j_k[1:] * (t - t_ref)
        true_j = self.regolith_kg * (regolith.enthalpy_array_j_kg(t)
                                     - regolith.enthalpy_array_j_kg(t_ref))
        h_ice = ice.ice_enthalpy_array_j_kg
        true_j += self.ice_kg * (h_ice(t) - h_ice(t_ref))
        c_now = (self.regolith_kg * regolith.heat_capacity_j_kg_k(t)
                 + self.ice_kg * ice.ice_heat_capacity_j_kg_k(t))
        self.temp_k[1:] = t - (true_j - energy_j) / c_now

    # ---- stepping ---------------------------------------------------------------
    def conduct(self, dt_s: float, heater_power_w: float, vapour_kg: float, volume_m3: float,
                other_source_kg_s: float, other_sink_m3_s: float,
                ) -> tuple[NDArray[np.float64], float]:
        """Advance conduction by ``dt_s`` with ``heater_power_w`` into the plate.

        Backward Euler on the plate, the layers and the chamber vapour together: each
        layer's sublimation ``a + s (T - T0) - b rho`` is linearised in its own
        temperature and in the end-of-step chamber density ``rho``, whose balance (with
        ``vapour_kg`` in ``volume_m3``, a source ``other_source_kg_s`` and a sink
        ``other_sink_m3_s * rho`` for the trap and the leak) closes the system. That is a
        tridiagonal heat network plus a rank-one chamber coupling, solved exactly
        (Sherman-Morrison), so the sublimation front neither overshoots nor lags and
        layers trading vapour through the chamber stay stable at any step. A layer that
        would empty within the step gives a fixed source of what it has. This is linearly
        implicit (Rosenbrock) Euler: first order, stable, no operator splitting.
        Returns the mass each layer gives the chamber this step [kg] (negative: takes)
        and the end-of-step chamber density [kg/m^3]; pass the masses, limited to the ice
        each layer holds, to :meth:`sublimate`. Call :meth:`vapour_coefficients` before
        the first step and after each one (the linearisation point).
        """
        if (self._cap_over_dt is None or abs(dt_s - self._dt_s) > 1e-9 * dt_s
                or self._age_s >= self.refresh_s):
            self._refresh(dt_s)
        self._age_s += dt_s
        t_old = self.temp_k
        radiated_w = (self.h.emissivity * STEFAN_BOLTZMANN * self.area_m2
                      * (t_old[0] ** 4 - self.wall_temp_k**4))
        t = t_old[1:]
        lat, a, b = self._latent_j_kg, self._a, self._b
        if self._inert:  # no ice, no exchange with the chamber: conduction alone
            rhs = self._cap_over_dt * t_old
            rhs[0] += heater_power_w - radiated_w
            self.temp_k = np.array(solve_symmetric_tridiagonal(
                self._g, self._base_diag.tolist(), rhs.tolist()))
            self._sink_pred_j = self._zeros
            self.heater_energy_j += heater_power_w * dt_s
            self.radiated_j += radiated_w * dt_s
            return self._zeros, (vapour_kg / dt_s + other_source_kg_s) / (
                volume_m3 / dt_s + other_sink_m3_s)
        inv_t = 1.0 / t
        slope = a * (_CLAPEYRON_B_K * inv_t * inv_t - 0.5 * inv_t)  # d(rate)/dT [kg/s/K]
        emptying = a * dt_s >= self.ice_kg
        if emptying.any():
            a = np.where(emptying, self.ice_kg / dt_s, a)
            b = np.where(emptying, 0.0, b)
            slope = np.where(emptying, 0.0, slope)
        # chamber: E rho = r0 + sum(slope T), i.e. rho = (r0 + slope . T) / E
        e = volume_m3 / dt_s + float(b.sum()) + other_sink_m3_s
        r0 = vapour_kg / dt_s + float(a.sum()) - float(slope @ t) + other_source_kg_s
        lat_slope = lat * slope
        lat_b = lat * b
        rhs = self._cap_over_dt * t_old
        rhs[0] += heater_power_w - radiated_w
        rhs[1:] += lat_slope * t - lat * a + lat_b * (r0 / e)
        diag = self._base_diag.copy()
        diag[1:] += lat_slope
        u = self._u
        u[1:] = lat_b * (1.0 / e)  # the system is (A - u v^T) T = rhs with v = slope
        x, y = solve_symmetric_tridiagonal2(self._g, diag.tolist(), rhs.tolist(), u.tolist())
        x_arr, y_arr = np.array(x), np.array(y)
        vx, vy = float(slope @ x_arr[1:]), float(slope @ y_arr[1:])
        self.temp_k = x_arr + y_arr * (vx / (1.0 - vy))
        t_new = self.temp_k[1:]
        rho = (r0 + float(slope @ t_new)) / e
        out_kg = (a + slope * (t_new - t) - b * rho) * dt_s
        self._sink_pred_j = lat * out_kg  # the latent heat the solve already took
        self.heater_energy_j += heater_power_w * dt_s
        self.radiated_j += radiated_w * dt_s
        return out_kg, rho

    def coefficients(self) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
        """The sublimation law ``(a, b)`` from the last :meth:`vapour_coefficients` call."""
        return None if self._a is None else (self._a, self._b)

    def vapour_coefficients(
        self, chamber_density_kg_m3: float, gas_temp_k: float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Linear sublimation law of each layer: net rate out ``a - b * rho_chamber`` [kg/s].

        Returned ``a`` [kg/s] and ``b`` [m^3/s] at the current temperatures:
        Hertz-Knudsen-Langmuir at the layer's temperature in series with Knudsen
        diffusion through the layers above it. Chamber vapour at ``gas_temp_k`` exerts
        ``p = rho R Tg / M``, seen by a layer at ``T`` as the density ``rho Tg / T``.
        """
        t = self.temp_k[1:]
        if self._all_dry:  # no ice left: only a layer below the frost point could take any
            t_min = float(t.min())
            if ice.vapor_pressure_pa(t_min) * (M_H2O / R) >= chamber_density_kg_m3 * gas_temp_k:
                self._a, self._b, self._inert = self._zeros, self._zeros, True
                self._latent_j_kg = self._zeros
                return self._a, self._b
        v = _SQRT_R_2PI_M * np.sqrt(t)  # HKL mean normal speed sqrt(RT / 2 pi M) [m/s]
        # A v / (1 + v z / D_K), with D_K = d_k_per_sqrt_k * sqrt(T): the sqrt(T) cancels
        conductance = (self.area_m2 * v) / self._one_plus_path_term  # m^3/s
        inv_t = 1.0 / t
        rho_sat = ice.vapor_pressure_array_pa(t) * (M_H2O / R) * inv_t
        a = conductance * rho_sat
        b = conductance * (gas_temp_k * inv_t)
        # a layer without ice only takes vapour (deposition) if it is below frost point
        if self._has_dry:
            dry = self.ice_kg <= 0.0
            a[dry] = 0.0
            b[dry & (rho_sat * t >= chamber_density_kg_m3 * gas_temp_k)] = 0.0
        self._latent_j_kg = ice.latent_heat_array_j_per_mol(t) * (1.0 / M_H2O)
        self._a, self._b = a, b
        self._inert = not a.any() and not b.any()
        return a, b

    def sublimate(self, mass_kg: NDArray[np.float64]) -> None:
        """Remove ``mass_kg`` of ice from each layer (negative = deposit) with its latent heat.

        ``mass_kg`` is what :meth:`conduct` returned, limited to the ice present; where it
        was limited, the latent heat the solve took for the rest goes back to the layer.
        """
        self.ice_kg = np.maximum(self.ice_kg - mass_kg, 0.0)
        dry = self.ice_kg <= 0.0
        n_dry = int(dry.sum())
        if n_dry != self._n_dry:  # a layer dried out (or iced up): its conductivity jumps
            self._n_dry = n_dry
            self._age_s = math.inf
        self._has_dry = n_dry > 0
        self._all_dry = n_dry == dry.size
        t = self.temp_k[1:]
        self.ice_sensible_out_j += float(
            mass_kg @ (ice.ice_enthalpy_array_j_kg(t) - self._h_ice0_j_kg))
        gross = np.maximum(mass_kg, 0.0)
        self.sublimated_kg += float(gross.sum())
        self.sublimated_temp_kg_k += float(gross @ t)
        heat_j = mass_kg * self._latent_j_kg
        # conduct() took the latent heat of its prediction; give back what did not leave
        self.temp_k[1:] += (self._sink_pred_j - heat_j) / self._cap_j_k[1:]
        self.latent_j += float(heat_j.sum())

    # ---- energy -----------------------------------------------------------------
    def stored_heat_j(self) -> float:
        """Sensible heat now in the plate, regolith and ice above the start temperature [J],
        from the exact integrals of the heat-capacity fits (not from the solver)."""
        t = self.temp_k[1:]
        reg = float(self.regolith_kg @ regolith.sensible_heat_j_kg(self.t0_k, t))
        ice_j = float(self.ice_kg @ ice.ice_sensible_heat_j_kg(self.t0_k, t))
        return reg + ice_j + self.h.plate_heat_capacity_j_k * (self.temp_k[0] - self.t0_k)

    def energy_balance_error_j(self) -> float:
        """Heater energy in minus (stored + latent + sensible carried off + radiated) [J]."""
        return self.heater_energy_j - (self.stored_heat_j() + self.latent_j
                                       + self.ice_sensible_out_j + self.radiated_j)

    def energy_floor_j(self) -> float:
        """Thermodynamic floor of what has sublimated so far [J]: the regolith that held it
        and the ice, warmed from the start temperature to their mean sublimation
        temperature, plus the latent heat there. Nothing else (losses) is counted."""
        if self.sublimated_kg <= 0.0:
            return 0.0
        t_sub = max(self.sublimated_temp_kg_k / self.sublimated_kg, self.t0_k)
        share = min(1.0, self.sublimated_kg / self.ice_initial_kg)
        reg = share * self.p.mass_kg * regolith.sensible_heat_j_kg(self.t0_k, t_sub)
        per_kg = ice.ice_sensible_heat_j_kg(self.t0_k, t_sub) + ice.latent_heat_j_per_kg(t_sub)
        return reg + self.sublimated_kg * per_kg

    # ---- readings ---------------------------------------------------------------
    @property
    def plate_temp_k(self) -> float:
        """Heater plate temperature [K]."""
        return float(self.temp_k[0])

    @property
    def top_temp_k(self) -> float:
        """Temperature of the top sample layer [K]."""
        return float(self.temp_k[1])

    @property
    def bottom_temp_k(self) -> float:
        """Temperature of the bottom sample layer (crucible thermocouple) [K]."""
        return float(self.temp_k[-1])

    def ice_total_kg(self) -> float:
        """Ice left in the sample [kg]."""
        return float(self.ice_kg.sum())
