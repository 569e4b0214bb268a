"""Heat capacities and enthalpies of the sample's layers from one coefficient table.

Every property refresh (each ``solver.refresh_s`` of mission time) the sample needs, at
its ~30 layer temperatures T, the regolith's and the ice's specific heat capacity and
enthalpy: Hayne et al. (2017) app. A's polynomial and its integral
(:func:`sims.regolith.heat_capacity_j_kg_k`), Murphy & Koop (2005) eq. 4 and its
integral (:func:`sims.ice.ice_heat_capacity_j_kg_k`). All four are linear combinations
of eight functions of T: 1, T ... T^5, g = exp(-(T/125.1)^2) and T g. Those are
evaluated and combined in one pass over the layers in compiled code (:mod:`sims.compiled`:
the C kernels, or their numpy fallback where they are not built; in numpy one by one,
~40 array operations whose cost at this size is per operation, not per layer). Same
formulas, constants multiplied through; equal to the :mod:`sims.regolith` and
:mod:`sims.ice` functions to rounding (tested). Enthalpies have
those modules' references (0 at 0 K for the regolith).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sims.compiled import kernels as _kernels
from sims.constants import M_H2O

_T0_EQ4_K = 125.1  # the width of the Gaussian term of M&K eq. 4
_M = M_H2O
# Hayne et al. (2017) eq. A6: c = c0 + c1 T + c2 T^2 + c3 T^3 + c4 T^4  [J/(kg K)]
_C0, _C1, _C2, _C3, _C4 = -3.6125, 2.7431, 2.3616e-3, -1.2340e-5, 8.9093e-9

#: rows of :meth:`LayerNodes.evaluate`'s result: specific heat capacity of regolith and
#: ice [J/(kg K)], then their enthalpies [J/kg]
CP_REGOLITH, CP_ICE, H_REGOLITH, H_ICE = range(4)
#: coefficients of (1, T, T^2, T^3, T^4, T^5, g, T g), g = exp(-(T/125.1)^2)
_COEF = np.array([
    (_C0, _C1, _C2, _C3, _C4, 0.0, 0.0, 0.0),
    # M&K eq. 4 / M: c = -2.0572 + 0.14644 T + 0.06163 T g
    (-2.0572 / _M, 0.14644 / _M, 0.0, 0.0, 0.0, 0.0, 0.0, 0.06163 / _M),
    (0.0, _C0, _C1 / 2, _C2 / 3, _C3 / 4, _C4 / 5, 0.0, 0.0),
    # its integral: h = -2.0572 T + 0.07322 T^2 - 0.06163 (125.1^2 / 2) g
    (0.0, -2.0572 / _M, 0.07322 / _M, 0.0, 0.0, 0.0, -0.06163 * _T0_EQ4_K**2 / 2.0 / _M, 0.0),
])
_GAUSS = np.array((-1.0 / _T0_EQ4_K**2, 0.0))  # -1/width^2 of g (the second: unused)


class LayerNodes:
    """:meth:`evaluate` for ``n`` layers."""

    def __init__(self, n: int) -> None:
        self._shape = (_COEF.shape[0], n)

    def evaluate(self, t: NDArray[np.float64]) -> NDArray[np.float64]:
        """The rows ``CP_REGOLITH``, ``CP_ICE`` [J/(kg K)], ``H_REGOLITH``, ``H_ICE`` [J/kg]
        at the temperatures ``t`` [K], shape ``(n,)`` C-contiguous float64, finite and > 0
        (unchecked: the plant's hot loop). A new array each call, from the eight
        functions and the product in one kernel call (:mod:`sims.compiled`).

        Raises:
            ValueError: if ``t`` is not a C-contiguous float64 array of ``n`` values.
        """
        out = np.empty(self._shape)
        _kernels.node_terms(_kernels.LAYER_BASIS, _COEF, _GAUSS, t, out)
        return out
