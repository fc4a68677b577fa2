"""Leptophilic scalar S: e+e- -> mu+ mu- S with S radiated from the muons (tree level).

Interaction L = -y S mu-bar mu (a plain Yukawa coupling to muons; for a muon-philic scalar
with coupling proportional to the mass, y = xi m_mu / v with v = 246.22 GeV, see
:func:`yukawa_from_xi`; e.g. Batell, Freitas, Ismail, McKeen, PRD 98 (2018) 055026). The
electron coupling is neglected (suppressed by m_e/m_mu in the mass-proportional case), so
there is only final-state emission:

    M = (e^2 y / s) [vbar(p2) gamma^mu u(p1)] ubar(p3) [S(p3 + k) gamma_mu + gamma_mu S(-p4 - k)] v(p4),

S(q) = (qslash + m)/(q^2 - m^2). |M|^2 is squared and summed over spins numerically with
explicit spinors (masses kept), as in ``darkscan.physics.matrix_elements``; phase space comes
from ``darkscan.physics.xsec.sample_mumu_v``. The tests check the soft limit, where the
amplitude factorises into the Born amplitude times y 2 m_mu [1/(2 p3.k + M^2) + 1/(2 p4.k + M^2)].

Width: Gamma(S -> mu mu) = y^2 M/(8 pi) beta^3, beta = sqrt(1 - 4 m_mu^2/M^2).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from darkscan.events import CrossSection
from darkscan.physics.constants import ALPHA_EM, ELECTRON_MASS, MUON_MASS
from darkscan.physics.kinematics import METRIC, check_radiated_mass, mdot
from darkscan.physics.matrix_elements import GAMMA, bar, slash, spinors_u, spinors_v
from darkscan.physics.xsec import MuMuVEvents, cross_section, sample_mumu_v

HIGGS_VEV = 246.22  # GeV, (sqrt 2 G_F)^(-1/2), PDG 2024
_CHUNK = 4096


def yukawa_from_xi(xi: float, *, m_mu: float = MUON_MASS) -> float:
    """Yukawa y = xi m_mu / v for a scalar coupling proportionally to the lepton mass."""
    return float(xi) * m_mu / HIGGS_VEV


def width_mumu(y: float | np.ndarray, mass: float | np.ndarray, *, m_mu: float = MUON_MASS) -> np.ndarray:
    """Gamma(S -> mu+ mu-) = y^2 M beta^3/(8 pi) in GeV, zero below threshold."""
    mass = np.asarray(mass, float)
    beta = np.sqrt(np.clip(1.0 - 4.0 * m_mu**2 / mass**2, 0.0, None))
    return np.asarray(y, float) ** 2 * mass * beta**3 / (8.0 * np.pi)


def _propagator(q: np.ndarray, m: float) -> np.ndarray:
    s = slash(q)
    s[:, [0, 1, 2, 3], [0, 1, 2, 3]] += m
    return s / (mdot(q, q) - m * m)[:, None, None]


def _me2_chunk(p1, p2, p3, p4, k, y, m_e, m_mu):
    e2 = 4.0 * np.pi * ALPHA_EM
    j_e = np.einsum("nci,mij,ndj->ncdm", bar(spinors_v(p2, m_e)), GAMMA, spinors_u(p1, m_e), optimize=True) * METRIC
    row, col = bar(spinors_u(p3, m_mu)), spinors_v(p4, m_mu)
    s_a, s_b = _propagator(p3 + k, m_mu), _propagator(-p4 - k, m_mu)
    line = np.einsum("nai,nij,mjk,nbk->nabm", row, s_a, GAMMA, col, optimize=True)
    line += np.einsum("nai,mij,njk,nbk->nabm", row, GAMMA, s_b, col, optimize=True)
    amp = np.einsum("ncdm,nabm->ncdab", j_e, line, optimize=True)
    s = mdot(p1 + p2, p1 + p2)
    return (e2 * y / s) ** 2 * np.sum(amp.real**2 + amp.imag**2, axis=(1, 2, 3, 4)) / 4.0


def me2_mumu_s(p1, p2, p3, p4, k, *, y: float, m_e: float = ELECTRON_MASS, m_mu: float = MUON_MASS) -> np.ndarray:
    """Spin-averaged |M|^2 of e-(p1) e+(p2) -> mu-(p3) mu+(p4) S(k), S from the muon line.

    Args:
        p1, p2, p3, p4, k: (N, 4) four-momenta in a common frame; k^2 = M^2.
        y: Yukawa coupling of S to muons.
        m_e: electron mass in GeV.
        m_mu: muon mass in GeV.
    """
    n = len(p1)
    out = np.empty(n)
    for lo in range(0, n, _CHUNK):
        sl = slice(lo, lo + _CHUNK)
        out[sl] = _me2_chunk(p1[sl], p2[sl], p3[sl], p4[sl], k[sl], float(y), m_e, m_mu)
    return out


def weighted_mumu_s(
    n: int, rng: np.random.Generator, *, sqrt_s: float, mass: float, y: float, **sampling
) -> MuMuVEvents:
    """Importance-sampled e+e- -> mu mu S events weighted by the exact |M|^2; weights in fb."""
    ps = sample_mumu_v(n, rng, sqrt_s=sqrt_s, mass=mass, **sampling)
    me2 = me2_mumu_s(ps.p1, ps.p2, ps.p3, ps.p4, ps.k, y=y)
    return dataclasses.replace(ps, weight=ps.weight * me2)


def check_mass(mass, sqrt_s: float) -> float:
    """Return ``mass`` as float if 0 < mass < sqrt_s - 2 m_mu, else raise naming the range."""
    return check_radiated_mass(mass, sqrt_s, process="mumu_scalar", particle="scalar")


def sigma_mumu_scalar(
    mass: float, *, sqrt_s: float, rng: np.random.Generator, y: float = 1.0, n_events: int = 100_000
) -> CrossSection:
    """sigma(e+e- -> mu+ mu- S) in fb (Monte Carlo), for Yukawa ``y`` (sigma ~ y^2)."""
    mass = check_mass(mass, sqrt_s)
    ev = weighted_mumu_s(n_events, rng, sqrt_s=sqrt_s, mass=mass, y=y, radiative_return_fraction=0.1)
    return cross_section(ev.weight)
