"""QED e+e- -> gamma gamma gamma at tree level (massless electrons): process ``gammagammagamma``.

Matrix element (Berends & Kleiss, Nucl. Phys. B 186 (1981) 22, eq. for e+e- -> 3 gamma; also
Berends et al., Nucl. Phys. B 239 (1984) 395): with p- (p+) the e- (e+) momentum,
kappa_i = p-.k_i and kappa'_i = p+.k_i,

    1/4 sum |M|^2 = e^6 s sum_i kappa_i kappa'_i (kappa_i^2 + kappa'_i^2) / prod_j kappa_j kappa'_j .

Its soft-photon limit factorises onto the Born e+e- -> gamma gamma, 1/4 sum|M_2|^2 =
2 e^4 (u/t + t/u), with the eikonal factor e^2 2 p+.p- / (kappa_3 kappa'_3); this fixes the
normalisation and is checked numerically in tests/generate/test_qed3.py.

sigma = 1/(2s) 1/3! int dPhi_3 1/4 sum|M|^2 (three identical photons). Phase space: RAMBO
(Kleiss, Stirling, Ellis, Comput. Phys. Commun. 40 (1986) 359), flat, volume s/(256 pi^3) for
three massless particles. Generator-level cuts (CM frame): every photon with E > photon_energy_min
and polar angle in [photon_theta_min, photon_theta_max]. Points failing the cuts are discarded
and counted in the normalisation, so the weights (fb) of the kept events sum to the tree-level
cross section of the cut phase space (times ``xsec_scale``). The O(alpha^3) e+e- -> 3 gamma is
the part of gamma gamma(gamma) that can fake a three-photon signature.
"""

from __future__ import annotations

import logging

import numpy as np

from darkscan.events import PDG_PHOTON, CrossSection, TruthEvents
from darkscan.generate.processes._twobody import sample_until, weighted_xsec
from darkscan.generate.registry import register_process
from darkscan.physics.constants import ALPHA_EM, GEV2_TO_FB

log = logging.getLogger(__name__)


def phase_space_volume_3(sqrt_s: float) -> float:
    """Lorentz-invariant phase-space volume of three massless particles: s / (256 pi^3)."""
    return sqrt_s**2 / (256.0 * np.pi**3)


def rambo3(n: int, rng: np.random.Generator, sqrt_s: float) -> np.ndarray:
    """``n`` flat three-body massless CM configurations (RAMBO); returns (n, 3, 4) (E, px, py, pz)."""
    r = rng.random((n, 3, 4))
    c = 2.0 * r[..., 0] - 1.0
    phi = 2.0 * np.pi * r[..., 1]
    q0 = -np.log(np.maximum(r[..., 2] * r[..., 3], 1e-300))
    s_ = np.sqrt(1.0 - c * c)
    q = np.stack([q0, q0 * s_ * np.cos(phi), q0 * s_ * np.sin(phi), q0 * c], axis=-1)
    total = q.sum(axis=1)
    mass = np.sqrt(total[:, 0] ** 2 - (total[:, 1:] ** 2).sum(-1))
    b = -total[:, 1:] / mass[:, None]
    x = sqrt_s / mass
    gamma = total[:, 0] / mass
    a = 1.0 / (1.0 + gamma)
    bq = (b[:, None, :] * q[..., 1:]).sum(-1)
    p = np.empty_like(q)
    p[..., 0] = x[:, None] * (gamma[:, None] * q[..., 0] + bq)
    p[..., 1:] = x[:, None, None] * (q[..., 1:] + b[:, None, :] * (q[..., 0] + a[:, None] * bq)[..., None])
    return p


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a[..., 0] * b[..., 0] - (a[..., 1:] * b[..., 1:]).sum(-1)


def matrix_element_3gamma(p_minus: np.ndarray, p_plus: np.ndarray, photons: np.ndarray) -> np.ndarray:
    """Spin-averaged, polarisation-summed |M|^2 of e-(p_minus) e+(p_plus) -> 3 gamma (massless e).

    Args:
        p_minus: (4,) or (N, 4) e- four-momentum.
        p_plus: (4,) or (N, 4) e+ four-momentum.
        photons: (N, 3, 4) photon four-momenta.
    """
    s = _dot(p_minus + p_plus, p_minus + p_plus)
    kappa = _dot(np.asarray(p_minus)[..., None, :], photons)
    kappa_p = _dot(np.asarray(p_plus)[..., None, :], photons)
    e2 = 4.0 * np.pi * ALPHA_EM
    num = (kappa * kappa_p * (kappa**2 + kappa_p**2)).sum(-1)
    return e2**3 * s * num / np.prod(kappa * kappa_p, axis=-1)


def matrix_element_2gamma(p_minus: np.ndarray, p_plus: np.ndarray, photons: np.ndarray) -> np.ndarray:
    """Born 1/4 sum|M|^2 of e+e- -> gamma gamma: 2 e^4 (u/t + t/u); photons (N, 2, 4)."""
    t = -2.0 * _dot(np.asarray(p_minus), photons[:, 0])
    u = -2.0 * _dot(np.asarray(p_minus), photons[:, 1])
    return 2.0 * (4.0 * np.pi * ALPHA_EM) ** 2 * (u / t + t / u)


def beam_momenta(sqrt_s: float) -> tuple[np.ndarray, np.ndarray]:
    """CM e- (along +z) and e+ four-momenta, massless."""
    half = sqrt_s / 2.0
    return np.array([half, 0.0, 0.0, half]), np.array([half, 0.0, 0.0, -half])


def _passes(p: np.ndarray, energy_min: float, cos_lo: float, cos_hi: float) -> np.ndarray:
    cos = p[..., 3] / np.maximum(p[..., 0], 1e-300)
    return np.all((p[..., 0] > energy_min) & (cos >= cos_lo) & (cos <= cos_hi), axis=1)


def _cuts(photon_energy_min: float, photon_theta_min: float, photon_theta_max: float) -> tuple[float, float]:
    if not 0.0 < photon_theta_min < photon_theta_max < 180.0:
        raise ValueError(
            "gammagammagamma: need 0 < photon_theta_min < photon_theta_max < 180 deg (collinear divergence), "
            f"got {photon_theta_min}, {photon_theta_max}"
        )
    if photon_energy_min <= 0.0:
        raise ValueError(
            f"gammagammagamma: photon_energy_min must be > 0 GeV (soft divergence), got {photon_energy_min}"
        )
    return float(np.cos(np.radians(photon_theta_max))), float(np.cos(np.radians(photon_theta_min)))


@register_process(
    "gammagammagamma",
    description="e+e- -> 3 gamma, tree level (Berends-Kleiss), all photons above an energy and in a CM theta range",
)
def generate_gammagammagamma(
    n_events: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    photon_energy_min: float = 0.25,
    photon_theta_min: float = 10.0,
    photon_theta_max: float = 170.0,
    xsec_scale: float = 1.0,
    batch: int = 200_000,
) -> TruthEvents:
    """Generate weighted e+e- -> gamma gamma gamma events (CM frame).

    Args:
        n_events: number of events kept (all pass the generator-level cuts).
        rng: random generator.
        sqrt_s: CM energy in GeV.
        photon_energy_min: minimum CM energy of every photon (GeV, > 0).
        photon_theta_min: minimum CM polar angle of every photon (deg, > 0).
        photon_theta_max: maximum CM polar angle of every photon (deg, < 180).
        xsec_scale: K-factor multiplying the tree-level weights.
        batch: phase-space points drawn per iteration.

    Returns:
        TruthEvents with pdg [22, 22, 22] ordered by decreasing energy, weights in fb.
    """
    cos_lo, cos_hi = _cuts(photon_energy_min, photon_theta_min, photon_theta_max)
    if 3.0 * photon_energy_min >= sqrt_s:
        raise ValueError(
            f"gammagammagamma: photon_energy_min {photon_energy_min} GeV leaves no phase space at sqrt_s = {sqrt_s} GeV"
        )
    pm, pp = beam_momenta(sqrt_s)

    def draw(size: int):
        p = rambo3(size, rng, sqrt_s)
        return _passes(p, photon_energy_min, cos_lo, cos_hi), p.__getitem__

    kept, trials = sample_until(n_events, draw, batch=batch, first_acceptance=0.25)
    p = np.concatenate(kept) if kept else np.zeros((0, 3, 4))
    s = sqrt_s**2
    me = matrix_element_3gamma(pm, pp, p) if len(p) else np.zeros(0)
    weight = me / (2.0 * s) / 6.0 * phase_space_volume_3(sqrt_s) / max(trials, 1) * GEV2_TO_FB * float(xsec_scale)
    order = np.argsort(-p[..., 0], axis=1)
    p = np.take_along_axis(p, order[..., None], axis=1)
    n = len(weight)
    if n:
        log.info(
            "gammagammagamma: sigma = %.5g +- %.2g fb (%d of %d points kept, max/mean weight %.3g)",
            weight.sum(),
            weighted_xsec(weight).error_fb,
            n,
            trials,
            weight.max() / weight.mean(),
        )
    return TruthEvents(pdg=np.full((n, 3), PDG_PHOTON, dtype=np.int32), p4=p, invisible=np.zeros((n, 4)), weight=weight)


def xsec_gammagammagamma(
    *,
    sqrt_s: float,
    energy_min: float = 0.25,
    theta_min: float = 10.0,
    theta_max: float = 170.0,
    n: int = 400_000,
    seed: int = 1,
) -> CrossSection:
    """Monte Carlo tree-level sigma(e+e- -> 3 gamma) in fb for the generator-level cuts."""
    events = generate_gammagammagamma(
        n,
        np.random.default_rng(seed),
        sqrt_s=sqrt_s,
        photon_energy_min=energy_min,
        photon_theta_min=theta_min,
        photon_theta_max=theta_max,
    )
    return weighted_xsec(events.weight)
