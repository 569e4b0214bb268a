"""The regolith sample under its heated plate: 1-D layered heat conduction, sublimation
and pore vapour.

Geometry: a cylindrical crucible of diameter ``d`` holds the sample; a perforated heater
plate lies on its surface. Node 0 is the plate, nodes 1..N are the sample layers from the
top down. Each layer's ice sublimates into its pores by Hertz-Knudsen-Langmuir; the pore
vapour diffuses (Knudsen) up to the chamber through the plate and down into colder layers,
where it re-freezes, and out through the floor where ``bottom_open_fraction`` opens it
(lost water); the crucible's floor is adiabatic. Conduction is solved implicitly (backward
Euler) with thermal properties frozen over ``refresh_s`` of mission time, so any ``dt`` is
stable, together with the pore vapour and the chamber density (one block-tridiagonal
sweep). The conductivity follows the sample's ice texture and grain size
(:mod:`sims.regolith`, :mod:`sims.icy_texture`). See docs/physics.md.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from sims import ice, ice_nodes, layer_nodes, pore_vapour, regolith
from sims.compiled import kernels as _kernels
from sims.constants import M_H2O, STEFAN_BOLTZMANN, R
from sims.params import HeaterParams, SampleParams
from sims.sample_energy import EnergyLedger
from sims.tridiag import solve_conductance_network

_SQRT_R_2PI_M = math.sqrt(R / (2.0 * math.pi * M_H2O))
_SQRT_M_2PI_R = math.sqrt(M_H2O / (2.0 * math.pi * R))
# hot-loop constants as 0-d arrays (numpy combines those with arrays faster than floats)
_B_K, _HALF = np.array(ice_nodes.CLAPEYRON_B_K), np.array(0.5)


class Sample(EnergyLedger):
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
        #: the pores' radius [m], from the grains (regolith.pore_radius_m)
        self.pore_radius_m = regolith.pore_radius_m(sample.grain_diameter_m, sample.porosity)
        self.regolith_kg = np.full(n, sample.mass_kg / n)
        f = sample.ice_mass_fraction
        self.ice_kg = self.regolith_kg * (f / (1.0 - f))
        self.ice_initial_kg = float(self.ice_kg.sum())
        self.temp_k = np.full(n + 1, sample.initial_temp_k)
        # the pore-vapour network (sims.pore_vapour): conductances, exchange area [m^2]
        self._kv, wall_m2 = pore_vapour.conductances_m2(
            self.area_m2, self.dz_m, n, sample.porosity, sample.tortuosity,
            self.pore_radius_m, sample.bottom_open_fraction)
        # (plate first, 0: the plate holds no ice) a = _a_coef p_sat(T) / sqrt(T) [kg/s],
        # g = _g_coef [m^2] at a layer that gives or takes vapour
        self._a_coef = np.concatenate(([0.0], np.full(n, wall_m2 * _SQRT_M_2PI_R)))
        self._g_coef = np.concatenate(([0.0], np.full(n, wall_m2)))
        self._psi = np.zeros(n + 1)  # the last step's pore vapour (psi[0]: the chamber's)
        # the chamber's psi seen by the top layer per unit density [m/s] (the chamber gas at
        # Tg exerts p = rho R Tg / M, seen by the layer at T as psi = p sqrt(M/(2 pi R T)))
        self._c_chamber_m_s = 0.0
        self.lost_below_kg = 0.0  #: vapour that left through an open floor [kg] (lost)
        self.below_step_kg = 0.0  # (the last conduct()'s)
        self._k_terms = regolith.icy_conductivity_terms(
            sample.conductivity_depth_m, grain_diameter_m=sample.grain_diameter_m,
            texture=sample.ice_texture)
        self._rad_w_k4 = heater.emissivity * STEFAN_BOLTZMANN * self.area_m2
        self._wall_k4 = wall_temp_k**4
        self._neg_g = np.zeros(n - 1)  # minus the conductances between nodes [W/K]
        self._base_diag = np.zeros(n + 1)
        # the sublimation law at the last linearisation, per node (plate first, all 0):
        # rows a [kg/s], b [m^3/s], slope = d a / dT [kg/s/K] and slope x T [kg/s]
        self._coef: NDArray[np.float64] | None = None
        self._zero_coef = np.zeros((4, n + 1))
        self._slope_stale = False  # a refresh moved the temperatures since
        self._lat = np.zeros(n + 1)  # latent heat [J/kg] there, plate first (0)
        # the ice's terms at every node (ice_nodes rows) and the temperature array they
        # are of: temp_k is replaced whenever it changes, never changed in place (the
        # plant's step keeps the old one to undo a step): one evaluation per step for
        # sublimate() and vapour_coefficients()
        self._ice_nodes = ice_nodes.IceNodes(n + 1)
        self._props = np.zeros((6, n + 1))
        self._props_of: NDArray[np.float64] | None = None
        # the layers' heat capacities and enthalpies (layer_nodes) for the refreshes, and
        # the enthalpies per kg of regolith and of ice at the last one
        self._layer_nodes = layer_nodes.LayerNodes(n)
        self._h_at_refresh = np.zeros((2, n))
        # which nodes hold ice (plate first: none)
        self._wet_nodes = np.concatenate(([False], self.ice_kg > 0.0))
        self._sink_pred_j = np.zeros(n)
        self._out_pred: NDArray[np.float64] | None = None
        self._zeros = np.zeros(n)
        self._inert = False  # set when the sample neither holds ice nor takes vapour
        #: the last :meth:`conduct` was conduction alone: no layer gave or took vapour (it
        #: returned zeros, and :meth:`sublimate` of them changes nothing)
        self.conduction_only = False
        self._all_dry = False
        self._n_dry = 0
        self._temp_at_refresh: NDArray[np.float64] | None = None
        self._cap_over_dt: NDArray[np.float64] | None = None
        self._cap_j_k = np.zeros(n + 1)
        self._dt_s = 0.0
        self._age_s = 0.0
        # energy ledger [J] and what sublimated, at what temperature (for the floor)
        self.t0_k = sample.initial_temp_k
        self._t0_arr = np.array(self.t0_k)
        self._h_ice0_j_kg = ice_nodes.IceNodes(1).evaluate(
            self._t0_arr.reshape(1)).item(ice_nodes.ENTHALPY_J_KG)
        self._h_reg0_j_kg = regolith.enthalpy_array_j_kg(self._t0_arr)
        self.heater_energy_j = 0.0
        #: the plate's heat above t0 when this scoop came in (kept from the last one) [J]
        self.carried_in_j = 0.0
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
        c = np.empty(self.p.layers + 1)
        c[0] = self.h.plate_heat_capacity_j_k
        c[1:] = self._layer_capacity_j_k(self._layer_nodes.evaluate(self.temp_k[1:]))
        return c

    def conductances_w_k(self) -> NDArray[np.float64]:
        """Conductance [W/K] between node j and j+1 (plate-layer1, layer1-layer2, ...)."""
        t = self.temp_k[1:]
        if self._all_dry:  # (no ice: the icy law gives the dry one, to the bit)
            k = regolith.dry_conductivity_array_w_m_k(t, self._k_terms)
        else:
            k = regolith.icy_conductivity_array_w_m_k(t, self.ice_fraction(), self._k_terms)
        k = self.p.conductivity_scale * k
        half = 0.5 * self.dz_m / (k * self.area_m2)  # K/W, half a layer
        g = np.empty(self.p.layers)
        # plate -> top layer: contact in parallel with radiation across the gap, the latter
        # linearised at the mean temperature, 4 eps sigma A Tm^3 (parallel plates)
        t_m = 0.5 * (self.temp_k.item(0) + self.temp_k.item(1))
        g_gap = self.h.contact_conductance_w_k + (
            4.0 * self.h.gap_emissivity * STEFAN_BOLTZMANN * self.area_m2 * t_m**3)
        g[0] = 1.0 / (1.0 / g_gap + half.item(0))
        g[1:] = 1.0 / (half[:-1] + half[1:])
        return g

    def _refresh(self, dt_s: float) -> None:
        if self._temp_at_refresh is not None:
            self._enthalpy_correction()
        t = self.temp_k[1:]
        props = self._layer_nodes.evaluate(t)  # heat capacities and enthalpies per kg
        cap = np.empty(t.size + 1)
        cap[0] = self.h.plate_heat_capacity_j_k
        cap[1:] = self._layer_capacity_j_k(props)  # (heat_capacity_j_k(), sharing props)
        self._h_at_refresh = props[layer_nodes.H_REGOLITH:]  # (the next correction's)
        g = self.conductances_w_k()
        cap_over_dt = cap / dt_s
        diag = cap_over_dt.copy()
        diag[:-1] += g
        diag[1:] += g
        self._neg_g = -g
        self._base_diag = diag
        self._cap_j_k = cap
        self._temp_at_refresh = self.temp_k.copy()
        self._cap_over_dt = cap_over_dt
        self._dt_s = dt_s
        self._age_s = 0.0

    def _layer_capacity_j_k(self, props: NDArray[np.float64]) -> NDArray[np.float64]:
        """Heat capacity of each layer [J/K] from :meth:`layer_nodes.LayerNodes.evaluate`."""
        c = self.regolith_kg * props[layer_nodes.CP_REGOLITH]
        if self._all_dry:  # (the ice term is all zeros: the same result without it)
            return c
        return c + self.ice_kg * props[layer_nodes.CP_ICE]

    def _enthalpy_correction(self) -> None:
        """Between refreshes the solver moves temperatures by energy / C(T_refresh). With
        c rising steeply in T that drifts; here each layer is put at the temperature whose
        true enthalpy change (exact integrals of the c(T) fits) equals the energy the
        solver gave it since the last refresh (one Newton step)."""
        assert self._temp_at_refresh is not None  # (called only after the first refresh)
        t_ref = self._temp_at_refresh[1:]
        t = self.temp_k[1:]
        props = self._layer_nodes.evaluate(t)
        h_reg_ref, h_ice_ref = self._h_at_refresh
        energy_j = self._cap_j_k[1:] * (t - t_ref)
        true_j = self.regolith_kg * (props[layer_nodes.H_REGOLITH] - h_reg_ref)
        if not self._all_dry:
            true_j += self.ice_kg * (props[layer_nodes.H_ICE] - h_ice_ref)
        temp = self.temp_k.copy()  # (replaced, never changed in place: Plant keeps the old)
        temp[1:] = t - (true_j - energy_j) / self._layer_capacity_j_k(props)
        self.temp_k = temp
        self._slope_stale = True  # the temperatures moved: re-linearise about them

    # ---- stepping ---------------------------------------------------------------
    def conduct(self, dt_s: float, heater_power_w: float, vapour_kg: float, volume_m3: float,
                other_source_kg_s: float, other_sink_m3_s: float,
                ) -> tuple[NDArray[np.float64], float]:
        """Advance conduction by ``dt_s`` with ``heater_power_w`` into the plate.

        Backward Euler on the plate, the layers, their pore vapour and the chamber vapour
        together: each layer's sublimation ``a + s (T - T_old) - g psi`` is linearised in
        its own temperature against its pore vapour ``psi``, which diffuses to the
        neighbouring layers, the chamber (whose balance, with ``vapour_kg`` in
        ``volume_m3``, a source ``other_source_kg_s`` and a sink ``other_sink_m3_s * rho``
        for the trap and the leak, closes the system) and, if open, out of the floor.
        That is a block-tridiagonal system of 2 x 2 blocks solved exactly in one sweep,
        so the front neither overshoots nor lags and vapour moving up and down stays
        stable at any step. A layer the solve would empty gives what it has, as a fixed
        source, and the step is solved again. This is linearly implicit (Rosenbrock)
        Euler: first order, stable, no operator splitting.
        Returns the mass each layer gives up this step [kg] (negative: takes) and the
        end-of-step chamber density [kg/m^3]; :attr:`below_step_kg` is what of it left
        through the floor (the rest reached the chamber). Pass the masses, limited to the
        ice each layer holds, to :meth:`sublimate`. Call :meth:`vapour_coefficients`
        before the first step and after each one (the linearisation point).
        """
        if (self._cap_over_dt is None or abs(dt_s - self._dt_s) > 1e-9 * dt_s
                or self._age_s >= self.refresh_s):
            self._refresh(dt_s)
        self._age_s += dt_s
        t_old = self.temp_k
        radiated_w = self._rad_w_k4 * (t_old.item(0) ** 4 - self._wall_k4)
        self.heater_energy_j += heater_power_w * dt_s
        self.radiated_j += radiated_w * dt_s
        self.conduction_only = self._inert
        if self._inert:  # no ice, no exchange with the chamber: conduction alone
            assert self._cap_over_dt is not None  # (set by the refresh above)
            rhs = self._cap_over_dt * t_old
            rhs[0] += heater_power_w - radiated_w
            self.temp_k = solve_conductance_network(self._neg_g, self._base_diag, rhs)
            self._sink_pred_j = self._out_pred = self._zeros
            self.below_step_kg = 0.0
            return self._zeros, (vapour_kg / dt_s + other_source_kg_s) / (
                volume_m3 / dt_s + other_sink_m3_s)
        coef = self._coef
        if self._slope_stale:  # slope and slope x T about the refreshed temperatures
            assert coef is not None  # (vapour_coefficients() comes first)
            coef = self._coef = coef.copy()
            inv_t = 1.0 / t_old
            np.multiply(coef[0], (_B_K * inv_t - _HALF) * inv_t, out=coef[2])
            np.multiply(coef[2], t_old, out=coef[3])
            self._slope_stale = False
        # the coupled solve, in one kernel call (sims.compiled: sims/_kernels.c, or its
        # numpy fallback sims/kernels_numpy.py): every node's temperature and vapour (the
        # chamber density at the plate's node, the pore vapour psi at a layer's), a block
        # tridiagonal system of 2 x 2 blocks solved in one sweep:
        # - heat: the network, a layer losing lat x (a + slope (T - T_old) - g psi);
        # - pore vapour (quasi-steady) through the conductances _kv: up to the chamber,
        #   into other layers (a colder icy or frosting one takes it) or out the floor;
        # - the chamber: V/dt (rho - rho_old) = top flux + other source - other sink rho;
        # - a layer the solve empties gives its ice as a fixed source; solved again
        temp, out, psi = np.empty(t_old.size), np.empty(t_old.size), np.empty(t_old.size)
        rho, below_kg = _kernels.coupled_step(
            self._cap_over_dt, t_old, self._neg_g, self._base_diag, self._lat, coef,
            self.ice_kg, self._kv, temp, out, psi, heater_power_w - radiated_w,
            volume_m3 / dt_s, vapour_kg / dt_s, other_source_kg_s, other_sink_m3_s, dt_s,
            self._c_chamber_m_s)
        self.temp_k = temp
        self._psi = psi
        self.below_step_kg = below_kg
        self.lost_below_kg += below_kg
        out_kg = out[1:]
        self._sink_pred_j = self._lat[1:] * out_kg  # the latent heat the solve already took
        self._out_pred = out_kg
        return out_kg, rho

    @property
    def inert(self) -> bool:
        """The sample neither holds ice nor takes vapour (at the last
        :meth:`vapour_coefficients`): its next step is conduction alone."""
        return self._inert

    @property
    def linearised(self) -> bool:
        """Whether :meth:`vapour_coefficients` has been called (conduct() needs it)."""
        return self._coef is not None

    def coefficients(self) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
        """The sublimation law ``(a, b)`` from the last :meth:`vapour_coefficients` call."""
        return None if self._coef is None else (self._coef[0, 1:], self._coef[1, 1:])

    def vapour_coefficients(
        self, chamber_density_kg_m3: float, gas_temp_k: float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Linear sublimation law of each layer: net rate out ``a - g psi`` [kg/s].

        Returned ``a`` [kg/s] and ``g`` [m^2] at the current temperatures:
        Hertz-Knudsen-Langmuir at the layer's temperature, ``a = A psi_sat(T)``, against
        the pore vapour ``psi`` [kg/(m^2 s)] that :meth:`conduct` solves for; both 0 at a
        layer that neither holds ice nor is frosting. The chamber vapour (density
        ``chamber_density_kg_m3`` at ``gas_temp_k``) enters :meth:`conduct` through the
        top layer's pores.
        """
        t = self.temp_k  # (the plate's entries are all 0: its coefficients are 0)
        if self._all_dry:  # no ice left: only a layer below the frost point could take any
            t_min = float(np.minimum.reduce(t[1:]))
            p_sat = ice.vapor_pressure_scalar_pa(t_min)
            if p_sat * (M_H2O / R) >= chamber_density_kg_m3 * gas_temp_k:
                # (all zero; shared: the coefficients are replaced, never changed in place)
                coef = self._coef = self._zero_coef
                self._lat, self._inert = coef[0], True
                return coef[0, 1:], coef[1, 1:]
        # the chamber gas at gas_temp_k seen by the top layer at T: psi = c rho, with
        # c = Tg sqrt(R / (2 pi M T)) (its pressure rho R Tg / M as a one-way flux there)
        self._c_chamber_m_s = gas_temp_k * _SQRT_R_2PI_M / math.sqrt(t.item(1))
        props = self._ice_props()
        # in one kernel call (sims.compiled): a = _a_coef p_sat / sqrt T (HKL of the
        # saturated pore gas over the cross-section; eq. 7, or the joined eq. 2 below
        # 110 K) and g = _g_coef where the layer holds ice, or holds none but its pore
        # vapour (the last step's) is above saturation (frost deposits), else both 0;
        # slope = d a / dT [kg/s/K], slope x T
        coef = np.empty((4, t.size))
        self._inert = _kernels.rate_law(
            props[ice_nodes.LN_P7_SQRT], props[ice_nodes.LN_P2_SQRT],
            props[ice_nodes.SLOPE_PER_K], t, self._a_coef, self._g_coef, self._wet_nodes,
            self._psi, ice.EQ7_MIN_K, coef)
        self._lat = lat = props[ice_nodes.LATENT_J_KG]
        lat[0] = 0.0
        self._coef = coef
        self._slope_stale = False
        return coef[0, 1:], coef[1, 1:]

    def _ice_props(self) -> NDArray[np.float64]:
        """:meth:`ice_nodes.IceNodes.evaluate` at ``temp_k``, once per temperature array."""
        t = self.temp_k
        if self._props_of is not t:
            self._props = self._ice_nodes.evaluate(t)
            self._props_of = t
        return self._props

    def sublimate(self, mass_kg: NDArray[np.float64]) -> None:
        """Remove ``mass_kg`` of ice from each layer (negative = deposit) with its latent heat.

        ``mass_kg`` is what :meth:`conduct` returned, limited to the ice present; where it
        was limited, the latent heat the solve took for the rest goes back to the layer.
        """
        if mass_kg is self._zeros:  # conduction alone: nothing moved
            return
        t = self.temp_k[1:]
        h_ice = self._ice_props()[ice_nodes.ENTHALPY_J_KG, 1:]
        predicted = mass_kg is self._out_pred  # the solve took exactly this latent heat
        heat_j = self._sink_pred_j if predicted else mass_kg * self._lat[1:]
        # in one kernel call (sims.compiled): the ice left, max(ice - mass, 0), which nodes
        # still hold ice, and the ledger's sums: mass x h_ice, mass, gross (deposits back
        # into the sample not counted), gross x T and the latent heat
        ice_kg = np.empty(t.size)
        wet_nodes = np.empty(t.size + 1, dtype=bool)  # (plate first: no ice)
        m_h, m_sum, g_sum, g_t, heat_sum, n_dry = _kernels.sublimate(
            self.ice_kg, mass_kg, h_ice, t, heat_j, ice_kg, wet_nodes)
        self.ice_kg, self._wet_nodes = ice_kg, wet_nodes
        if n_dry != self._n_dry:  # a layer dried out (or iced up): its conductivity jumps
            self._n_dry = n_dry
            self._age_s = math.inf
        self._all_dry = n_dry == t.size
        self.ice_sensible_out_j += m_h - self._h_ice0_j_kg * m_sum
        self.sublimated_kg += g_sum  # (gross: deposits back into the sample not counted)
        self.sublimated_temp_kg_k += g_t
        self.latent_j += heat_sum
        if not predicted:
            # conduct() took the latent heat of its prediction; give back what did not leave
            temp = self.temp_k.copy()  # (replaced, never changed in place)
            temp[1:] += (self._sink_pred_j - heat_j) / self._cap_j_k[1:]
            self.temp_k = temp

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
