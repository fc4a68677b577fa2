"""e+e- -> pi+ pi- gamma with the photon from initial-state radiation: process ``pipi_gamma``.

The radiative-return background of the visible dark-photon searches in A' -> pi+ pi- (and the
peaking rho / omega structure under A' -> mu mu through pion misidentification).

**Matrix element** (tree level, ISR only, massless electrons): the photon is radiated off the
beams, the virtual photon of mass Q^2 = (q+ + q-)^2 makes the pion pair through the scalar-QED
current e F_pi(Q^2) (q+ - q-)^mu, with the form factor of :mod:`darkscan.physics.pion_form_factor`.
The spin- and polarisation-summed |M|^2 is the trace
-sum_nu g_nu,nu Tr[G^nu p-slash_- Gbar^nu p-slash_+] e^6 |F|^2 / Q^4 with
G^nu = J-slash (p_- - k)-slash gamma^nu / (-2 p_-.k) + gamma^nu (k - p_+)-slash J-slash / (-2 p_+.k),
J = q+ - q-, evaluated numerically with the Dirac matrices of
:mod:`darkscan.physics.matrix_elements`. Integrated over the pion angles it equals the radiator
formula dsigma / dx dcos(theta) = (alpha / pi x) [(2 - 2x + x^2) / sin^2(theta) - x^2 / 2]
sigma_pipi(s (1 - x)), x = 2 E_gamma / sqrt(s) (e.g. Binner, Kuehn and Melnikov, Phys. Lett. B
459 (1999) 279), which ``tests/generate/test_pipi_gamma.py`` checks.

**Phase space and weights** (CM frame, +z = e- beam): the photon energy from a mixture of dE / E
and a Breit-Wigner in Q^2 at the rho, its cos(theta) ~ 1 / sin^2 in the CM range, the pion
direction uniform in the pi pi rest frame; weights |M|^2 / (2s) dPhi_3 / pdf in fb, summing to
the cross section of the cut phase space. Not included: final-state radiation off the pions,
virtual corrections, two or more photons, the rho(1450) and rho(1700).
"""

from __future__ import annotations

import logging

import numpy as np

from darkscan.events import PDG_PHOTON, PDG_PION, TruthEvents
from darkscan.generate.processes._twobody import sample_inverse_sine2_cos
from darkscan.generate.registry import register_process
from darkscan.physics import pion_form_factor
from darkscan.physics.constants import ALPHA_EM, GEV2_TO_FB, PION_MASS
from darkscan.physics.kinematics import direction, two_body_decay
from darkscan.physics.matrix_elements import GAMMA, slash

log = logging.getLogger(__name__)

_METRIC = np.array([1.0, -1.0, -1.0, -1.0])
_CHUNK = 100_000
#: fraction of the photon energies drawn from the Breit-Wigner at the rho (the rest ~ dE / E)
RHO_SAMPLING_FRACTION = 0.6


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a[..., 0] * b[..., 0] - (a[..., 1:] * b[..., 1:]).sum(-1)


def me2_isr(p_minus: np.ndarray, p_plus: np.ndarray, k: np.ndarray, q_plus: np.ndarray, q_minus: np.ndarray):
    """Spin-averaged, polarisation-summed |M|^2 of e-(p_minus) e+(p_plus) -> pi+(q_plus) pi-(q_minus)
    gamma(k) with the photon from ISR, for point-like pions (F_pi = 1; multiply by |F_pi(Q^2)|^2).

    All arguments are (N, 4) (or (4,) for the beams); massless electrons.
    """
    n = len(k)
    p_minus, p_plus = np.broadcast_to(p_minus, (n, 4)), np.broadcast_to(p_plus, (n, 4))
    current = q_plus - q_minus
    q = q_plus + q_minus
    j_slash = slash(current)
    left = j_slash @ slash(p_minus - k) / (-2.0 * _dot(p_minus, k))[:, None, None]
    right = slash(k - p_plus) @ j_slash / (-2.0 * _dot(p_plus, k))[:, None, None]
    pm_slash, pp_slash = slash(p_minus), slash(p_plus)
    total = np.zeros(n)
    for nu in range(4):
        g = left @ GAMMA[nu] + GAMMA[nu] @ right
        g_bar = GAMMA[0] @ np.conj(np.swapaxes(g, 1, 2)) @ GAMMA[0]
        trace = np.einsum("nij,nji->n", g @ pm_slash @ g_bar, pp_slash)
        total += _METRIC[nu] * trace.real
    e2 = 4.0 * np.pi * ALPHA_EM
    return -total * e2**3 / _dot(q, q) ** 2 / 4.0


def _sample_photon_energy(
    n: int, rng: np.random.Generator, sqrt_s: float, e_min: float, e_max: float
) -> tuple[np.ndarray, np.ndarray]:
    """Photon energies from RHO_SAMPLING_FRACTION x Breit-Wigner in Q^2 + the rest ~ 1 / E; (E, pdf(E))."""
    s = sqrt_s**2
    log_range = np.log(e_max / e_min)
    soft = e_min * np.exp(rng.random(n) * log_range)
    # Q^2 = s - 2 sqrt(s) E: a Cauchy distribution in Q^2 at the rho, truncated to the range
    m2, mg = pion_form_factor.RHO_MASS**2, pion_form_factor.RHO_MASS * pion_form_factor.RHO_WIDTH
    q2_lo, q2_hi = s - 2.0 * sqrt_s * e_max, s - 2.0 * sqrt_s * e_min
    a_lo, a_hi = np.arctan((q2_lo - m2) / mg), np.arctan((q2_hi - m2) / mg)
    q2 = m2 + mg * np.tan(a_lo + rng.random(n) * (a_hi - a_lo))
    peak = (s - q2) / (2.0 * sqrt_s)
    energy = np.where(rng.random(n) < RHO_SAMPLING_FRACTION, peak, soft)
    q2_of_e = s - 2.0 * sqrt_s * energy
    pdf_bw = 2.0 * sqrt_s * mg / ((q2_of_e - m2) ** 2 + mg**2) / (a_hi - a_lo)
    pdf = RHO_SAMPLING_FRACTION * pdf_bw + (1.0 - RHO_SAMPLING_FRACTION) / (energy * log_range)
    return energy, pdf


def _events(n: int, rng: np.random.Generator, sqrt_s: float, e_range: tuple[float, float], cos_range):
    """Photons, pi+, pi- (n, 4) each and the weights (fb per event, for n events)."""
    energy, pdf_e = _sample_photon_energy(n, rng, sqrt_s, *e_range)
    cos, pdf_cos = sample_inverse_sine2_cos(n, rng, *cos_range)
    k = np.zeros((n, 4))
    k[:, 0] = energy
    k[:, 1:] = energy[:, None] * direction(cos, rng.uniform(0.0, 2.0 * np.pi, n))
    q2 = sqrt_s**2 - 2.0 * sqrt_s * energy
    beta = np.sqrt(np.clip(1.0 - 4.0 * PION_MASS**2 / q2, 0.0, None))
    pi_plus, pi_minus = two_body_decay(np.array([sqrt_s, 0.0, 0.0, 0.0]) - k, PION_MASS, PION_MASS, rng=rng)
    half = sqrt_s / 2.0
    me2 = me2_isr(np.array([half, 0, 0, half]), np.array([half, 0, 0, -half]), k, pi_plus, pi_minus)
    me2 *= np.abs(pion_form_factor.form_factor(q2)) ** 2
    # dPhi_3 = E beta dE dOmega_k dOmega* / (512 pi^5); pdf per dE dcos dphi dOmega*
    dphi3_over_pdf = energy * beta / (512.0 * np.pi**5) / (pdf_e * pdf_cos / (2.0 * np.pi) / (4.0 * np.pi))
    weight = me2 / (2.0 * sqrt_s**2) * dphi3_over_pdf * GEV2_TO_FB / max(n, 1)
    return k, pi_plus, pi_minus, weight


@register_process(
    "pipi_gamma",
    description="e+e- -> pi+ pi- gamma, photon from ISR (tree level), Gounaris-Sakurai pion form factor",
    radiative="one real ISR photon at tree level (O(alpha^3)); no FSR off the pions, no virtual corrections",
)
def generate(
    n_events: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    photon_energy_min: float = 0.1,
    photon_energy_max: float | None = None,
    photon_theta_min: float = 20.0,
    photon_theta_max: float = 160.0,
) -> TruthEvents:
    """Generate weighted e+e- -> pi+ pi- gamma (ISR) events.

    Args:
        n_events: number of events.
        rng: random generator.
        sqrt_s: CM energy in GeV.
        photon_energy_min: minimum CM photon energy (GeV, > 0).
        photon_energy_max: maximum CM photon energy (GeV; default: the pi pi threshold,
            (s - 4 m_pi^2) / (2 sqrt(s))).
        photon_theta_min: minimum CM photon polar angle (deg, > 0).
        photon_theta_max: maximum CM photon polar angle (deg, < 180).

    Returns:
        TruthEvents with pdg [22, 211, -211], weights in fb.
    """
    e_limit = (sqrt_s**2 - 4.0 * PION_MASS**2) / (2.0 * sqrt_s)
    e_max = e_limit if photon_energy_max is None else float(photon_energy_max)
    if not 0.0 < photon_energy_min < e_max <= e_limit:
        raise ValueError(
            f"pipi_gamma: need 0 < photon_energy_min < photon_energy_max <= {e_limit:.6g} GeV "
            f"(the pi pi threshold at sqrt_s = {sqrt_s} GeV), got {photon_energy_min}, {e_max}"
        )
    if not 0.0 < photon_theta_min < photon_theta_max < 180.0:
        raise ValueError(
            "pipi_gamma: need 0 < photon_theta_min < photon_theta_max < 180 deg (collinear divergence), "
            f"got {photon_theta_min}, {photon_theta_max}"
        )
    cos_range = (float(np.cos(np.radians(photon_theta_max))), float(np.cos(np.radians(photon_theta_min))))
    p4 = np.empty((n_events, 3, 4))
    weight = np.empty(n_events)
    for lo in range(0, n_events, _CHUNK):
        hi = min(lo + _CHUNK, n_events)
        k, pi_plus, pi_minus, w = _events(hi - lo, rng, sqrt_s, (photon_energy_min, e_max), cos_range)
        p4[lo:hi, 0], p4[lo:hi, 1], p4[lo:hi, 2] = k, pi_plus, pi_minus
        weight[lo:hi] = w * (hi - lo) / max(n_events, 1)
    if n_events:
        log.debug("pipi_gamma: sigma = %.4g fb, max/mean weight %.3g", weight.sum(), weight.max() / weight.mean())
    pdg = np.tile(np.array([PDG_PHOTON, PDG_PION, -PDG_PION], dtype=np.int32), (n_events, 1))
    return TruthEvents(pdg=pdg, p4=p4, invisible=np.zeros((n_events, 4)), weight=weight)
