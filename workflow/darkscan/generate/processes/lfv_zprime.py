"""e+e- -> e+- mu-+ Z' through a lepton-flavour-violating Z' coupling: process ``emu_zprime``.

**Model.** A vector Z' with the flavour-violating coupling g' Z'_a (e-bar gamma^a mu + mu-bar
gamma^a e) and no flavour-diagonal coupling, decaying invisibly: the signal of Belle II's LFV Z'
search (PRL 124 (2020) 141801, e+e- -> e+- mu-+ + invisible). No complete theory of such a boson
is assumed (the paper gives model-independent limits on efficiency x cross section); this is the
minimal tree-level model, used for the signal efficiency and the recoil-mass shape, and its cross
section is what the limit on sigma refers to.

**Matrix element** (:mod:`darkscan.physics.lepton_pair_v`): for e-(p1) e+(p2) -> e-(p3) mu+(p4)
Z'(k), the four diagrams at order e^2 g': s channel, gamma* -> mu- mu+ with mu- -> e- Z' and
gamma* -> e- e+ with e+ -> mu+ Z'; t channel (photon of momentum p1 - p3), the e+ turning into
the mu+ by emitting the Z' before or after the photon exchange. Massive spinors, the Z'
polarisation sum -g + k k / M^2, interference included. The t channel dominates (the e- is
scattered forward); the charge-conjugate final state e+ mu- Z' has the same cross section by CP
and is made by reflecting the momenta of half the events (tested against its own diagrams).

**Phase space** (CM frame, +z = e- beam): the electron's polar angle from a mixture of flat and
1/(1 - cos theta)^2 (the t-channel photon pole), its energy flat in the mass squared Q^2 of the
recoiling mu+ Z' system, and the mu+ Z' system decaying isotropically in its rest frame; the
weights are |M|^2 / (2 s) over the sampling density, in fb, and sum to the cross section of the
generator-level cuts.

**Generator-level cuts**: both leptons' CM polar angles in [lepton_theta_min, lepton_theta_max]
(degrees), to be set outside the selection's acceptance.
"""

from __future__ import annotations

import logging

import numpy as np

from darkscan.events import PDG_ELECTRON, PDG_MUON, TruthEvents
from darkscan.generate.registry import register_process
from darkscan.physics.constants import ELECTRON_MASS, GEV2_TO_FB, MUON_MASS
from darkscan.physics.kinematics import boost, direction, orthonormal_frame, two_body_momentum
from darkscan.physics.lepton_pair_v import Emission, me2_lepton_pair_v

log = logging.getLogger(__name__)

_CHUNK = 50_000
#: fraction of electron directions drawn flat in cos theta (the rest from the t-channel pole)
_FLAT_FRACTION = 0.3


def check_mass(mass: float | None, sqrt_s: float) -> float:
    """``mass`` as float if 0 < mass < sqrt_s - m_mu - m_e, else raise naming the range."""
    upper = sqrt_s - MUON_MASS - ELECTRON_MASS
    if mass is None or not 0.0 < float(mass) < upper:
        raise ValueError(
            f"emu_zprime: Z' mass {mass} GeV is outside the allowed range (0, {upper:.4f}) GeV at sqrt_s = {sqrt_s} GeV"
        )
    return float(mass)


def emu_emissions(coupling: float) -> dict[str, Emission]:
    """Emission places of e- e+ -> e-(p3) mu+(p4) Z' with an LFV coupling (internal muon next to the electron)."""
    return {
        "s_final": Emission(coupling, MUON_MASS, ELECTRON_MASS),
        "t_plus": Emission(coupling, MUON_MASS, ELECTRON_MASS),
    }


def _sample_cos(n: int, rng: np.random.Generator, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """cos theta on [lo, hi] from flat + 1/(1 - c)^2; returns (c, pdf)."""
    a, b = 1.0 / (1.0 - lo), 1.0 / (1.0 - hi)
    c_pole = 1.0 - 1.0 / (a + rng.random(n) * (b - a))
    c_flat = lo + rng.random(n) * (hi - lo)
    c = np.where(rng.random(n) < _FLAT_FRACTION, c_flat, c_pole)
    pdf = _FLAT_FRACTION / (hi - lo) + (1.0 - _FLAT_FRACTION) / ((b - a) * (1.0 - c) ** 2)
    return c, pdf


def _sample_q2(n: int, rng: np.random.Generator, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Q^2 on [lo, hi] from flat + 1/(Q^2 - m_e^2) (the propagator of the e+ line before the Z' vertex)."""
    shift = ELECTRON_MASS**2
    log_range = np.log((hi - shift) / (lo - shift))
    q2_log = shift + (lo - shift) * np.exp(rng.random(n) * log_range)
    q2_flat = lo + rng.random(n) * (hi - lo)
    q2 = np.where(rng.random(n) < _FLAT_FRACTION, q2_flat, q2_log)
    return q2, _FLAT_FRACTION / (hi - lo) + (1.0 - _FLAT_FRACTION) / (log_range * (q2 - shift))


def sample_phase_space(
    n: int, rng: np.random.Generator, *, sqrt_s: float, mass: float, cos_range: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Points e-(p3) mu+(p4) Z'(k) (CM, (n, 4) each) and dPhi_3 / (sampling density) per point (GeV^2)."""
    s = sqrt_s**2
    q2_lo, q2_hi = (MUON_MASS + mass) ** 2, (sqrt_s - ELECTRON_MASS) ** 2
    q2, pdf_q2 = _sample_q2(n, rng, q2_lo, q2_hi)
    e3 = (s + ELECTRON_MASS**2 - q2) / (2.0 * sqrt_s)
    p3_abs = np.sqrt(np.maximum(e3**2 - ELECTRON_MASS**2, 0.0))
    cos3, pdf_cos = _sample_cos(n, rng, *cos_range)
    d3 = direction(cos3, rng.uniform(0.0, 2.0 * np.pi, n))
    p3 = np.concatenate([e3[:, None], p3_abs[:, None] * d3], axis=1)
    # mu+ Z' system: isotropic two-body decay in its rest frame
    qm = np.sqrt(q2)
    p_star = two_body_momentum(qm, MUON_MASS, mass)
    frame = orthonormal_frame(rng.uniform(-1.0, 1.0, n), rng.uniform(0.0, 2.0 * np.pi, n))
    d4 = frame[2]
    mu = np.concatenate([np.sqrt(p_star**2 + MUON_MASS**2)[:, None], p_star[:, None] * d4], axis=1)
    zp = np.concatenate([np.sqrt(p_star**2 + mass**2)[:, None], -p_star[:, None] * d4], axis=1)
    beta = -(p3[:, 1:] / (sqrt_s - e3)[:, None])
    p4, k = boost(np.stack([mu, zp]), beta)
    dphi = p3_abs / (16.0 * np.pi**2 * sqrt_s) * p_star / (16.0 * np.pi**2 * qm) / (2.0 * np.pi)
    pdf = pdf_cos / (2.0 * np.pi) * pdf_q2 / (4.0 * np.pi)  # dOmega_3 dQ^2 dOmega*
    return p3, p4, k, dphi / pdf


def _beams(n: int, sqrt_s: float) -> tuple[np.ndarray, np.ndarray]:
    e = 0.5 * sqrt_s
    pz = np.sqrt(e * e - ELECTRON_MASS**2)
    return np.tile([e, 0.0, 0.0, pz], (n, 1)), np.tile([e, 0.0, 0.0, -pz], (n, 1))


def _cos_bounds(theta_min: float, theta_max: float) -> tuple[float, float]:
    if not 0.0 < theta_min < theta_max < 180.0:
        raise ValueError(
            f"emu_zprime: need 0 < lepton_theta_min < lepton_theta_max < 180, got {theta_min}, {theta_max}"
        )
    return float(np.cos(np.radians(theta_max))), float(np.cos(np.radians(theta_min)))


def weighted_emu_zprime(
    n_trials: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    mass: float,
    coupling: float = 1.0,
    lepton_theta_min: float = 10.0,
    lepton_theta_max: float = 170.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``n_trials`` phase-space points of e- mu+ Z' and their weights in fb (sum / n_trials = sigma_cut).

    Points whose mu+ falls outside the polar-angle cut get weight 0. Returns p3, p4, k, weight.
    """
    lo, hi = _cos_bounds(lepton_theta_min, lepton_theta_max)
    p3, p4, k, jacobian = sample_phase_space(n_trials, rng, sqrt_s=sqrt_s, mass=mass, cos_range=(lo, hi))
    cos4 = p4[:, 3] / np.linalg.norm(p4[:, 1:], axis=1)
    keep = (cos4 >= lo) & (cos4 <= hi)
    weight = np.zeros(n_trials)
    if keep.any():
        p1, p2 = _beams(int(keep.sum()), sqrt_s)
        me2 = me2_lepton_pair_v(
            p1, p2, p3[keep], p4[keep], k[keep], emissions=emu_emissions(coupling), m3=ELECTRON_MASS, m4=MUON_MASS
        )
        weight[keep] = me2 * jacobian[keep] / (2.0 * sqrt_s**2) * GEV2_TO_FB
    return p3, p4, k, weight


@register_process(
    "emu_zprime",
    description="e+e- -> e+- mu-+ Z' through an LFV Z' coupling (g' e-bar gamma mu), Z' invisible, tree level",
    max_mass=lambda sqrt_s: sqrt_s - MUON_MASS - ELECTRON_MASS,
)
def generate(
    n_events: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    mass: float | None = None,
    coupling: float = 1.0,
    lepton_theta_min: float = 10.0,
    lepton_theta_max: float = 170.0,
) -> TruthEvents:
    """Generate weighted e+e- -> e-+ mu+- Z' (Z' -> invisible) events, both charge combinations.

    Args:
        n_events: number of events.
        rng: random generator.
        sqrt_s: CM energy in GeV.
        mass: Z' mass in GeV, 0 < mass < sqrt_s - m_mu - m_e.
        coupling: g'; weights scale as g'^2.
        lepton_theta_min, lepton_theta_max: generator-level cut on both leptons' CM polar angles (degrees).

    Returns:
        TruthEvents with pdg (e-, mu+) or (mu-, e+), the Z' in ``invisible``; weights in fb summing
        to sigma(e+e- -> e+- mu-+ Z') inside the cuts (both charge combinations).
    """
    mass = check_mass(mass, sqrt_s)
    if n_events == 0:
        return TruthEvents(np.zeros((0, 2), np.int32), np.zeros((0, 2, 4)), np.zeros((0, 4)), np.zeros(0))
    rows = []  # (p3, p4, k, weight) of the kept points of each chunk
    kept = trials = 0
    while kept < n_events:
        chunk = min(_CHUNK, max(1000, 2 * (n_events - kept)))
        p3, p4, k, w = weighted_emu_zprime(
            chunk,
            rng,
            sqrt_s=sqrt_s,
            mass=mass,
            coupling=coupling,
            lepton_theta_min=lepton_theta_min,
            lepton_theta_max=lepton_theta_max,
        )
        idx = np.flatnonzero(w > 0.0)[: n_events - kept]
        # trials up to the last event used: the remaining points of the chunk are not part of the sample
        trials += chunk if kept + len(idx) < n_events else int(idx[-1]) + 1
        kept += len(idx)
        rows.append((p3[idx], p4[idx], k[idx], w[idx]))
    electron, muon, invisible, weight = (np.concatenate(column) for column in zip(*rows, strict=True))
    p4 = np.stack([electron, muon], axis=1)
    weight = 2.0 * (weight / trials)  # both charge combinations
    pdg = np.tile(np.array([PDG_ELECTRON, -PDG_MUON], dtype=np.int32), (n_events, 1))
    # e+ mu- Z': CP image of e- mu+ Z' (particles <-> antiparticles, momenta reflected)
    flip = rng.random(n_events) < 0.5
    pdg[flip] = np.array([PDG_MUON, -PDG_ELECTRON], dtype=np.int32)
    p4[flip, :, 1:] *= -1.0
    p4[flip] = p4[flip][:, ::-1]
    invisible[flip, 1:] *= -1.0
    log.info(
        "emu_zprime M=%g: sigma = %.4g fb (g' = %g), max/mean weight %.3g, %d trials",
        mass,
        weight.sum(),
        coupling,
        weight.max() / weight.mean(),
        trials,
    )
    return TruthEvents(pdg=pdg, p4=p4, invisible=invisible, weight=weight)
