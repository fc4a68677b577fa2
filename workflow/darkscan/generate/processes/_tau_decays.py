"""Tau-pair spin correlations imposed on ``TauDecays:mode = 0`` events (``spin_correlations="reweight"``).

The decays of each tau are classified (:func:`decay_descriptors`), the polarimeter vectors of
the actual decays computed (:func:`_polarimeters`) and the tree-level e+e- -> gamma* -> tau+
tau- spin correlations imposed by accept-reject on the decay configurations
(:func:`apply_spin_correlations`); the physics is in :mod:`darkscan.physics.tau_spin` and is
described in :mod:`darkscan.generate.processes.tautau`.
"""

from __future__ import annotations

import numpy as np

from darkscan.physics import tau_spin
from darkscan.physics.constants import ELECTRON_MASS, MUON_MASS, TAU_MASS

_NEUTRINOS = (12, 14, 16)
_LEPTON_MASS = {11: ELECTRON_MASS, 13: MUON_MASS}
#: pi0, pi+, K_L, K_S, K0, K+: mesons whose currents are modelled by tau_spin.
_PSEUDOSCALARS = (111, 211, 130, 310, 311, 321)


def decay_descriptors(event: np.ndarray, tau: np.ndarray, pdg: np.ndarray, p4: np.ndarray, n_events: int):
    """Classify the tau decays for their polarimeters.

    Args:
        event: (M,) event index of each direct tau decay product, in record order.
        tau: (M,) 0 for products of the tau-, 1 for the tau+.
        pdg: (M,) their PDG ids.
        p4: (M, 4) their four-momenta (E, px, py, pz).
        n_events: number of events N.

    Returns:
        kind (N, 2) int64, p_a (N, 2, 4), p_b (N, 2, 4), lepton mass (N, 2), per tau-, tau+:
        kind 1: tau -> l nu nu (p_a = charged lepton); 2: tau -> P nu (p_a = meson);
        3: tau -> P1 P2 nu (p_a, p_b = mesons in record order); 0: anything else (no spin
        analysis, h = 0). Momenta and masses not used by a kind are zero.
    """
    n_groups = 2 * n_events
    key = 2 * np.asarray(event, dtype=np.int64) + tau
    absid = np.abs(pdg)
    is_nu = np.isin(absid, _NEUTRINOS)
    n_nu = np.bincount(key[is_nu], minlength=n_groups)
    others = np.flatnonzero(~is_nu)
    order = np.argsort(key[others], kind="stable")
    k_oth, rows = key[others][order], others[order]
    n_oth = np.bincount(k_oth, minlength=n_groups)
    rank = np.arange(len(k_oth)) - (np.cumsum(n_oth) - n_oth)[k_oth]
    first = np.zeros(n_groups, dtype=np.int64)
    second = np.zeros(n_groups, dtype=np.int64)
    first[k_oth[rank == 0]] = rows[rank == 0]
    second[k_oth[rank == 1]] = rows[rank == 1]
    id_a = np.where(n_oth >= 1, absid[first] if len(absid) else 0, 0)
    id_b = np.where(n_oth >= 2, absid[second] if len(absid) else 0, 0)
    lep = (n_oth == 1) & (n_nu == 2) & np.isin(id_a, tuple(_LEPTON_MASS))
    one = (n_oth == 1) & (n_nu == 1) & np.isin(id_a, _PSEUDOSCALARS)
    two = (n_oth == 2) & (n_nu == 1) & np.isin(id_a, _PSEUDOSCALARS) & np.isin(id_b, _PSEUDOSCALARS)
    kind = np.select([lep, one, two], [1, 2, 3], 0).astype(np.int64)
    p_a = np.zeros((n_groups, 4))
    p_b = np.zeros((n_groups, 4))
    p_a[kind > 0] = p4[first[kind > 0]]
    p_b[kind == 3] = p4[second[kind == 3]]
    m_lep = np.zeros(n_groups)
    for ident, mass in _LEPTON_MASS.items():
        m_lep[lep & (id_a == ident)] = mass
    return (
        kind.reshape(n_events, 2),
        p_a.reshape(n_events, 2, 4),
        p_b.reshape(n_events, 2, 4),
        m_lep.reshape(n_events, 2),
    )


def _polarimeters(kind, p_a, p_b, m_lep, p_tau, to_rest, tau_charge):
    """(N, 3) polarimeter vectors in the tau rest frames (axes of the tau-pair frame)."""
    n = len(kind)
    h = np.zeros((n, 3))
    m_tau = np.sqrt(np.maximum(p_tau[:, 0] ** 2 - (p_tau[:, 1:] ** 2).sum(1), 0.0))
    lep = kind == 1
    if lep.any():
        p_l = tau_spin.apply(to_rest[lep], p_a[lep])
        h[lep] = tau_spin.leptonic_polarimeter(p_l, m_tau=m_tau[lep], m_lepton=m_lep[lep], tau_charge=tau_charge)
    had = (kind == 2) | (kind == 3)
    if had.any():
        lam = to_rest[had]
        a = tau_spin.apply(lam, p_a[had])
        b = tau_spin.apply(lam, p_b[had])
        rest = np.zeros((int(had.sum()), 4))
        rest[:, 0] = m_tau[had]
        two = kind[had] == 3
        b[~two] = 0.0
        nu = rest - a - b
        current = a.copy()  # tau -> P nu: J = p_P
        if two.any():
            current[two] = tau_spin.two_meson_current(a[two], b[two])
        h[had] = tau_spin.hadronic_polarimeter(nu, current, m_tau=m_tau[had], tau_charge=tau_charge)
    return h


def apply_spin_correlations(
    p4: np.ndarray,
    tags: np.ndarray,
    invisible: np.ndarray,
    taus: np.ndarray,
    decays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    rng: np.random.Generator,
    *,
    sqrt_s: float,
) -> dict:
    """Impose the tau-pair spin correlations (and the V-A lepton spectra) on mode-0 events, in place.

    Accept-reject on the tau decay configurations of each event, the production (tau
    momenta, ISR/FSR photons) being kept; weight W = 1 + h-.C.h+ (module
    :mod:`darkscan.physics.tau_spin`), bound W_max = 1 + hmax- hmax+ >= W (the eigenvalues of
    C lie in [-1, 1]). Proposals per tau:

    * tau -> l nu nu: a fresh decay in the tau rest frame with the unpolarised Michel spectrum
      and an isotropic direction (:func:`tau_spin.sample_leptonic_decay`), hmax = 1. Pythia's
      own leptonic decay is discarded, because ``TauDecays:mode = 0`` decays taus with flat
      phase space (the 15xx matrix-element codes are only known to ``TauDecays:mode = 1``),
      which gives a softer lepton spectrum (<x> = 0.684 instead of 0.708). The neutrino sum
      is set to p_tau - p_l.
    * tau -> P nu, P1 P2 nu: Pythia's decay first, then rigid uniform random rotations of all
      its descendants in the tau rest frame; hmax = |h| (rotation invariant).
    * other decays: unchanged (h = 0).

    The proposals are isotropic and independent of the production, and W averages to 1 over
    them, so the accepted events follow |M_prod|^2 x W x (decay spectra) with the production
    kinematics and the normalisation unchanged; every Pythia event is used.

    Args:
        p4: (N, K, 4) visible four-momenta (modified in place).
        tags: (N, K) 1 (2) for descendants of the tau- (tau+), 0 otherwise.
        invisible: (N, 3, 4) neutrino sums per tag (modified in place).
        taus: (N, 2, 4) four-momenta of the decaying tau- and tau+.
        decays: (kind (N, 2), p_a (N, 2, 4), p_b (N, 2, 4), lepton mass (N, 2)) from
            :func:`_decay_descriptor`.
        rng: random numbers for the proposals and the accept-reject decisions.
        sqrt_s: CM energy (the beams are along z in the CM frame, e- along +z).

    Returns:
        Diagnostics: mean number of trials per event, mean and range of W over accepted events.
    """
    n = len(taus)
    kind, p_a, p_b, m_lep = decays
    pair = taus[:, 0] + taus[:, 1]
    to_pair = tau_spin.boost_to_rest(pair)
    t_minus = tau_spin.apply(to_pair, taus[:, 0])
    e_beam = 0.5 * sqrt_s
    b1 = tau_spin.apply(to_pair, np.tile([e_beam, 0.0, 0.0, e_beam], (n, 1)))[:, 1:]
    b2 = tau_spin.apply(to_pair, np.tile([e_beam, 0.0, 0.0, -e_beam], (n, 1)))[:, 1:]
    axis = b1 / np.linalg.norm(b1, axis=1)[:, None] - b2 / np.linalg.norm(b2, axis=1)[:, None]
    e_hat = axis / np.linalg.norm(axis, axis=1)[:, None]  # Collins-Soper axis (z without ISR pT)
    k_abs = np.linalg.norm(t_minus[:, 1:], axis=1)
    k_hat = t_minus[:, 1:] / k_abs[:, None]
    corr = tau_spin.spin_correlation_matrix(k_hat, e_hat, k_abs / t_minus[:, 0])
    m_tau = np.sqrt(np.maximum(taus[..., 0] ** 2 - (taus[..., 1:] ** 2).sum(-1), 0.0))  # (N, 2)

    to_rest = []  # lab -> pair frame -> tau rest frame, pure boosts
    h = np.zeros((n, 2, 3))
    for j, charge in ((0, -1), (1, 1)):
        lam = tau_spin.boost_to_rest(tau_spin.apply(to_pair, taus[:, j])) @ to_pair
        to_rest.append(lam)
        h[:, j] = _polarimeters(kind[:, j], p_a[:, j], p_b[:, j], m_lep[:, j], taus[:, j], lam, charge)
    lep = kind == 1  # (N, 2)
    h_max = np.where(lep, 1.0, np.linalg.norm(h, axis=2))
    w_max = 1.0 + h_max[:, 0] * h_max[:, 1]

    # Leptonic proposals: (mass, lepton mass) classes, sampled per trial.
    lepton_rest = np.zeros((n, 2, 4))
    lep_groups = {}
    for j in (0, 1):
        for ml in np.unique(m_lep[lep[:, j], j]):
            lep_groups[(j, float(ml))] = lep[:, j] & (m_lep[:, j] == ml)
    m_tau_ref = float(np.median(m_tau)) if n else TAU_MASS  # Pythia's tau width is negligible

    rot = np.tile(np.eye(3), (n, 2, 1, 1))
    rotated = np.zeros(n, dtype=bool)
    w_acc = np.ones(n)
    pending = np.arange(n)
    trials = 0
    first = True
    while len(pending):
        trials += len(pending)
        h_try = h[pending].copy()
        if not first:
            hadronic = ~lep[pending]
            r = tau_spin.random_rotations(rng, 2 * len(pending)).reshape(-1, 2, 3, 3)
            r[~hadronic] = np.eye(3)
            rot[pending] = r
            rotated[pending] = hadronic.any(axis=1)
            h_try = np.einsum("nkij,nkj->nki", r, h_try)
        for (j, ml), mask in lep_groups.items():
            idx = np.flatnonzero(mask[pending])
            if not len(idx):
                continue
            pl = tau_spin.sample_leptonic_decay(rng, len(idx), m_tau=m_tau_ref, m_lepton=ml)
            lepton_rest[pending[idx], j] = pl
            h_try[idx, j] = tau_spin.leptonic_polarimeter(
                pl, m_tau=m_tau_ref, m_lepton=ml, tau_charge=-1 if j == 0 else 1
            )
        w = tau_spin.spin_weight(h_try[:, 0], corr[pending], h_try[:, 1])
        if np.any(w > w_max[pending] + 1e-9) or np.any(w < -1e-9):
            raise RuntimeError("tau spin weight outside [0, W_max]")
        accepted = rng.random(len(pending)) * w_max[pending] < w
        w_acc[pending[accepted]] = w[accepted]
        pending = pending[~accepted]
        first = False

    for j in (0, 1):
        back = tau_spin.inverse_boost(to_pair) @ tau_spin.inverse_boost(
            tau_spin.boost_to_rest(tau_spin.apply(to_pair, taus[:, j]))
        )
        ev_lep = np.flatnonzero(lep[:, j])
        if len(ev_lep):
            new_lepton = tau_spin.apply(back[ev_lep], lepton_rest[ev_lep, j])
            sel = tags[ev_lep] == j + 1  # the charged lepton is the only visible descendant
            if not (sel.sum(axis=1) == 1).all():
                raise RuntimeError("leptonic tau decay with other than one visible product")
            block = p4[ev_lep]
            block[sel] = new_lepton
            p4[ev_lep] = block
            invisible[ev_lep, j + 1] = taus[ev_lep, j] - new_lepton
        ev_rot = np.flatnonzero(rotated & ~lep[:, j])
        if len(ev_rot):
            rot4 = np.zeros((len(ev_rot), 4, 4))
            rot4[:, 0, 0] = 1.0
            rot4[:, 1:, 1:] = rot[ev_rot, j]
            full = back[ev_rot] @ rot4 @ to_rest[j][ev_rot]
            sel = tags[ev_rot] == j + 1
            rows = np.nonzero(sel)
            block = p4[ev_rot]
            block[rows] = np.einsum("kij,kj->ki", full[rows[0]], block[rows])
            p4[ev_rot] = block
            invisible[ev_rot, j + 1] = tau_spin.apply(full, invisible[ev_rot, j + 1])
    return {
        "mean_trials": trials / max(n, 1),
        "mean_weight": float(w_acc.mean()) if n else 1.0,
        "weight_min": float(w_acc.min()) if n else 1.0,
        "weight_max": float(w_acc.max()) if n else 1.0,
    }
