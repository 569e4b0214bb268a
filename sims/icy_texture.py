"""How the ice sits among the grains, and what that does to the sample's conductivity.

Three textures (``SampleParams.ice_texture``; docs/physics.md, "Ice texture"), each the
conductivity of regolith whose pores hold ice at saturation ``S`` (ice volume / pore
volume, 0..1), given the dry conductivity ``k_dry`` (Hayne et al. 2017 at the grain size),
the saturated-soil conductivity ``k_sat`` and the ice's ``k_ice`` (Klinger 1980):

- ``granular``: ice grains mixed with the regolith grains, not bonded to them (a scooped
  sample; nothing sinters at 40 K). Unbonded grains conduct through the same point
  contacts as the regolith's own: the mixture conducts ~2.35x the dry regolith ("by
  approximately 135 %" for ice grains > 20 um: the heating-rod modelling study cited
  here as Hao et al. 2024, whose abstract we could read but not the paper). We take the
  factor at the nominal sample's ice content (5.6 wt %: 0.0593 kg of ice per kg of
  regolith) and scale it linearly in that ratio ``r``, ``k = k_dry (1 + 1.35 r /
  0.0593)`` (a project assumption; 1 at no ice).
- ``pore_filling``: vapour-deposited ice lining the pores, conducting in parallel with the
  grains: ``k = k_dry + theta k_ice`` (the "linear addition of conductivities in the
  spirit of Siegler et al. (2012)" of Schorghofer's thermal models; Siegler et al. 2012,
  JGR 117, E03001, measured icy Mars regolith analogues; we read the implementation, not
  the paper).
- ``cemented``: ice bonding the grains at their contacts: Johansen's (1975) frozen-soil
  model (Farouki 1981, CRREL Monograph 81-1), ``k = k_dry + S (k_sat - k_dry)``: even a
  little ice raises the conductivity by orders of magnitude (Piqueux & Christensen 2009
  give that for cements in general). This was the plant's only law before.

With ``theta = S n`` (``n`` the porosity). Beyond full pores (``S > 1``) every texture
continues as the excess-ice law of :func:`sims.regolith.icy_conductivity_w_m_k` from its
own value at ``S = 1``. At 5.6 wt % and 100 K the three differ by ~60x (granular ~2.4x
dry, pore_filling and cemented ~150x). Validity: granular for ice grains > 20 um at the
nominal content (the source's); pore_filling and cemented for S <= 1, from laboratory
soils at 150-270 K and Mars pressures: extrapolated to 40-200 K in vacuum.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

TEXTURES = ("granular", "pore_filling", "cemented")
#: the granular mixture's conductivity over the dry regolith's at ``GRANULAR_RATIO_REF``
GRANULAR_FACTOR = 2.35
#: the ice-to-regolith mass ratio the factor is taken at (5.6 wt %)
GRANULAR_RATIO_REF = 0.056 / 0.944


def check(texture: str) -> str:
    """``texture`` if it is one of :data:`TEXTURES`.

    Raises:
        ValueError: naming the texture and the choices.
    """
    if texture not in TEXTURES:
        raise ValueError(f"ice_texture must be one of {', '.join(TEXTURES)}; got {texture!r}")
    return texture


def in_pores_w_m_k(texture: str, k_dry: Any, k_sat: Any, k_ice: Any, s: Any,
                   n: Any, a: Any) -> NDArray[np.float64]:
    """The conductivity [W/(m K)] of regolith with ice at pore saturation ``s`` (0..1)
    in the ``texture`` (unchecked: the plant's refresh), from the dry, saturated and ice
    conductivities [W/(m K)], the porosity ``n`` and the ice-to-bulk density ratio ``a``
    (``s n a`` is the ice-to-regolith mass ratio); arrays broadcast."""
    if texture == "cemented":
        return k_dry + s * (k_sat - k_dry)
    if texture == "pore_filling":
        return k_dry + (s * n) * k_ice
    return k_dry * (1.0 + (GRANULAR_FACTOR - 1.0) / GRANULAR_RATIO_REF * (s * n * a))
