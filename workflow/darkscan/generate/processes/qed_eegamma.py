"""Radiative Bhabha scattering e+e- -> e+e- gamma at tree level: process ``eegamma``.

The background of the single-photon searches: a photon in the calorimeter and both leptons lost
down the beam pipe or outside the tracking and calorimeter acceptance.

**Matrix element** (massless leptons, all eight diagrams, s and t channel; Berends, Kleiss,
De Causmaecker, Gastmans, Troost and Wu, Phys. Lett. B 103 (1981) 124 and Nucl. Phys. B 206
(1982) 61). With e+(p+) e-(p-) -> e+(q+) e-(q-) gamma(k),
s = 2 p+.p-, s' = 2 q+.q-, t = -2 p+.q+, t' = -2 p-.q-, u = -2 p+.q-, u' = -2 p-.q+:

    1/4 sum |M|^2 = e^6 B W,
    B = [s s' (s^2 + s'^2) + t t' (t^2 + t'^2) + u u' (u^2 + u'^2)] / (s s' t t'),
    W = s / (p+.k p-.k) + s' / (q+.k q-.k) - t / (p+.k q+.k) - t' / (p-.k q-.k)
        + u / (p+.k q-.k) + u' / (p-.k q+.k).

W is the eikonal factor of the four charges and B tends to the Bhabha 1/4 sum |M|^2 / e^4 as
k -> 0. ``tests/generate/test_eegamma.py`` checks the formula against the eight Feynman
diagrams summed numerically over spins and polarisations (Dirac matrices, massive spinors).

**Lepton mass.** The leptons of this background go down the beam pipe, where t or t' reach
their kinematic minimum; the massless formula has a 1/t pole there that the electron mass cuts
off. Points are kept above the massive kinematic bound |t| > m_e^2 omega^2 / (E E'), with omega =
E - E' the energy the line loses (the leading logarithm of the equivalent-photon flux, e.g.
Budnev et al., Phys. Rep. 15 (1975) 181, eq. (D.4)); the non-logarithmic term the massless
formula misses is of order 1 / ln(|t|_max / |t|_min) ~ 5-10% of the cross section.

**Phase space and weights** (CM frame, +z = e- beam). The photon energy is drawn ~ 1/E in
[photon_energy_min, photon_energy_max], its cos(theta) uniformly in the CM range, then either
the e- direction (channel A, with probability 1/2) with 1 - cos(theta_e-) ~ 1/x (the t' pole)
in the forward cone, or the e+ direction (channel B) with 1 + cos(theta_e+) ~ 1/x in the
backward cone; the other lepton follows from momentum conservation. The weight is
|M|^2 / (2s) divided by the mixture density of both channels (multichannel sampling, Kleiss
and Pittau, Comput. Phys. Commun. 83 (1994) 141), so the weights of the kept events sum to
the tree-level cross section of the cut phase space (times ``xsec_scale``). Configurations with
the e- lost backward and the e+ forward (no t-channel enhancement) are not sampled.

**Generator-level cuts**: the photon's CM energy and polar angle, and both leptons lost: each
lepton's CM polar angle below ``lepton_theta_forward`` or above ``lepton_theta_backward``.
Only the 2 -> 3 process at O(alpha^3): no virtual corrections, one photon.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from darkscan.events import PDG_ELECTRON, PDG_PHOTON, TruthEvents
from darkscan.generate.processes._twobody import sample_until, weighted_xsec
from darkscan.generate.registry import register_process
from darkscan.physics.constants import ALPHA_EM, ELECTRON_MASS, GEV2_TO_FB

log = logging.getLogger(__name__)

#: Smallest 1 -/+ cos(theta) drawn for the lepton along its beam (the mass bound cuts above it).
U_MIN = 1e-14
#: Phase-space normalisation of dPhi_3 = C E_k E_l^2 dE_k dOmega_k dOmega_l / (4 s').
PHASE_SPACE_C = 1.0 / (2.0 * np.pi) ** 5


@dataclasses.dataclass(frozen=True)
class EegammaCuts:
    """Generator-level cuts of ``eegamma`` (CM frame, GeV and degrees)."""

    photon_energy_min: float
    photon_energy_max: float
    photon_theta_min: float
    photon_theta_max: float
    lepton_theta_forward: float
    lepton_theta_backward: float
    mass_bound: bool = True
    t_abs_min: float = 0.0  # |t|, |t'| above this (GeV^2; tests compare with flat phase space)

    def check(self, sqrt_s: float) -> None:
        """Raise ValueError naming the cut that leaves no phase space or breaks the formula."""
        if not 0.0 < self.photon_energy_min < self.photon_energy_max <= sqrt_s / 2.0:
            raise ValueError(
                "eegamma: need 0 < photon_energy_min < photon_energy_max <= sqrt_s / 2 = "
                f"{sqrt_s / 2:.6g} GeV, got {self.photon_energy_min}, {self.photon_energy_max}"
            )
        if not 0.0 < self.photon_theta_min < self.photon_theta_max < 180.0:
            raise ValueError(
                "eegamma: need 0 < photon_theta_min < photon_theta_max < 180 deg (collinear divergence), "
                f"got {self.photon_theta_min}, {self.photon_theta_max}"
            )
        if not (0.0 < self.lepton_theta_forward <= 180.0 and 0.0 <= self.lepton_theta_backward < 180.0):
            raise ValueError(
                "eegamma: need 0 < lepton_theta_forward <= 180 and 0 <= lepton_theta_backward < 180 deg, "
                f"got {self.lepton_theta_forward}, {self.lepton_theta_backward}"
            )

    @property
    def forward_u_max(self) -> float:
        """Largest 1 - cos(theta) of a lepton lost forward."""
        return 1.0 - float(np.cos(np.radians(self.lepton_theta_forward)))

    @property
    def backward_w_max(self) -> float:
        """Largest 1 + cos(theta) of a lepton lost backward."""
        return 1.0 + float(np.cos(np.radians(self.lepton_theta_backward)))


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a[..., 0] * b[..., 0] - (a[..., 1:] * b[..., 1:]).sum(-1)


def matrix_element(
    p_plus: np.ndarray,
    p_minus: np.ndarray,
    q_plus: np.ndarray,
    q_minus: np.ndarray,
    k: np.ndarray,
    *,
    pm_qm: np.ndarray | None = None,
    pp_qp: np.ndarray | None = None,
) -> np.ndarray:
    """Spin-averaged, polarisation-summed |M|^2 of e+ e- -> e+ e- gamma (massless leptons).

    Args:
        p_plus, p_minus: incoming e+ and e- four-momenta, (4,) or (N, 4).
        q_plus, q_minus: outgoing e+ and e- four-momenta, (N, 4).
        k: photon four-momentum, (N, 4).
        pm_qm: p-.q- where it is known more precisely than from the vectors (a lepton along its beam).
        pp_qp: p+.q+ likewise.
    """
    pm_qm = _dot(p_minus, q_minus) if pm_qm is None else pm_qm
    pp_qp = _dot(p_plus, q_plus) if pp_qp is None else pp_qp
    s = 2.0 * _dot(p_plus, p_minus)
    s1 = 2.0 * _dot(q_plus, q_minus)
    t, t1 = -2.0 * pp_qp, -2.0 * pm_qm
    u, u1 = -2.0 * _dot(p_plus, q_minus), -2.0 * _dot(p_minus, q_plus)
    kpp, kpm, kqp, kqm = (_dot(p, k) for p in (p_plus, p_minus, q_plus, q_minus))
    b = (s * s1 * (s * s + s1 * s1) + t * t1 * (t * t + t1 * t1) + u * u1 * (u * u + u1 * u1)) / (s * s1 * t * t1)
    w = s / (kpp * kpm) + s1 / (kqp * kqm) - t / (kpp * kqp) - t1 / (kpm * kqm) + u / (kpp * kqm) + u1 / (kpm * kqp)
    return (4.0 * np.pi * ALPHA_EM) ** 3 * b * w


def _directions(u: np.ndarray, phi: np.ndarray, sign: float) -> np.ndarray:
    """Unit vectors with 1 - sign cos(theta) = u (sign +1: about +z, -1: about -z)."""
    sin = np.sqrt(np.maximum(u * (2.0 - u), 0.0))
    return np.stack([sin * np.cos(phi), sin * np.sin(phi), sign * (1.0 - u)], axis=-1)


def _massless_along(q: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Energy of a massless particle along unit vector ``n`` recoiling against total ``q`` (on shell)."""
    return _dot(q, q) / (2.0 * (q[:, 0] - (n * q[:, 1:]).sum(-1)))


@dataclasses.dataclass
class _Points:
    k: np.ndarray
    q_minus: np.ndarray
    q_plus: np.ndarray
    u_minus: np.ndarray  # 1 - cos(theta_e-)
    w_plus: np.ndarray  # 1 + cos(theta_e+)

    def take(self, index: np.ndarray) -> _Points:
        """The points at ``index``."""
        return _Points(*(getattr(self, f.name)[index] for f in dataclasses.fields(_Points)))

    @staticmethod
    def concatenate(parts: list[_Points]) -> _Points:
        """The points of ``parts`` one after the other."""
        return _Points(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(_Points)))


def leptons_recoiling(
    k: np.ndarray, n_drawn: np.ndarray, channel_a: np.ndarray, sqrt_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """(e-, e+) four-momenta (massless) recoiling against photons ``k``: the drawn lepton (the e-
    in channel A, the e+ otherwise) along unit vectors ``n_drawn``, the other from momentum
    conservation."""
    n = len(k)
    total = np.zeros((n, 4))
    total[:, 0] = sqrt_s
    recoil = total - k
    e_drawn = _massless_along(recoil, n_drawn)
    drawn = e_drawn[:, None] * np.concatenate([np.ones((n, 1)), n_drawn], axis=1)
    other = recoil - drawn
    return np.where(channel_a[:, None], drawn, other), np.where(channel_a[:, None], other, drawn)


def truth_events(points: _Points, weight: np.ndarray, process: str) -> TruthEvents:
    """Radiative Bhabha events (pdg e-, e+, photon) of ``points`` with weights in fb."""
    n = len(weight)
    if n:
        log.info(
            "%s: sigma = %.5g +- %.2g fb (%d events, max/mean weight %.3g)",
            process,
            weight.sum(),
            weighted_xsec(weight).error_fb,
            n,
            weight.max() / weight.mean(),
        )
    p4 = np.stack([points.q_minus, points.q_plus, points.k], axis=1) if n else np.zeros((0, 3, 4))
    pdg = np.tile(np.array([PDG_ELECTRON, -PDG_ELECTRON, PDG_PHOTON], dtype=np.int32), (n, 1))
    return TruthEvents(pdg=pdg, p4=p4, invisible=np.zeros((n, 4)), weight=weight)


def _photon(n: int, rng: np.random.Generator, cuts: EegammaCuts) -> tuple[np.ndarray, float]:
    """Photons ~ dE / E x dcos x dphi; returns (n, 4) and the density's constant ln(Emax/Emin) dcos 2 pi."""
    log_range = np.log(cuts.photon_energy_max / cuts.photon_energy_min)
    energy = cuts.photon_energy_min * np.exp(rng.random(n) * log_range)
    c_lo, c_hi = np.cos(np.radians(cuts.photon_theta_max)), np.cos(np.radians(cuts.photon_theta_min))
    c = c_lo + (c_hi - c_lo) * rng.random(n)
    phi = 2.0 * np.pi * rng.random(n)
    s_ = np.sqrt(1.0 - c * c)
    k = energy[:, None] * np.stack([np.ones(n), s_ * np.cos(phi), s_ * np.sin(phi), c], axis=-1)
    return k, float(log_range * (c_hi - c_lo) * 2.0 * np.pi)


def _sample_points(n: int, rng: np.random.Generator, sqrt_s: float, cuts: EegammaCuts) -> tuple[_Points, np.ndarray]:
    """Phase-space points of both channels; returns them and a mask of channel A (e- drawn)."""
    k, _ = _photon(n, rng, cuts)
    channel_a = rng.random(n) < 0.5
    u_max = np.where(channel_a, cuts.forward_u_max, cuts.backward_w_max)
    x = U_MIN * np.exp(rng.random(n) * np.log(u_max / U_MIN))
    phi = 2.0 * np.pi * rng.random(n)
    n_drawn = np.where(channel_a[:, None], _directions(x, phi, 1.0), _directions(x, phi, -1.0))
    q_minus, q_plus = leptons_recoiling(k, n_drawn, channel_a, sqrt_s)
    half = sqrt_s / 2.0
    # 1 -/+ cos of the lepton that followed from momentum conservation, from p.q (no cancellation)
    p_plus = np.array([half, 0.0, 0.0, -half])
    p_minus = np.array([half, 0.0, 0.0, half])
    w_plus = np.where(channel_a, _dot(p_plus, q_plus) / (half * q_plus[:, 0]), x)
    u_minus = np.where(channel_a, x, _dot(p_minus, q_minus) / (half * q_minus[:, 0]))
    return _Points(k, q_minus, q_plus, u_minus, w_plus), channel_a


def _lost(one_minus_cos: np.ndarray, one_plus_cos: np.ndarray, cuts: EegammaCuts) -> np.ndarray:
    return (one_minus_cos <= cuts.forward_u_max) | (one_plus_cos <= cuts.backward_w_max)


def _mixture_density(points: _Points, sqrt_s: float, cuts: EegammaCuts) -> np.ndarray:
    """Density of the two-channel mixture per unit dPhi_3 at ``points``."""
    _, photon_norm = _photon(0, np.random.default_rng(0), cuts)
    s1 = sqrt_s**2 - 2.0 * sqrt_s * points.k[:, 0]
    photon = 1.0 / (points.k[:, 0] * photon_norm)
    in_a = (points.u_minus >= U_MIN) & (points.u_minus <= cuts.forward_u_max)
    in_b = (points.w_plus >= U_MIN) & (points.w_plus <= cuts.backward_w_max)
    lepton_a = np.where(in_a, 1.0 / (points.u_minus * np.log(cuts.forward_u_max / U_MIN) * 2.0 * np.pi), 0.0)
    lepton_b = np.where(in_b, 1.0 / (points.w_plus * np.log(cuts.backward_w_max / U_MIN) * 2.0 * np.pi), 0.0)
    jac_a = 4.0 * s1 / (PHASE_SPACE_C * points.k[:, 0] * points.q_minus[:, 0] ** 2)
    jac_b = 4.0 * s1 / (PHASE_SPACE_C * points.k[:, 0] * points.q_plus[:, 0] ** 2)
    return 0.5 * photon * (lepton_a * jac_a + lepton_b * jac_b)


def _keep(points: _Points, sqrt_s: float, cuts: EegammaCuts) -> np.ndarray:
    """Points inside the cuts: both leptons lost, physical energies, above the mass bound of t, t'."""
    both_lost = _lost(points.u_minus, 2.0 - points.u_minus, cuts) & _lost(2.0 - points.w_plus, points.w_plus, cuts)
    physical = (points.q_minus[:, 0] > 0.0) & (points.q_plus[:, 0] > 0.0)
    if cuts.t_abs_min > 0.0:
        half = sqrt_s / 2.0
        physical &= (2.0 * half * points.q_minus[:, 0] * points.u_minus > cuts.t_abs_min) & (
            2.0 * half * points.q_plus[:, 0] * points.w_plus > cuts.t_abs_min
        )
    if not cuts.mass_bound:
        return both_lost & physical
    half = sqrt_s / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        e_m, e_p = points.q_minus[:, 0], points.q_plus[:, 0]
        t1_min = ELECTRON_MASS**2 * (half - e_m) ** 2 / (half * e_m)
        t_min = ELECTRON_MASS**2 * (half - e_p) ** 2 / (half * e_p)
        above = (2.0 * half * e_m * points.u_minus > t1_min) & (2.0 * half * e_p * points.w_plus > t_min)
    return both_lost & physical & above


def integrand(points: _Points, sqrt_s: float) -> np.ndarray:
    """1/(2s) x 1/4 sum |M|^2 in GeV^-4 (cross section per unit dPhi_3)."""
    half = sqrt_s / 2.0
    p_plus = np.array([half, 0.0, 0.0, -half])
    p_minus = np.array([half, 0.0, 0.0, half])
    me = matrix_element(
        p_plus,
        p_minus,
        points.q_plus,
        points.q_minus,
        points.k,
        pm_qm=half * points.q_minus[:, 0] * points.u_minus,
        pp_qp=half * points.q_plus[:, 0] * points.w_plus,
    )
    return me / (2.0 * sqrt_s**2)


def sample_weighted(
    n_events: int,
    rng: np.random.Generator,
    sqrt_s: float,
    cuts: EegammaCuts,
    *,
    flat: bool = False,
    batch: int = 200_000,
) -> tuple[_Points, np.ndarray]:
    """Kept points and their weights in GeV^-2 (``flat``: weights of dPhi_3 alone, for tests)."""
    cuts.check(sqrt_s)

    def draw(size: int):
        points, _ = _sample_points(size, rng, sqrt_s, cuts)
        return _keep(points, sqrt_s, cuts), lambda index: points.take(index)

    kept, trials = sample_until(n_events, draw, batch=batch, first_acceptance=0.2)
    points = _Points.concatenate(kept)
    value = np.ones(len(points.k)) if flat else integrand(points, sqrt_s)
    return points, value / _mixture_density(points, sqrt_s, cuts) / max(trials, 1)


@register_process(
    "eegamma",
    description="e+e- -> e+e- gamma (radiative Bhabha), tree level, photon in a CM range, both leptons lost",
)
def generate_eegamma(
    n_events: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    photon_energy_min: float = 0.5,
    photon_energy_max: float | None = None,
    photon_theta_min: float = 20.0,
    photon_theta_max: float = 160.0,
    lepton_theta_forward: float = 20.0,
    lepton_theta_backward: float = 160.0,
    xsec_scale: float = 1.0,
) -> TruthEvents:
    """Generate weighted radiative Bhabha events with both leptons lost (CM frame).

    Args:
        n_events: number of events (all pass the generator-level cuts).
        rng: random generator.
        sqrt_s: CM energy in GeV.
        photon_energy_min: minimum CM photon energy (GeV, > 0).
        photon_energy_max: maximum CM photon energy (GeV, default sqrt_s / 2).
        photon_theta_min: minimum CM photon polar angle (deg, > 0).
        photon_theta_max: maximum CM photon polar angle (deg, < 180).
        lepton_theta_forward: a lepton is lost forward below this CM polar angle (deg).
        lepton_theta_backward: a lepton is lost backward above this CM polar angle (deg).
        xsec_scale: K-factor multiplying the tree-level weights.

    Returns:
        TruthEvents with pdg [11, -11, 22], weights in fb.
    """
    cuts = EegammaCuts(
        float(photon_energy_min),
        float(sqrt_s / 2.0 if photon_energy_max is None else photon_energy_max),
        float(photon_theta_min),
        float(photon_theta_max),
        float(lepton_theta_forward),
        float(lepton_theta_backward),
    )
    points, weight = sample_weighted(n_events, rng, sqrt_s, cuts)
    return truth_events(points, weight * GEV2_TO_FB * float(xsec_scale), "eegamma")
