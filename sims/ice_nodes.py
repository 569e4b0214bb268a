"""The ice terms of the sample's thermal step at every node, from one coefficient table.

Every thermal step the plant needs, at the same ~31 node temperatures T: the saturation
pressure (Murphy & Koop (2005) eq. 7, joined to eq. 2 below 110 K as in
:func:`sims.ice.vapor_pressure_pa`) over sqrt(T) (Hertz-Knudsen-Langmuir), 1/sqrt(T),
the latent heat (eq. 5), the ice's enthalpy (the integral of eq. 4) and the factor
``B/T^2 - 1/(2T)`` that turns a sublimation rate into its slope in T (Clapeyron, ``B`` =
6143.7 K). In logarithms where needed, each is a linear combination of eight functions
of T: 1, T, T^2, 1/T, 1/T^2, ln T and two Gaussians exp(-(T/T0)^2). So those eight and
their combinations are evaluated in one pass over the nodes in compiled code
(:mod:`sims.compiled`: the C kernels, or their numpy fallback where they are not built):
evaluating the laws one by one in numpy takes ~35 array operations, whose cost at this
size is per operation, not per node. The formulas are
those of :mod:`sims.ice` with the constants multiplied through; the results agree with
its functions to rounding (tested).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sims.compiled import kernels as _kernels
from sims.constants import M_H2O
from sims.ice import _LN_JOIN

CLAPEYRON_B_K = 6143.7  # d ln p / d(1/T), Murphy & Koop (2005) eq. 2
_T0_EQ5_K, _T0_EQ4_K = 123.75, 125.1  # the widths of the Gaussian terms of eqs. 5 and 4
_EQ4_GAUSS = 0.06163 * _T0_EQ4_K**2 / 2.0  # eq. 4's Gaussian term, integrated
_M = M_H2O

#: rows of :meth:`IceNodes.evaluate`'s result: ln(1/sqrt T); ln(p/sqrt T) by eq. 7 and by
#: the joined eq. 2 [ln(Pa/K^0.5)]; latent heat [J/kg]; enthalpy [J/kg, the reference of
#: :func:`sims.ice.ice_enthalpy_array_j_kg`]; B/T^2 - 1/(2T) [1/K]
LN_INV_SQRT_T, LN_P7_SQRT, LN_P2_SQRT, LATENT_J_KG, ENTHALPY_J_KG, SLOPE_PER_K = range(6)
#: coefficients of (1, T, T^2, 1/T, 1/T^2, ln T, exp(-(T/123.75)^2), exp(-(T/125.1)^2))
_COEF = np.array([
    (0.0, 0.0, 0.0, 0.0, 0.0, -0.5, 0.0, 0.0),
    # eq. 7: ln p = 9.550426 - 5723.265/T + 3.53068 ln T - 0.00728332 T, less ln sqrt T
    (9.550426, -0.00728332, 0.0, -5723.265, 0.0, 3.53068 - 0.5, 0.0, 0.0),
    # eq. 2 scaled to meet eq. 7 at 110 K: ln p = 28.9074 + join - 6143.7/T, less ln sqrt T
    (28.9074 + _LN_JOIN, 0.0, 0.0, -6143.7, 0.0, -0.5, 0.0, 0.0),
    # eq. 5 / M: L = 46782.5 + 35.8925 T - 0.07414 T^2 + 541.5 exp(-(T/123.75)^2)
    (46782.5 / _M, 35.8925 / _M, -0.07414 / _M, 0.0, 0.0, 0.0, 541.5 / _M, 0.0),
    # the integral of eq. 4 / M: h = -2.0572 T + 0.07322 T^2 - c exp(-(T/125.1)^2)
    (0.0, -2.0572 / _M, 0.07322 / _M, 0.0, 0.0, 0.0, 0.0, -_EQ4_GAUSS / _M),
    # d ln(p / sqrt T) / dT with Clapeyron's B
    (0.0, 0.0, 0.0, -0.5, CLAPEYRON_B_K, 0.0, 0.0, 0.0),
])
_GAUSS = np.array((-1.0 / _T0_EQ5_K**2, -1.0 / _T0_EQ4_K**2))  # (-1/width^2 of each)


class IceNodes:
    """:meth:`evaluate` for ``n`` nodes."""

    def __init__(self, n: int) -> None:
        self._shape = (_COEF.shape[0], n)

    def evaluate(self, t: NDArray[np.float64]) -> NDArray[np.float64]:
        """The rows named above (``LN_INV_SQRT_T`` ... ``SLOPE_PER_K``) at the temperatures
        ``t`` [K], shape ``(n,)`` C-contiguous float64, finite and > 0 (unchecked: the
        plant's hot loop). A new array each call, from the eight functions and the
        product in one kernel call (:mod:`sims.compiled`, one pass over the nodes).

        Raises:
            ValueError: if ``t`` is not a C-contiguous float64 array of ``n`` values.
        """
        out = np.empty(self._shape)
        _kernels.node_terms(_kernels.ICE_BASIS, _COEF, _GAUSS, t, out)
        return out
