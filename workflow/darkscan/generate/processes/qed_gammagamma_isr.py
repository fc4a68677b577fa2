"""e+e- -> gamma gamma (gamma) with initial-state radiation: process ``gammagamma_isr``.

The background of the single-photon searches in which the second photon of an annihilation
escapes (into a gap between calorimeter regions or outside the calorimeter) and the radiation
off the beams makes the pair acollinear, so that the seen photon's energy no longer sits at
sqrt(s) / 2. Per event (CM frame, +z = e- beam; the events carry equal weights):

1. **ISR**: the energy fraction x radiated by the beams from the electron structure function
   to O(alpha) with soft-photon exponentiation (Kuraev & Fadin, Sov. J. Nucl. Phys. 41 (1985)
   466), times the Born ratio sigma(s') / sigma(s) = 1 / (1 - x) of annihilation into two photons
   in a fixed pair-frame angular range, on [0, x_max]; one photon carries x, with the eikonal
   (soft-photon) angular pattern about the beams
   (:func:`darkscan.generate.processes.tautau_qed.sample_isr_fraction` and ``sample_isr_cos``).
2. **Photon pair** in its rest frame: the Born distribution (1 + c^2) / (1 - c^2) about the beam
   axis for |c| < cos(pair_theta_min) (massless electrons), boosted against the ISR photon.
3. **Generator-level cuts**: one photon of the pair with CM energy above
   ``photon_energy_min`` and CM polar angle in [photon_theta_min, photon_theta_max] (the one the
   search sees), the other in one of the CM polar-angle bands ``lost_bands`` (where the detector
   can miss it). Events failing them are discarded and counted, so the weights of the kept
   events sum to the cross section of the cut phase space,
   sigma_Born(s, |c| < c0) x integral of f(x) / (1 - x) x (kept / drawn).

Not included: hard non-collinear three-photon configurations beyond the eikonal pattern (the
tree-level ``gammagammagamma`` process covers three resolved photons) and several ISR photons
(their sum is the one photon here).
"""

from __future__ import annotations

import logging
import math

import numpy as np

from darkscan.events import PDG_PHOTON, TruthEvents
from darkscan.generate.processes._twobody import sample_inverse_sine2_cos, sample_until
from darkscan.generate.processes.tautau_qed import isr_factor, sample_isr_cos, sample_isr_fraction
from darkscan.generate.registry import register_process
from darkscan.physics.constants import ELECTRON_MASS
from darkscan.physics.kinematics import boost, direction
from darkscan.physics.signals import sigma_gammagamma

log = logging.getLogger(__name__)

#: ISR photons softer than this (GeV) are not written (below every detector threshold)
SOFT_PHOTON = 1.0e-4


def born_ratio_gammagamma(x: np.ndarray, *, sqrt_s: float) -> np.ndarray:
    """sigma_Born(s (1 - x)) / sigma_Born(s) of e+e- -> gamma gamma in a fixed pair-frame range: 1 / (1 - x)."""
    return 1.0 / (1.0 - np.asarray(x, float))


def _check(photon_energy_min, photon_theta_min, photon_theta_max, lost_bands, pair_theta_min, x_max) -> None:
    if photon_energy_min <= 0.0:
        raise ValueError(f"gammagamma_isr: photon_energy_min must be > 0 GeV, got {photon_energy_min}")
    if not 0.0 <= photon_theta_min < photon_theta_max <= 180.0:
        raise ValueError(
            f"gammagamma_isr: need 0 <= photon_theta_min < photon_theta_max <= 180 deg, got "
            f"{photon_theta_min}, {photon_theta_max}"
        )
    if not lost_bands or any(len(b) != 2 or not 0.0 <= b[0] < b[1] <= 180.0 for b in lost_bands):
        raise ValueError(
            f"gammagamma_isr: lost_bands must be [[lo, hi], ...] with 0 <= lo < hi <= 180, got {lost_bands}"
        )
    if not 0.0 < pair_theta_min < 90.0:
        raise ValueError(f"gammagamma_isr: pair_theta_min must be in (0, 90) deg, got {pair_theta_min}")
    if not 0.0 < x_max < 1.0:
        raise ValueError(f"gammagamma_isr: x_max must be in (0, 1), got {x_max}")


def _born_cos(rng: np.random.Generator, n: int, c0: float) -> np.ndarray:
    """cos(theta) from (1 + c^2) / (1 - c^2) on [-c0, c0]: proposal 1 / (1 - c^2), accept (1 + c^2) / 2."""
    out = np.empty(n)
    todo = np.arange(n)
    while len(todo):
        c, _ = sample_inverse_sine2_cos(len(todo), rng, -c0, c0)
        keep = 2.0 * rng.random(len(todo)) < 1.0 + c * c
        out[todo[keep]] = c[keep]
        todo = todo[~keep]
    return out


def draw(
    rng: np.random.Generator, n: int, *, sqrt_s: float, pair_theta_min: float, x_min: float, x_max: float
) -> np.ndarray:
    """``n`` events before cuts: (n, 3, 4) photon 1, photon 2 of the pair and the ISR photon (CM)."""
    x = sample_isr_fraction(rng, n, sqrt_s=sqrt_s, x_min=x_min, x_max=x_max, ratio=born_ratio_gammagamma)
    e_isr = 0.5 * sqrt_s * x
    beam_beta = math.sqrt(1.0 - (2.0 * ELECTRON_MASS / sqrt_s) ** 2)
    p = np.zeros((n, 3, 4))
    p[:, 2, 0] = e_isr
    p[:, 2, 1:] = e_isr[:, None] * direction(sample_isr_cos(rng, n, beam_beta=beam_beta), rng.uniform(0, 2 * np.pi, n))
    half_mass = 0.5 * sqrt_s * np.sqrt(1.0 - x)
    k = direction(_born_cos(rng, n, math.cos(math.radians(pair_theta_min))), rng.uniform(0.0, 2.0 * np.pi, n))
    rest = np.zeros((n, 2, 4))
    rest[:, :, 0] = half_mass[:, None]
    rest[:, 0, 1:] = half_mass[:, None] * k
    rest[:, 1, 1:] = -half_mass[:, None] * k
    velocity = -p[:, 2, 1:] / (sqrt_s - e_isr)[:, None]
    p[:, :2] = boost(rest, velocity[:, None, :])
    return p


def _in_bands(theta: np.ndarray, bands) -> np.ndarray:
    inside = np.zeros(theta.shape, dtype=bool)
    for lo, hi in bands:
        inside |= (theta >= lo) & (theta <= hi)
    return inside


def passes(
    p: np.ndarray,
    *,
    photon_energy_min: float,
    photon_theta_min: float,
    photon_theta_max: float,
    lost_bands,
    lost_energy_min: float = 0.0,
):
    """Mask of events with one pair photon seen (energy, angle) and the other in a lost band (above
    ``lost_energy_min``); and the index (0 or 1) of the seen one."""
    theta = np.degrees(np.arccos(np.clip(p[:, :2, 3] / p[:, :2, 0], -1.0, 1.0)))
    seen = (p[:, :2, 0] > photon_energy_min) & (theta >= photon_theta_min) & (theta <= photon_theta_max)
    lost = _in_bands(theta, lost_bands) & (p[:, :2, 0] > lost_energy_min)
    first, second = seen[:, 0] & lost[:, 1], seen[:, 1] & lost[:, 0]
    return first | second, np.where(first, 0, 1)


@register_process(
    "gammagamma_isr",
    description="e+e- -> gamma gamma (ISR structure function): one photon seen, the other in lost CM bands",
)
def generate(
    n_events: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    photon_energy_min: float = 1.0,
    photon_theta_min: float = 30.0,
    photon_theta_max: float = 150.0,
    lost_bands: list | None = None,
    lost_energy_min: float = 0.0,
    pair_theta_min: float = 5.0,
    x_min: float = 0.0,
    x_max: float = 0.95,
    batch: int = 400_000,
) -> TruthEvents:
    """Generate e+e- -> gamma gamma (gamma_ISR) events with one photon seen and one in a lost band.

    Args:
        n_events: number of events kept (all pass the generator-level cuts).
        rng: random generator.
        sqrt_s: CM energy in GeV.
        photon_energy_min: minimum CM energy of the seen photon (GeV).
        photon_theta_min: minimum CM polar angle of the seen photon (deg).
        photon_theta_max: maximum CM polar angle of the seen photon (deg).
        lost_bands: CM polar-angle bands [[lo, hi], ...] (deg) of the other photon
            (default: within 20 deg of either beam).
        lost_energy_min: minimum CM energy of the other photon (GeV).
        pair_theta_min: pair-frame polar-angle cut of the Born distribution (deg, collinear divergence).
        x_min: smallest ISR energy fraction drawn: a generator-level cut, to be set where softer
            radiation cannot move the lost photon out of the seen photon's back-to-back image.
        x_max: largest ISR energy fraction (the pair mass stays above sqrt(s (1 - x_max))).
        batch: events drawn per iteration.

    Returns:
        TruthEvents with pdg [22 (seen), 22 (lost), 22 (ISR; 0 below 0.1 MeV)], equal weights in fb.
    """
    bands = [[0.0, 20.0], [160.0, 180.0]] if lost_bands is None else [list(map(float, b)) for b in lost_bands]
    _check(photon_energy_min, photon_theta_min, photon_theta_max, bands, pair_theta_min, x_max)
    if not 0.0 <= x_min < x_max:
        raise ValueError(f"gammagamma_isr: need 0 <= x_min < x_max, got {x_min}, {x_max}")
    cuts = dict(
        photon_energy_min=photon_energy_min,
        photon_theta_min=photon_theta_min,
        photon_theta_max=photon_theta_max,
        lost_bands=bands,
        lost_energy_min=lost_energy_min,
    )

    def draw_batch(size: int):
        p = draw(rng, size, sqrt_s=sqrt_s, pair_theta_min=pair_theta_min, x_min=x_min, x_max=x_max)
        ok, seen = passes(p, **cuts)

        def take(index: np.ndarray) -> np.ndarray:  # the seen photon first, then the lost one, the ISR one
            order = np.stack([seen[index], 1 - seen[index], np.full(len(index), 2)], axis=1)
            return np.take_along_axis(p[index], order[..., None], axis=1)

        return ok, take

    kept, trials = sample_until(n_events, draw_batch, batch=batch, first_acceptance=0.02, min_acceptance=1e-4)
    p = np.concatenate(kept) if kept else np.zeros((0, 3, 4))
    c0 = math.cos(math.radians(pair_theta_min))
    sigma = sigma_gammagamma(sqrt_s=sqrt_s, cos_min=-c0, cos_max=c0) * isr_factor(
        sqrt_s=sqrt_s, x_min=x_min, x_max=x_max, ratio=born_ratio_gammagamma
    )
    n = len(p)
    weight = np.full(n, sigma / max(trials, 1))
    pdg = np.full((n, 3), PDG_PHOTON, dtype=np.int32)
    soft = p[:, 2, 0] < SOFT_PHOTON
    pdg[soft, 2] = 0
    p[soft, 2] = 0.0
    if n:
        log.info("gammagamma_isr: sigma = %.5g fb (%d of %d drawn events kept)", weight.sum(), n, trials)
    return TruthEvents(pdg=pdg, p4=p, invisible=np.zeros((n, 4)), weight=weight)
