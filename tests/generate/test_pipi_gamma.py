"""The e+e- -> pi+ pi- gamma (ISR) generator against the radiator formula."""

import numpy as np
import pytest
from scipy import integrate

from darkscan.generate.processes import pipi_gamma
from darkscan.generate.registry import get_process
from darkscan.physics import pion_form_factor as ff
from darkscan.physics.constants import ALPHA_EM, PION_MASS
from darkscan.physics.kinematics import boost, direction


def _radiator(x, cos):
    """W(s, x, theta) = (alpha / pi x) [(2 - 2x + x^2) / sin^2 - x^2 / 2] (massless electrons)."""
    return ALPHA_EM / (np.pi * x) * ((2 - 2 * x + x * x) / (1 - cos**2) - x * x / 2)


@pytest.mark.parametrize("x, cos", [(0.99, 0.0), (0.9, 0.8), (0.5, -0.6)])
def test_matrix_element_integrates_to_the_radiator_formula(x, cos):
    """Integrated over the pion angles (200k points), the trace |M|^2 gives dsigma / dx dcos =
    W(s, x, theta) sigma_pipi(s (1 - x)) for point-like pions."""
    sqrt_s, n = 10.58, 200_000
    s, energy, rng = sqrt_s**2, x * sqrt_s / 2, np.random.default_rng(1)
    q2 = s * (1 - x)
    k = np.zeros((n, 4))
    k[:, 0] = energy
    k[:, 1:] = energy * direction(np.full(n, cos), np.zeros(n))
    beta = np.sqrt(1 - 4 * PION_MASS**2 / q2)
    d = direction(rng.uniform(-1, 1, n), rng.uniform(0, 2 * np.pi, n))
    rest = np.zeros((n, 2, 4))
    rest[:, :, 0] = np.sqrt(q2) / 2
    rest[:, 0, 1:] = (np.sqrt(q2) / 2 * beta) * d
    rest[:, 1, 1:] = -rest[:, 0, 1:]
    pions = boost(rest, (-k[:, 1:] / (sqrt_s - energy))[:, None, :])
    half = sqrt_s / 2
    me2 = pipi_gamma.me2_isr(np.array([half, 0, 0, half]), np.array([half, 0, 0, -half]), k, pions[:, 0], pions[:, 1])
    # dPhi_3 = E beta dE dOmega_k dOmega* / (512 pi^5); dx = 2 dE / sqrt(s)
    dsigma = me2.mean() * 4 * np.pi / (2 * s) * energy * beta / (512 * np.pi**5) * 2 * np.pi * sqrt_s / 2
    sigma_point = np.pi * ALPHA_EM**2 * beta**3 / (3 * q2)
    assert dsigma == pytest.approx(_radiator(x, cos) * sigma_point, rel=5e-3)


@pytest.mark.parametrize(
    "sqrt_s, energies, theta",
    [(10.58, (4.9, 5.25), (30.0, 150.0)), (1.0195, (0.05, 0.35), (45.0, 135.0))],
    ids=["belle2-low-mass", "kloe"],
)
def test_cross_section_equals_the_radiator_integral(sqrt_s, energies, theta):
    """The weights sum to the integral of W sigma_pipi |F|^2 over the photon's energy and angle."""
    ev = get_process("pipi_gamma").generate(
        200_000,
        np.random.default_rng(2),
        sqrt_s=sqrt_s,
        photon_energy_min=energies[0],
        photon_energy_max=energies[1],
        photon_theta_min=theta[0],
        photon_theta_max=theta[1],
    )
    s, c0 = sqrt_s**2, np.cos(np.radians(theta[0]))

    def integrand(energy):
        x = 2 * energy / sqrt_s
        angular = (2 - 2 * x + x * x) * np.log((1 + c0) / (1 - c0)) - x * x / 2 * 2 * c0
        return ALPHA_EM / (np.pi * x) * angular * ff.sigma_pipi(s * (1 - x)) * 2 / sqrt_s

    e_rho = (s - ff.RHO_MASS**2) / (2 * sqrt_s)
    points = [e_rho] if energies[0] < e_rho < energies[1] else None
    reference = integrate.quad(integrand, *energies, limit=400, points=points)[0]
    error = np.sqrt((ev.weight**2).sum())
    assert abs(ev.weight.sum() - reference) < 3 * error and error < 0.01 * reference
    # the events: photon in its cuts, two pions on shell, four-momentum conserved
    assert ev.pdg[0].tolist() == [22, 211, -211]
    assert np.allclose(ev.p4.sum(axis=1), [sqrt_s, 0, 0, 0], atol=1e-9)
    pion_mass2 = ev.p4[:, 1:, 0] ** 2 - (ev.p4[:, 1:, 1:] ** 2).sum(-1)
    assert np.allclose(pion_mass2, PION_MASS**2, atol=1e-9)
    photon = ev.p4[:, 0]
    assert photon[:, 0].min() >= energies[0] and photon[:, 0].max() <= energies[1]
    cos = photon[:, 3] / photon[:, 0]
    assert np.abs(cos).max() <= c0 + 1e-12


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="photon_energy_min"):
        pipi_gamma.generate(10, np.random.default_rng(1), sqrt_s=1.0195, photon_energy_min=0.6)
    with pytest.raises(ValueError, match="photon_theta_min"):
        pipi_gamma.generate(10, np.random.default_rng(1), sqrt_s=1.0195, photon_theta_min=0.0)
