"""Physical constants (PDG 2024, Review of Particle Physics, Phys. Rev. D 110 (2024) 030001)."""

ALPHA_EM = 1.0 / 137.035999084  # fine-structure constant at q^2 = 0 (PDG 2024)
ELECTRON_MASS = 0.51099895e-3  # GeV
MUON_MASS = 0.1056583755  # GeV
TAU_MASS = 1.77693  # GeV
GEV2_TO_FB = 0.3893793721e12  # (hbar c)^2 in GeV^2 fb  (0.3893793721 mb GeV^2)
BF_TAU_TO_MU_NU_NU = 0.1739  # PDG 2024, tau- -> mu- nubar_mu nu_tau
BF_TAU_TO_E_NU_NU = 0.1782  # PDG 2024, tau- -> e- nubar_e nu_tau
PION_MASS = 0.13957039  # GeV, charged pion (PDG 2024)
