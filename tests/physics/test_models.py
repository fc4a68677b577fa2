"""Theory models (darkscan.physics.models): the dark photon's coupling conversion and (g-2)_mu band."""

import numpy as np
import pytest

from darkscan.physics.constants import ALPHA_EM, MUON_MASS
from darkscan.physics.models import DELTA_A_MU, DELTA_A_MU_ERR, get_model


def _eps_for(delta_a: float, mass: float) -> float:
    """eps from Pospelov's closed limits of Delta a_mu = alpha/(2 pi) eps^2 F(m / m_mu):
    F -> 1 for m << m_mu and F -> 2 m_mu^2 / (3 m^2) for m >> m_mu."""
    f = 1.0 if mass < MUON_MASS else 2.0 * MUON_MASS**2 / (3.0 * mass**2)
    return float(np.sqrt(delta_a * 2.0 * np.pi / (ALPHA_EM * f)))


@pytest.mark.parametrize("mass", [1e-5, 30.0])
def test_dark_photon_gm2_band_in_the_light_and_heavy_limits(mass):
    low, high = get_model("dark_photon").reference_band(np.array([mass]))
    assert low[0] == pytest.approx(_eps_for(DELTA_A_MU - 2 * DELTA_A_MU_ERR, mass), rel=2e-3)
    assert high[0] == pytest.approx(_eps_for(DELTA_A_MU + 2 * DELTA_A_MU_ERR, mass), rel=2e-3)


def test_dark_photon_limit_scales_as_the_square_root_of_the_cross_section():
    model = get_model("dark_photon")
    eps = model.coupling_limit(np.array([4.0, 16.0]), np.array([4e6, 4e6]), model.branching("invisible", [1.0, 1.0]))
    np.testing.assert_allclose(eps, [1e-3, 2e-3])
