"""Radiative Bhabha scattering with both leptons seen: process ``eegamma_seen``.

e+e- -> e+e- gamma with the photon and both leptons at large angles: the background of the
visible dark-photon searches in A' -> e+ e- with a tagged ISR photon, and, with a lepton
misidentified, of the e mu searches. The matrix element is ``eegamma``'s (all eight diagrams,
massless leptons; :func:`darkscan.generate.processes.qed_eegamma.matrix_element`).

**Phase space and weights** (CM frame, +z = e- beam): the photon energy from half dE / E and
half ds' / s' (s' the pair mass squared: the annihilation into a light pair has a 1 / s' pole), its
cos(theta) uniform in the CM range, then either the e- direction (channel A,
probability 1/2) or the e+ direction (channel B) from half flat and half the t-channel pole
1 / (1 -/+ cos)^2 within the lepton range; the other lepton follows from momentum conservation.
Weights are |M|^2 / (2s) over the two-channel mixture density (Kleiss and Pittau, Comput. Phys.
Commun. 83 (1994) 141), so that the kept events' weights sum to the tree-level cross section of
the cut phase space.

**Generator-level cuts**: the photon's CM energy and polar angle, both leptons' CM polar angles
in [lepton_theta_min, lepton_theta_max], the pair mass above ``pair_mass_min``, and the photon
at least ``photon_lepton_angle_min`` from each lepton (the collinear poles of final-state
radiation lie below it). Only the 2 -> 3 process at O(alpha^3).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from darkscan.events import TruthEvents
from darkscan.generate.processes._twobody import sample_until
from darkscan.generate.processes.qed_eegamma import (
    PHASE_SPACE_C,
    EegammaCuts,
    _Points,
    integrand,
    leptons_recoiling,
    truth_events,
)
from darkscan.generate.registry import register_process
from darkscan.physics.constants import GEV2_TO_FB


@dataclasses.dataclass(frozen=True)
class SeenCuts:
    """Generator-level cuts of ``eegamma_seen`` (CM frame, GeV and degrees)."""

    photon: EegammaCuts  # its lepton fields are unused
    lepton_theta_min: float
    lepton_theta_max: float
    photon_lepton_angle_min: float
    pair_mass_min: float

    def check(self, sqrt_s: float) -> None:
        """Raise ValueError naming the cut that leaves no phase space."""
        self.photon.check(sqrt_s)
        if not 0.0 < self.lepton_theta_min < self.lepton_theta_max < 180.0:
            raise ValueError(
                "eegamma_seen: need 0 < lepton_theta_min < lepton_theta_max < 180 deg, "
                f"got {self.lepton_theta_min}, {self.lepton_theta_max}"
            )
        if not 0.0 < self.pair_mass_min**2 < sqrt_s**2 - 2.0 * sqrt_s * self.photon.photon_energy_min:
            raise ValueError(
                f"eegamma_seen: pair_mass_min must be > 0 and leave phase space above photon_energy_min, "
                f"got {self.pair_mass_min}"
            )
        if not 1.0 <= self.photon_lepton_angle_min < 90.0:
            raise ValueError(
                "eegamma_seen: photon_lepton_angle_min must be in [1, 90) deg (below it lies the collinear "
                f"pole of radiation off the leptons), got {self.photon_lepton_angle_min}"
            )

    def energy_range(self, sqrt_s: float) -> tuple[float, float]:
        """The photon's CM energy range: its cuts and the pair mass above pair_mass_min."""
        e_pair = (sqrt_s**2 - self.pair_mass_min**2) / (2.0 * sqrt_s)
        return self.photon.photon_energy_min, min(self.photon.photon_energy_max, e_pair)

    @property
    def cos_range(self) -> tuple[float, float]:
        """The leptons' cos(theta) range."""
        return float(np.cos(np.radians(self.lepton_theta_max))), float(np.cos(np.radians(self.lepton_theta_min)))


def _pole_cos(n: int, rng: np.random.Generator, lo: float, hi: float, sign: float) -> np.ndarray:
    """cos on [lo, hi] from 1 / (1 - sign cos)^2 (sign +1: the e- t-channel pole, -1: the e+'s)."""
    a, b = (1.0 - sign * hi, 1.0 - sign * lo) if sign > 0 else (1.0 - sign * lo, 1.0 - sign * hi)
    x = 1.0 / (1.0 / a - rng.random(n) * (1.0 / a - 1.0 / b))
    return sign * (1.0 - x)


def _cos_density(cos: np.ndarray, lo: float, hi: float, sign: float) -> np.ndarray:
    """Density of half flat + half 1 / (1 - sign cos)^2 on [lo, hi] (zero outside)."""
    a, b = (1.0 - sign * hi, 1.0 - sign * lo) if sign > 0 else (1.0 - sign * lo, 1.0 - sign * hi)
    inside = (cos >= lo) & (cos <= hi)
    pole = 1.0 / (1.0 - sign * cos) ** 2 / (1.0 / a - 1.0 / b)
    return np.where(inside, 0.5 / (hi - lo) + 0.5 * pole, 0.0)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1), 1e-300)[:, None]


def _photon_energy_density(energy: np.ndarray, sqrt_s: float, cuts: SeenCuts) -> np.ndarray:
    """Density of half dE / E and half ds' / s' (s' = s - 2 sqrt(s) E, the pair mass squared,
    whose pole the annihilation into a light e+ e- pair makes) on the photon's energy range."""
    e_lo, e_hi = cuts.energy_range(sqrt_s)
    s = sqrt_s**2
    pair_lo, pair_hi = s - 2.0 * sqrt_s * e_hi, s - 2.0 * sqrt_s * e_lo
    pair = s - 2.0 * sqrt_s * energy
    return 0.5 / (energy * np.log(e_hi / e_lo)) + 0.5 * 2.0 * sqrt_s / (pair * np.log(pair_hi / pair_lo))


def _photon_momenta(n: int, rng: np.random.Generator, sqrt_s: float, cuts: SeenCuts) -> np.ndarray:
    e_lo, e_hi = cuts.energy_range(sqrt_s)
    s = sqrt_s**2
    pair_lo, pair_hi = s - 2.0 * sqrt_s * e_hi, s - 2.0 * sqrt_s * e_lo
    soft = e_lo * np.exp(rng.random(n) * np.log(e_hi / e_lo))
    light_pair = (s - pair_lo * np.exp(rng.random(n) * np.log(pair_hi / pair_lo))) / (2.0 * sqrt_s)
    energy = np.where(rng.random(n) < 0.5, soft, light_pair)
    c_lo, c_hi = np.cos(np.radians(cuts.photon.photon_theta_max)), np.cos(np.radians(cuts.photon.photon_theta_min))
    c = c_lo + (c_hi - c_lo) * rng.random(n)
    phi = 2.0 * np.pi * rng.random(n)
    sin = np.sqrt(1.0 - c * c)
    return energy[:, None] * np.stack([np.ones(n), sin * np.cos(phi), sin * np.sin(phi), c], axis=-1)


def _sample_points(n: int, rng: np.random.Generator, sqrt_s: float, cuts: SeenCuts) -> _Points:
    k = _photon_momenta(n, rng, sqrt_s, cuts)
    lo, hi = cuts.cos_range
    channel_a = rng.random(n) < 0.5
    flat = lo + (hi - lo) * rng.random(n)
    pole = np.where(channel_a, _pole_cos(n, rng, lo, hi, 1.0), _pole_cos(n, rng, lo, hi, -1.0))
    cos = np.where(rng.random(n) < 0.5, flat, pole)
    phi = 2.0 * np.pi * rng.random(n)
    sin = np.sqrt(np.clip(1.0 - cos**2, 0.0, None))
    n_drawn = np.stack([sin * np.cos(phi), sin * np.sin(phi), cos], axis=-1)
    q_minus, q_plus = leptons_recoiling(k, n_drawn, channel_a, sqrt_s)
    u_minus = 1.0 - q_minus[:, 3] / np.maximum(np.linalg.norm(q_minus[:, 1:], axis=1), 1e-300)
    w_plus = 1.0 + q_plus[:, 3] / np.maximum(np.linalg.norm(q_plus[:, 1:], axis=1), 1e-300)
    return _Points(k, q_minus, q_plus, u_minus, w_plus)


def _keep(points: _Points, cuts: SeenCuts) -> np.ndarray:
    lo, hi = cuts.cos_range
    keep = (points.q_minus[:, 0] > 0.0) & (points.q_plus[:, 0] > 0.0)
    cos_m, cos_p = 1.0 - points.u_minus, points.w_plus - 1.0
    keep &= (cos_m >= lo) & (cos_m <= hi) & (cos_p >= lo) & (cos_p <= hi)
    if cuts.photon_lepton_angle_min > 0.0:
        limit = np.cos(np.radians(cuts.photon_lepton_angle_min))
        photon = _unit(points.k[:, 1:])
        for lepton in (points.q_minus, points.q_plus):
            keep &= (photon * _unit(lepton[:, 1:])).sum(axis=1) < limit
    return keep


def _mixture_density(points: _Points, sqrt_s: float, cuts: SeenCuts) -> np.ndarray:
    """Density of the two-channel mixture per unit dPhi_3 at ``points``."""
    lo, hi = cuts.cos_range
    s1 = sqrt_s**2 - 2.0 * sqrt_s * points.k[:, 0]
    c_lo, c_hi = np.cos(np.radians(cuts.photon.photon_theta_max)), np.cos(np.radians(cuts.photon.photon_theta_min))
    photon = _photon_energy_density(points.k[:, 0], sqrt_s, cuts) / ((c_hi - c_lo) * 2.0 * np.pi)
    lepton_a = _cos_density(1.0 - points.u_minus, lo, hi, 1.0) / (2.0 * np.pi)
    lepton_b = _cos_density(points.w_plus - 1.0, lo, hi, -1.0) / (2.0 * np.pi)
    jac_a = 4.0 * s1 / (PHASE_SPACE_C * points.k[:, 0] * points.q_minus[:, 0] ** 2)
    jac_b = 4.0 * s1 / (PHASE_SPACE_C * points.k[:, 0] * points.q_plus[:, 0] ** 2)
    return 0.5 * photon * (lepton_a * jac_a + lepton_b * jac_b)


def sample_weighted(
    n_events: int,
    rng: np.random.Generator,
    sqrt_s: float,
    cuts: SeenCuts,
    *,
    flat: bool = False,
    batch: int = 200_000,
) -> tuple[_Points, np.ndarray]:
    """Kept points and their weights in GeV^-2 (``flat``: weights of dPhi_3 alone, for tests)."""
    cuts.check(sqrt_s)

    def draw(size: int):
        points = _sample_points(size, rng, sqrt_s, cuts)
        return _keep(points, cuts), lambda index: points.take(index)

    kept, trials = sample_until(n_events, draw, batch=batch, first_acceptance=0.3)
    points = _Points.concatenate(kept)
    value = np.ones(len(points.k)) if flat else integrand(points, sqrt_s)
    return points, value / _mixture_density(points, sqrt_s, cuts) / max(trials, 1)


@register_process(
    "eegamma_seen",
    description="e+e- -> e+e- gamma (radiative Bhabha), tree level, the photon and both leptons at large angles",
)
def generate(
    n_events: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    photon_energy_min: float = 0.5,
    photon_energy_max: float | None = None,
    photon_theta_min: float = 20.0,
    photon_theta_max: float = 160.0,
    lepton_theta_min: float = 15.0,
    lepton_theta_max: float = 165.0,
    photon_lepton_angle_min: float = 10.0,
    pair_mass_min: float = 0.1,
    xsec_scale: float = 1.0,
) -> TruthEvents:
    """Generate weighted radiative Bhabha events with both leptons seen (CM frame).

    Args:
        n_events: number of events (all pass the generator-level cuts).
        rng: random generator.
        sqrt_s: CM energy in GeV.
        photon_energy_min: minimum CM photon energy (GeV, > 0).
        photon_energy_max: maximum CM photon energy (GeV, default sqrt_s / 2).
        photon_theta_min: minimum CM photon polar angle (deg, > 0).
        photon_theta_max: maximum CM photon polar angle (deg, < 180).
        lepton_theta_min: minimum CM polar angle of both leptons (deg, > 0).
        lepton_theta_max: maximum CM polar angle of both leptons (deg, < 180).
        photon_lepton_angle_min: minimum angle between the photon and each lepton (deg).
        pair_mass_min: minimum e+ e- invariant mass (GeV, > 0; the massless matrix element has a
            pole where the pair is light).
        xsec_scale: K-factor multiplying the tree-level weights.

    Returns:
        TruthEvents with pdg [11, -11, 22], weights in fb.
    """
    photon = EegammaCuts(
        float(photon_energy_min),
        float(sqrt_s / 2.0 if photon_energy_max is None else photon_energy_max),
        float(photon_theta_min),
        float(photon_theta_max),
        90.0,
        90.0,
    )
    cuts = SeenCuts(
        photon, float(lepton_theta_min), float(lepton_theta_max), float(photon_lepton_angle_min), float(pair_mass_min)
    )
    points, weight = sample_weighted(n_events, rng, sqrt_s, cuts)
    return truth_events(points, weight * GEV2_TO_FB * float(xsec_scale), "eegamma_seen")
