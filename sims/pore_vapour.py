"""The sample's pore-vapour network: its conductances, from the geometry and the pores.

Each layer's pore gas is a node of its own, described by ``psi = p sqrt(M / (2 pi R T))``
[kg/(m^2 s)], the one-way Hertz-Knudsen-Langmuir flux of that gas. In free-molecular
(Knudsen) flow the flux between two layers is ``kappa (psi_i - psi_j) / dz`` per unit
area, with ``kappa = (8/3)(porosity / tortuosity) r_pore`` [m], independent of T (thermal
transpiration included). A layer's ice gives its pores HKL over the pore walls, ``W
(psi_sat(T) - psi)``, ``W = A dz 2 phi / r_pore`` [m^2] (cylindrical pores: ``2 phi / r``
of wall per volume), so a thinner layer holds proportionally less surface and the model
converges with the layer count. Every conductance is a constant [m^2]: the chamber to the
top layer's centre (half a layer of pores in series with the surface's free exit, ``A``:
an icy surface gives at most bare ice's HKL flux), layer to layer, and the floor's (an
open fraction of the area, the same way to vacuum; 0: sealed). docs/physics.md, "Sample
and heater".
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def conductances_m2(area_m2: float, dz_m: float, layers: int, porosity: float,
                    tortuosity: float, pore_radius_m: float, bottom_open_fraction: float,
                    ) -> tuple[NDArray[np.float64], float]:
    """The network of a sample of ``layers`` layers ``dz_m`` thick over ``area_m2``:
    ``(kv, wall_m2)``, ``kv`` (``layers + 1`` conductances [m^2]: the chamber to layer 1,
    layer ``i`` to ``i + 1``, the floor to vacuum) and each layer's ice-to-pore exchange
    area ``wall_m2`` [m^2]. Unchecked (the sample's parameters are, by their schema)."""
    kappa_m = (8.0 / 3.0) * (porosity / tortuosity) * pore_radius_m
    top_m2 = 1.0 / (1.0 / area_m2 + 0.5 * dz_m / (area_m2 * kappa_m))
    kv = np.full(layers + 1, area_m2 * kappa_m / dz_m)
    kv[0] = top_m2
    kv[layers] = bottom_open_fraction * top_m2
    return kv, area_m2 * dz_m * 2.0 * porosity / pore_radius_m
