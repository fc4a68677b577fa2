"""Tree-level |M|^2 of e-(p1) e+(p2) -> l-(p3) l'+(p4) V(k), V emitted from any lepton line.

The amplitude code of :mod:`darkscan.physics.matrix_elements` (chiral spinors for every spin
state, events last, numerical spin and polarisation sums) extended to the four places where a
vector V can leave the lepton lines of Bhabha-like scattering at order e^2 g:

* ``s_initial``: from the beam line of the s-channel diagram (initial-state emission);
* ``s_final``: from the produced pair l- l'+ of the s-channel diagram;
* ``t_minus``: from the e- -> l- line of the t-channel diagram (the photon of momentum
  p2 - p4 attaches to the e+ -> l'+ line);
* ``t_plus``: from the e+ -> l'+ line of the t-channel diagram (photon momentum p1 - p3).

Each place has its own coupling and the masses of the two internal fermions it can put next to
the row and the column spinor, so one function covers

* flavour-diagonal emission (all four places, internal masses equal to the external ones;
  with V a photon and l = l' = e: radiative Bhabha, checked against Berends-Kleiss in the tests);
* a lepton-flavour-violating V, g' (e-bar gamma mu + mu-bar gamma e) V: e- e+ -> e- mu+ V has
  only ``s_final`` (gamma* -> mu- mu+ with mu- -> e- V, or gamma* -> e- e+ with e+ -> mu+ V) and
  ``t_plus`` (the e+ turns into the mu+ by emitting V before or after the photon exchange);
  the internal muon sits next to the electron spinor on each line.

Relative sign: the t-channel topology connects (p1, p3) and (p2, p4) instead of (p1, p2) and
(p3, p4), an odd permutation of the external fermions, so it enters with a minus sign (Fermi
statistics; the tests check the convention on the Bhabha Born cross section).

The V polarisation sum is -g + k k / M^2 for a massive V (the k k term vanishes only where the
current is conserved, which a flavour-changing vertex between unequal masses is not), the two
transverse states for a massless one.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from darkscan.physics.constants import ALPHA_EM, ELECTRON_MASS
from darkscan.physics.kinematics import METRIC, mdot
from darkscan.physics.matrix_elements import (
    _chiral_bar,
    _chiral_current,
    _chiral_spinors,
    _contract,
    _emission_tensor,
    _polarisations,
    _Propagator,
    _slash_blocks,
)

_CHUNK = 4096
PLACES = ("s_initial", "s_final", "t_minus", "t_plus")


@dataclasses.dataclass(frozen=True)
class Emission:
    """V emission from one lepton line: its coupling and the two internal fermion masses (GeV).

    ``m_row`` is the mass of the internal fermion between V and the line's row spinor (the
    barred one: vbar(p2) of the beam or e+ line, ubar(p3) of the produced or e- line),
    ``m_col`` the one between V and its column spinor (u(p1) or v(p4)).
    """

    coupling: float
    m_row: float
    m_col: float


def _spinors(p1, p2, p3, p4, m_e, m3, m4):
    """vbar(p2), u(p1), ubar(p3), v(p4) in the chiral representation, (4, 2 spins, N) each."""
    return (
        _chiral_bar(_chiral_spinors(p2, m_e, True)),
        _chiral_spinors(p1, m_e, False),
        _chiral_bar(_chiral_spinors(p3, m3, False)),
        _chiral_spinors(p4, m4, True),
    )


def _polarisation_sum(k: np.ndarray, massive_longitudinal: bool) -> tuple[np.ndarray, np.ndarray]:
    """Polarisation vectors (4, P, N) and weights (P,) with sum_P w_P eps_P eps_P* = -g + k k / M^2."""
    eps, weight = _polarisations(k)
    if not massive_longitudinal or len(weight) == 2:
        return eps, weight
    m2 = mdot(k, k)
    k_over_m = (k / np.sqrt(m2)[:, None]).T[:, None]  # (4, 1, N)
    return np.concatenate([eps, k_over_m], axis=1), np.concatenate([weight, [1.0]])


def _amplitudes(p1, p2, p3, p4, k, places: dict, m_e: float, m3: float, m4: float, pol_vectors):
    """Helicity amplitudes [P, (s2, s1), (s3, s4), N] summed over the given emission places."""
    e2 = 4.0 * np.pi * ALPHA_EM
    vb2, u1, ub3, v4 = _spinors(p1, p2, p3, p4, m_e, m3, m4)
    pol = _slash_blocks(pol_vectors)
    n = len(p1)
    amp = 0.0
    if "s_final" in places:
        em = places["s_final"]
        c = em.coupling * e2 / mdot(p1 + p2, p1 + p2)
        tensor = _emission_tensor(ub3, v4, _Propagator(p3 + k, em.m_row, c), _Propagator(-p4 - k, em.m_col, c), pol)
        amp = amp + _contract(_chiral_current(vb2, u1), tensor)  # [P, (s2, s1), (s3, s4)]
    if "s_initial" in places:
        em = places["s_initial"]
        q = p3 + p4
        c = em.coupling * e2 / mdot(q, q)
        tensor = _emission_tensor(vb2, u1, _Propagator(k - p2, em.m_row, c), _Propagator(p1 - k, em.m_col, c), pol)
        amp = amp + _contract(_chiral_current(ub3, v4), tensor).transpose(0, 2, 1, 3)
    t_amp = 0.0
    if "t_plus" in places:
        em = places["t_plus"]
        q = p1 - p3
        c = em.coupling * e2 / mdot(q, q)
        tensor = _emission_tensor(vb2, v4, _Propagator(k - p2, em.m_row, c), _Propagator(-p4 - k, em.m_col, c), pol)
        a = _contract(_chiral_current(ub3, u1), tensor)  # [P, (s3, s1), (s2, s4)]
        t_amp = t_amp + a.reshape(-1, 2, 2, 2, 2, n).transpose(0, 3, 2, 1, 4, 5).reshape(-1, 4, 4, n)
    if "t_minus" in places:
        em = places["t_minus"]
        q = p2 - p4
        c = em.coupling * e2 / mdot(q, q)
        tensor = _emission_tensor(ub3, u1, _Propagator(p3 + k, em.m_row, c), _Propagator(p1 - k, em.m_col, c), pol)
        a = _contract(_chiral_current(vb2, v4), tensor)  # [P, (s2, s4), (s3, s1)]
        t_amp = t_amp + a.reshape(-1, 2, 2, 2, 2, n).transpose(0, 1, 4, 3, 2, 5).reshape(-1, 4, 4, n)
    return amp - t_amp


def me2_lepton_pair_v(
    p1: np.ndarray,
    p2: np.ndarray,
    p3: np.ndarray,
    p4: np.ndarray,
    k: np.ndarray,
    *,
    emissions: dict[str, Emission],
    m3: float,
    m4: float,
    m_e: float = ELECTRON_MASS,
) -> np.ndarray:
    """Spin-averaged |M|^2 of e-(p1) e+(p2) -> l-(p3) l'+(p4) V(k) at tree level (one photon exchanged).

    Args:
        p1, p2, p3, p4, k: (N, 4) four-momenta in any common frame; k^2 = M^2 sets the V mass.
        emissions: the places V is emitted from (keys of :data:`PLACES`) with their couplings
            (charge-like sign convention, e for a photon) and internal masses.
        m3: mass of l-; m4: mass of l'+.
        m_e: beam electron mass.

    Returns:
        (N,) 1/4 sum over all spins and V polarisations of |M|^2.
    """
    unknown = set(emissions) - set(PLACES)
    if unknown:
        raise ValueError(f"unknown emission places {sorted(unknown)}; allowed: {PLACES}")
    p1, p2, p3, p4, k = (np.ascontiguousarray(np.broadcast_to(p, np.shape(k)), float) for p in (p1, p2, p3, p4, k))
    n = len(k)
    out = np.empty(n)
    for lo in range(0, n, _CHUNK):
        sl = slice(lo, lo + _CHUNK)
        eps, weight = _polarisation_sum(k[sl], massive_longitudinal=True)
        amp = _amplitudes(p1[sl], p2[sl], p3[sl], p4[sl], k[sl], emissions, m_e, m3, m4, eps)
        out[sl] = weight @ (amp.real**2 + amp.imag**2).sum(axis=(1, 2)) / 4.0
    return out


def me2_bhabha_born(p1, p2, p3, p4, *, m_e: float = ELECTRON_MASS) -> np.ndarray:
    """1/4 sum |M|^2 of Bhabha scattering e-(p1) e+(p2) -> e-(p3) e+(p4), s and t channel, numerically.

    The same spinors, currents and relative sign as :func:`me2_lepton_pair_v`.
    """
    e2 = 4.0 * np.pi * ALPHA_EM
    p1, p2, p3, p4 = (np.ascontiguousarray(p, float) for p in (p1, p2, p3, p4))
    vb2, u1, ub3, v4 = _spinors(p1, p2, p3, p4, m_e, m_e, m_e)
    n = len(p1)
    lower = METRIC[:, None, None]
    j_beam, j_pair = _chiral_current(vb2, u1), _chiral_current(ub3, v4)  # (4, (s2, s1)), (4, (s3, s4))
    a_s = np.einsum("mpn,mqn->pqn", j_beam * lower, j_pair) * (e2 / mdot(p1 + p2, p1 + p2))
    j_e, j_p = _chiral_current(ub3, u1), _chiral_current(vb2, v4)  # (s3, s1), (s2, s4)
    a_t = np.einsum("mpn,mqn->pqn", j_e * lower, j_p) * (e2 / mdot(p1 - p3, p1 - p3))
    a_t = a_t.reshape(2, 2, 2, 2, n).transpose(2, 1, 0, 3, 4).reshape(4, 4, n)  # -> (s2, s1), (s3, s4)
    amp = a_s - a_t
    return (amp.real**2 + amp.imag**2).sum(axis=(0, 1)) / 4.0
