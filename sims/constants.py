"""Physical constants used by the simulation models (SI units throughout).

Every value carries its source. Molar masses are in kg/mol (not g/mol).
"""

from __future__ import annotations

# Molar gas constant, J/(mol K). CODATA 2018 exact value (SI 2019 redefinition).
R: float = 8.314462618

# Faraday constant, C/mol. CODATA 2018 (N_A * e, exact), rounded as in the project sources.
F: float = 96485.332

# Stefan-Boltzmann constant, W/(m^2 K^4). CODATA 2018 (exact, rounded to 10 digits).
STEFAN_BOLTZMANN: float = 5.670374419e-8

# Molar mass of water, kg/mol. IUPAC standard atomic weights; Murphy & Koop (2005) QJRMS 131:1539
# use 18.01528 g/mol.
M_H2O: float = 18.01528e-3

# Molar mass of hydrogen gas H2, kg/mol. IUPAC standard atomic weight of H (1.00794) x 2.
M_H2: float = 2.01588e-3

# Molar mass of oxygen gas O2, kg/mol. IUPAC standard atomic weight of O (15.9994) x 2.
# Note M_H2 + M_O2 / 2 == M_H2O (2.01588 + 15.9994 = 18.01528), so mass balances close.
M_O2: float = 31.9988e-3

# Triple point of water, K. Defining point of ITS-90 (exact by convention).
TRIPLE_POINT_K: float = 273.16

# Vapour pressure at the triple point, Pa. Wagner & Pruss (2002) J. Phys. Chem. Ref. Data 31:387
# (IAPWS-95); also Murphy & Koop (2005) QJRMS 131:1539.
TRIPLE_POINT_PA: float = 611.657

# Latent heat of fusion of ice Ih at 0 C, J/kg. Feistel & Wagner (2006) J. Phys. Chem. Ref. Data
# 35:1021 (IAPWS R10-06, 333.55 kJ/kg at the normal melting point).
LATENT_FUSION_J_KG: float = 333.55e3

# Standard pressure used in the electrolysis Nernst term, Pa (1 atm, by definition).
# Note: IUPAC's standard-state pressure is 1 bar = 1e5 Pa; the 1.229 V figure is usually
# quoted at 1 atm and 25 C, so this project uses 1 atm as the reference pressure.
P_STANDARD_PA: float = 101325.0
