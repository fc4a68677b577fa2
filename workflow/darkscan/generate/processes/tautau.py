"""e+e- -> tau+ tau- (gamma) with Pythia 8 (``pythia8mc``).

The hard process is ``WeakSingleBoson:ffbar2ffbar(s:gmZ)`` restricted to tau pairs, with
lepton ISR (``PDF:lepton``) and QED final-state radiation off the taus. Beams are
symmetric and collide along z in the CM frame with the e- along +z; the lab boost is the
detector module's job.

Cross section. Pythia's cross section is tree level (plus the ISR structure function), so
the sample is normalised to the Belle II Physics Book value, 0.919 nb at sqrt(s) = 10.58
GeV (E. Kou et al., PTEP 2019 123C01, table of e+e- cross sections), which includes
radiative corrections (KKMC). Pythia's own value is logged for comparison. For
``tau_decays="mumu"`` both taus are forced to mu nu nu and the cross section is multiplied
by BF(tau -> mu nu nu)^2.

Tau decays and their speed. Pythia's default ``TauDecays:mode = 1`` decays tau pairs with
full spin correlations: for every event the density matrix of each tau is computed with
the generic helicity-amplitude code ``HMETwoFermions2GammaZ2TwoFermions``, which contracts
complex 4x4 gamma matrices over all helicity combinations; with Z exchange included it
performs a double Lorentz contraction (the Z propagator's q^mu q^nu term) per helicity
configuration. Profiling (``perf``) shows 75 % of the time in ``calculateZME`` and the
Wave4/GammaMatrix operators. ``TauDecays:mode = 0`` is 20-100x faster but decays taus
isotropically AND with flat phase space: the decay channels carry the matrix-element codes
15xx, which only ``TauDecays:mode = 1`` knows, so ``ParticleDecays`` falls back to phase
space. For tau -> mu nu nu this gives a softer muon (<x> = E_mu / E_max = 0.684 in the tau
rest frame instead of the V-A (Michel) value 0.708; checked here against mode 1), besides
losing the spin correlations. Options (``spin_correlations``):

* ``True`` or ``"pythia"`` (default): ``TauDecays:mode = 1`` with ``WeakZ0:gmZmode = 1``
  (photon exchange only, in the hard process and in the tau-pair density matrix). At 10.58
  GeV the Z changes the rate and asymmetries at the per-mille to per-cent level
  (s / M_Z^2 = 1.3 %), which the normalisation to the Physics Book value absorbs. About
  175 events/s for tau_decays="mumu" (2-core machine, including extraction).
* ``"reweight"``: ``TauDecays:mode = 0`` (fast; gamma*/Z in the hard process), then
  :func:`apply_spin_correlations` imposes the tree-level e+e- -> gamma* -> tau+ tau- spin
  correlations (:mod:`darkscan.physics.tau_spin`; Tsai, Phys. Rev. D 4 (1971) 2821) by
  accept-reject on the decay configurations of each event with weight
  W = 1 + h-.C.h+ <= 1 + |h-||h+| <= 2, C computed in the tau-pair rest frame (ISR and FSR
  move it) and h the polarimeter vectors of the actual decays. Leptonic decays are redrawn
  from the V-A (Michel) spectrum, which also repairs the phase-space muon spectrum;
  tau -> (pi, K) nu and two-meson decays are rotated rigidly in the tau rest frame; other
  hadronic decays (three or more mesons) carry no spin information here (h = 0), and the
  hadronic spectra of mode 0 (phase space, no rho/a1 resonance shapes) are kept, so for
  ``tau_decays="all"`` with realistic hadronic spectra use ``"pythia"``. The rng passed to
  :func:`generate` drives the accept-reject, so the output is reproducible. Validated
  against ``"pythia"`` with both taus forced to mu nu nu (tests/generate/test_tautau.py):
  with 16k mode-1 and 150k reweighted events, <x_mu> = 0.3535(12) vs 0.3546(4),
  <h_k- h_k+> = 0.0049(6) vs 0.0048(2), corr(x-, x+) = 0.038(8) vs 0.038(3), <m_mumu> =
  3.003(14) vs 3.016(5) GeV (x = 2 E_mu / m_tautau in the tau-pair frame, h_k the
  longitudinal muon polarimeter); mode 0 gives 0.3434(4), 0.0002(2), 0.000(3), 2.890(4).
  About 3.6k events/s (20x mode 1; the tagged event-record extraction makes it about 35 %
  slower than ``"none"``).
* ``False`` or ``"none"``: ``TauDecays:mode = 0`` as is: no spin correlations and
  phase-space tau decay spectra (see above). About 5.5k events/s including extraction on
  the 2-core development machine (15k events/s on a quiet workstation).
"""

from __future__ import annotations

import logging
import time

import numpy as np

from darkscan.generate.events import TruthEvents
from darkscan.generate.registry import register_process
from darkscan.physics import tau_spin
from darkscan.physics.constants import BF_TAU_TO_MU_NU_NU, ELECTRON_MASS, MUON_MASS, TAU_MASS

log = logging.getLogger(__name__)

#: Belle II Physics Book (PTEP 2019 123C01), sigma(e+e- -> tau+ tau- (gamma)) at 10.58 GeV in nb,
#: including radiative corrections.
XSEC_TAUTAU_NB = 0.919
NB_TO_FB = 1.0e6
_NEUTRINOS = (12, 14, 16)
_NEUTRINO_IDS = frozenset((12, 14, 16, -12, -14, -16))
_LEPTON_MASS = {11: ELECTRON_MASS, 13: MUON_MASS}
#: pi0, pi+, K_L, K_S, K0, K+: mesons whose currents are modelled by tau_spin.
_PSEUDOSCALARS = (111, 211, 130, 310, 311, 321)
_MAX_FAILURES = 100


def ee_to_fermion_pair_settings(*, sqrt_s: float, fermion: int, seed: int, mhat_min: float) -> list[str]:
    """Pythia settings shared by every e+e- -> gamma*/Z -> f fbar process (tau tau, q qbar).

    e- along +z in the CM frame, lepton ISR from the electron structure function (ISR photons in
    the event record), parton showers on, Z/gamma* forced to ``fermion`` (PDG id) above ``mhat_min``.
    """
    return [
        "Print:quiet = on",
        "Next:numberCount = 0",
        "Next:numberShowEvent = 0",
        "Beams:idA = 11",  # e- along +z
        "Beams:idB = -11",
        "Beams:frameType = 1",
        f"Beams:eCM = {sqrt_s!r}",
        "PDF:lepton = on",
        "PartonLevel:ISR = on",
        "PartonLevel:FSR = on",
        "WeakSingleBoson:ffbar2ffbar(s:gmZ) = on",
        "23:onMode = off",
        f"23:onIfAny = {int(fermion)}",
        f"PhaseSpace:mHatMin = {mhat_min!r}",
        "Random:setSeed = on",
        f"Random:seed = {int(seed)}",
    ]


#: Accepted values of the ``spin_correlations`` option (True -> "pythia", False -> "none").
SPIN_MODES = ("pythia", "reweight", "none")


def spin_mode(spin_correlations: bool | str) -> str:
    """Normalise the ``spin_correlations`` option to one of :data:`SPIN_MODES`."""
    if spin_correlations is True:
        return "pythia"
    if spin_correlations is False or spin_correlations is None:
        return "none"
    if isinstance(spin_correlations, str) and spin_correlations.lower() in SPIN_MODES:
        return spin_correlations.lower()
    raise ValueError(f"spin_correlations must be True, False or one of {SPIN_MODES}, got {spin_correlations!r}")


def pythia_settings(*, sqrt_s: float, tau_decays: str, spin_correlations: bool | str, seed: int, mhat_min: float) -> list[str]:
    """Return the Pythia 8 settings for e+e- -> tau+ tau- (gamma).

    Args:
        sqrt_s: CM energy in GeV.
        tau_decays: ``"mumu"`` (both taus forced to mu nu nu) or ``"all"``.
        spin_correlations: ``True``/``"pythia"``: Pythia's spin correlations
            (``TauDecays:mode = 1``, photon exchange only); ``False``/``"none"`` and
            ``"reweight"``: isotropic decays (``TauDecays:mode = 0``), for ``"reweight"``
            corrected afterwards by :func:`apply_spin_correlations`.
        seed: Pythia random seed, 1 <= seed <= 900_000_000.
        mhat_min: lower limit on the tau-pair invariant mass after ISR (GeV).

    Returns:
        The settings strings, in the order they are read.
    """
    if tau_decays not in ("mumu", "all"):
        raise ValueError(f"tau_decays must be 'mumu' or 'all', got {tau_decays!r}")
    mode = spin_mode(spin_correlations)
    settings = ee_to_fermion_pair_settings(sqrt_s=sqrt_s, fermion=15, seed=seed, mhat_min=mhat_min)
    settings.append("TimeShower:QEDshowerByL = on")  # QED FSR off the taus
    if mode == "pythia":
        settings += ["TauDecays:mode = 1", "WeakZ0:gmZmode = 1"]
    else:
        settings += ["TauDecays:mode = 0"]
    if tau_decays == "mumu":
        settings += ["15:onMode = off", "15:onIfMatch = 16 13 -14"]
    return settings


def _make_pythia(settings: list[str]):
    import pythia8mc

    pythia = pythia8mc.Pythia("", False)  # no banner on stdout
    for line in settings:
        if not pythia.readString(line):
            raise RuntimeError(f"Pythia rejected the setting {line!r}")
    if not pythia.init():
        raise RuntimeError("Pythia initialisation failed for e+e- -> tau+ tau-")
    return pythia


def _final_state(event) -> tuple[list[tuple[int, float, float, float, float]], list[float]]:
    """Visible final-state particles and the summed neutrino four-momentum of one event (also used by qqbar)."""
    visible = []
    inv = [0.0, 0.0, 0.0, 0.0]
    for prt in event.particles():
        if prt.status() <= 0:
            continue
        ident = prt.id()
        e = prt.e()
        if abs(ident) in _NEUTRINOS:
            inv[0] += e
            inv[1] += prt.px()
            inv[2] += prt.py()
            inv[3] += prt.pz()
        elif e > 0.0:  # lepton beam remnants are zero-energy photons
            visible.append((ident, e, prt.px(), prt.py(), prt.pz()))
    return visible, inv


def _pack(visible: list[list[tuple]], invisible: list[list[float]], weight: float) -> TruthEvents:
    n = len(visible)
    counts = np.fromiter((len(v) for v in visible), dtype=np.int64, count=n)
    width = int(counts.max()) if n else 1
    flat = np.array([row for ev in visible for row in ev], dtype=np.float64).reshape(-1, 5)
    event_index = np.repeat(np.arange(n), counts)
    slot = np.arange(len(flat)) - np.repeat(np.cumsum(counts) - counts, counts)
    pdg = np.zeros((n, width), dtype=np.int32)
    p4 = np.zeros((n, width, 4), dtype=np.float64)
    pdg[event_index, slot] = flat[:, 0].astype(np.int32)
    p4[event_index, slot] = flat[:, 1:]
    return TruthEvents(
        pdg=pdg,
        p4=p4,
        invisible=np.asarray(invisible, dtype=np.float64).reshape(n, 4),
        weight=np.full(n, weight, dtype=np.float64),
    )


def _final_state_tagged(event) -> tuple[list[tuple], list[list[float]], list, list]:
    """Final state of one event, with each particle tagged by the tau it descends from.

    Returns:
        visible: rows (pdg, E, px, py, pz, tag) of the visible final-state particles, tag 1
            (2) for descendants of the decaying tau- (tau+), 0 otherwise (ISR/FSR photons).
        invisible: summed neutrino four-momenta per tag, [[E, px, py, pz]] * 3.
        taus: four-momenta of the decaying tau- and tau+ (None if absent).
        daughters: for each tau, its direct decay products as rows (pdg, E, px, py, pz).
    """
    visible = []
    inv = [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    tag = [0] * event.size()
    taus: list = [None, None]
    ranges = [(0, -1), (0, -1)]  # direct decay products of each tau: a contiguous index range
    last_direct = 1 << 62  # beyond the first tau's decay products every particle is a decay product
    daughters: list[list[tuple]] = [[], []]
    for i, prt in enumerate(event.particles()):
        status = prt.status()
        direct = False
        if i >= last_direct:
            if ranges[0][0] <= i <= ranges[0][1]:
                t, direct = 1, True
            elif ranges[1][0] <= i <= ranges[1][1]:
                t, direct = 2, True
            else:  # secondary decay (pi0 -> gamma gamma, ...): inherit from the mother
                t = tag[prt.mother1()]
            tag[i] = t
        elif status < 0:
            if prt.idAbs() == 15:
                d1 = prt.daughter1()
                if d1 > 0 and event[d1].statusAbs() == 91:  # the copy that decays
                    t = 1 if prt.id() == 15 else 2
                    ranges[t - 1] = (d1, prt.daughter2())
                    last_direct = min(last_direct, d1)
                    taus[t - 1] = (prt.e(), prt.px(), prt.py(), prt.pz())
                    tag[i] = t
            continue
        else:
            t = 0
        if status <= 0 and not direct:
            continue
        ident = prt.id()
        e = prt.e()
        px, py, pz = prt.px(), prt.py(), prt.pz()
        if direct:
            daughters[t - 1].append((ident, e, px, py, pz))
        if status <= 0:
            continue
        if ident in _NEUTRINO_IDS:
            acc = inv[t]
            acc[0] += e
            acc[1] += px
            acc[2] += py
            acc[3] += pz
        elif e > 0.0:  # lepton beam remnants are zero-energy photons
            visible.append((ident, e, px, py, pz, t))
    return visible, inv, taus, daughters


def _decay_descriptor(rows: list[tuple]) -> tuple[int, tuple, tuple, float]:
    """Classify one tau decay for its polarimeter: (kind, p_a, p_b, lepton mass).

    kind 1: tau -> l nu nu (p_a = charged lepton); 2: tau -> P nu (p_a = meson);
    3: tau -> P1 P2 nu (p_a, p_b = mesons); 0: anything else (no spin analysis, h = 0).
    """
    zero = (0.0, 0.0, 0.0, 0.0)
    others = [r for r in rows if abs(r[0]) not in _NEUTRINOS]
    n_nu = len(rows) - len(others)
    if len(others) == 1 and n_nu == 2 and abs(others[0][0]) in _LEPTON_MASS:
        return 1, others[0][1:], zero, _LEPTON_MASS[abs(others[0][0])]
    if len(others) == 1 and n_nu == 1 and abs(others[0][0]) in _PSEUDOSCALARS:
        return 2, others[0][1:], zero, 0.0
    if len(others) == 2 and n_nu == 1 and all(abs(r[0]) in _PSEUDOSCALARS for r in others):
        return 3, others[0][1:], others[1][1:], 0.0
    return 0, zero, zero, 0.0


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
            h_try[idx, j] = tau_spin.leptonic_polarimeter(pl, m_tau=m_tau_ref, m_lepton=ml, tau_charge=-1 if j == 0 else 1)
        w = tau_spin.spin_weight(h_try[:, 0], corr[pending], h_try[:, 1])
        if np.any(w > w_max[pending] + 1e-9) or np.any(w < -1e-9):
            raise RuntimeError("tau spin weight outside [0, W_max]")
        accepted = rng.random(len(pending)) * w_max[pending] < w
        w_acc[pending[accepted]] = w[accepted]
        pending = pending[~accepted]
        first = False

    for j in (0, 1):
        back = tau_spin.inverse_boost(to_pair) @ tau_spin.inverse_boost(tau_spin.boost_to_rest(tau_spin.apply(to_pair, taus[:, j])))
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


def _pack_tagged(visible: list[list[tuple]], invisible: list[list[list[float]]]):
    """Pack per-event rows into arrays: (TruthEvents pieces, tags, invisible per tag)."""
    n = len(visible)
    counts = np.fromiter((len(v) for v in visible), dtype=np.int64, count=n)
    width = int(counts.max()) if n else 1
    flat = np.array([row for ev in visible for row in ev], dtype=np.float64).reshape(-1, 6)
    event_index = np.repeat(np.arange(n), counts)
    slot = np.arange(len(flat)) - np.repeat(np.cumsum(counts) - counts, counts)
    pdg = np.zeros((n, width), dtype=np.int32)
    p4 = np.zeros((n, width, 4), dtype=np.float64)
    tags = np.zeros((n, width), dtype=np.int8)
    pdg[event_index, slot] = flat[:, 0].astype(np.int32)
    p4[event_index, slot] = flat[:, 1:5]
    tags[event_index, slot] = flat[:, 5].astype(np.int8)
    inv = np.asarray(invisible, dtype=np.float64).reshape(n, 3, 4)
    return pdg, p4, tags, inv


@register_process(
    "tautau",
    description="e+e- -> tau+ tau- (gamma) with Pythia 8, lepton ISR and QED FSR, normalised to the Belle II Physics Book",
    generator_name="pythia8",
    unweighted=True,
)
def generate(
    n_events: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    tau_decays: str = "mumu",
    spin_correlations: bool | str = True,
    xsec_nb: float = XSEC_TAUTAU_NB,
    mhat_min: float | None = None,
) -> TruthEvents:
    """Generate e+e- -> tau+ tau- (gamma) events with Pythia 8 in the CM frame.

    One Pythia instance is configured and seeded from ``rng`` per call.

    Args:
        n_events: number of events.
        rng: numpy generator; one integer drawn from it seeds Pythia, and for
            ``spin_correlations="reweight"`` it also drives the decay rotations and the
            accept-reject decisions (same seed -> identical events).
        sqrt_s: CM energy in GeV.
        tau_decays: ``"mumu"`` (both taus -> mu nu nu, cross section times BF^2) or ``"all"``.
        spin_correlations: ``True`` or ``"pythia"`` (default): Pythia's ``TauDecays:mode = 1``;
            ``"reweight"``: fast isotropic decays with the tau-pair spin correlations imposed
            afterwards (validated against ``"pythia"``, about as fast as ``False``);
            ``False`` or ``"none"``: isotropic decays, no spin correlations. See the module
            docstring.
        xsec_nb: total tau-pair cross section in nb used for the normalisation (default:
            Belle II Physics Book value at 10.58 GeV, including radiative corrections; pass
            the right value at other energies).
        mhat_min: lower limit on the tau-pair mass in GeV (default: threshold + 1 MeV, so
            that radiative return down to threshold is generated).

    Returns:
        Equal-weight events whose weights sum to the cross section (fb): visible final-state
        particles (muons, photons including ISR photons, hadrons for ``"all"``) and the
        neutrinos summed into ``invisible``.
    """
    events, _ = _generate(
        n_events,
        rng,
        sqrt_s=sqrt_s,
        tau_decays=tau_decays,
        spin_correlations=spin_correlations,
        xsec_nb=xsec_nb,
        mhat_min=mhat_min,
        keep_taus=False,
    )
    return events


def _generate(
    n_events: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    tau_decays: str,
    spin_correlations: bool | str,
    xsec_nb: float,
    mhat_min: float | None,
    keep_taus: bool = True,
) -> tuple[TruthEvents, np.ndarray | None]:
    """:func:`generate`, also returning the (N, 2, 4) tau-, tau+ four-momenta (for validation).

    With ``keep_taus=False`` and no spin reweighting the faster untagged extraction is used
    and None is returned instead of the taus.
    """
    if n_events < 0:
        raise ValueError(f"n_events must be >= 0, got {n_events}")
    if sqrt_s <= 2 * TAU_MASS:
        raise ValueError(f"sqrt_s = {sqrt_s} GeV is below the tau-pair threshold")
    if xsec_nb <= 0:
        raise ValueError(f"xsec_nb must be positive, got {xsec_nb}")
    mode = spin_mode(spin_correlations)
    if mode != "pythia" and tau_decays == "all":
        log.warning(
            "tautau: spin_correlations=%r uses TauDecays:mode = 0, whose hadronic tau decays have "
            "phase-space spectra (no rho/a1 shapes); use spin_correlations='pythia' where they matter", mode
        )
    mhat_min = 2 * TAU_MASS + 1e-3 if mhat_min is None else float(mhat_min)
    seed = int(rng.integers(1, 900_000_000))
    settings = pythia_settings(sqrt_s=sqrt_s, tau_decays=tau_decays, spin_correlations=mode, seed=seed, mhat_min=mhat_min)
    pythia = _make_pythia(settings)

    visible: list[list[tuple]] = []
    invisible: list[list[list[float]]] = []
    taus: list[list] = []
    descriptors: list[tuple] = []
    failures = 0
    tagged = keep_taus or mode == "reweight"
    start = time.perf_counter()
    while len(visible) < n_events:
        if not pythia.next():
            failures += 1
            if failures > _MAX_FAILURES:
                raise RuntimeError(f"Pythia failed {failures} times generating e+e- -> tau+ tau-")
            continue
        if not tagged:
            vis, inv1 = _final_state(pythia.event)
            visible.append(vis)
            invisible.append(inv1)
            continue
        vis, inv, tau_p, daughters = _final_state_tagged(pythia.event)
        if tau_p[0] is None or tau_p[1] is None:
            raise RuntimeError("e+e- -> tau+ tau- event without a decaying tau- and tau+")
        visible.append(vis)
        invisible.append(inv)
        taus.append(tau_p)
        descriptors.append((_decay_descriptor(daughters[0]), _decay_descriptor(daughters[1])))
    t_pythia = time.perf_counter() - start

    sigma_fb = xsec_nb * NB_TO_FB * (BF_TAU_TO_MU_NU_NU**2 if tau_decays == "mumu" else 1.0)
    if n_events == 0:
        empty = TruthEvents(np.zeros((0, 1), np.int32), np.zeros((0, 1, 4)), np.zeros((0, 4)), np.zeros(0))
        return empty, np.zeros((0, 2, 4))
    if not tagged:
        events = _pack(visible, invisible, sigma_fb / n_events)
        _log_run(n_events, time.perf_counter() - start, t_pythia, seed, mode, sigma_fb, pythia, tau_decays, "")
        return events, None
    pdg, p4, tags, inv = _pack_tagged(visible, invisible)
    tau_arr = np.asarray(taus, dtype=np.float64).reshape(n_events, 2, 4)
    extra = ""
    if mode == "reweight":
        kind = np.array([[d[0][0], d[1][0]] for d in descriptors], dtype=np.int64)
        p_a = np.array([[d[0][1], d[1][1]] for d in descriptors], dtype=np.float64)
        p_b = np.array([[d[0][2], d[1][2]] for d in descriptors], dtype=np.float64)
        m_lep = np.array([[d[0][3], d[1][3]] for d in descriptors], dtype=np.float64)
        diag = apply_spin_correlations(p4, tags, inv, tau_arr, (kind, p_a, p_b, m_lep), rng, sqrt_s=sqrt_s)
        extra = "; spin reweighting: %.3f trials/event, accepted <W> = %.4f, W in [%.3f, %.3f], tau decays with spin analysis %.1f %%" % (
            diag["mean_trials"], diag["mean_weight"], diag["weight_min"], diag["weight_max"], 100.0 * (kind > 0).mean(),
        )
    _log_run(n_events, time.perf_counter() - start, t_pythia, seed, mode, sigma_fb, pythia, tau_decays, extra)
    events = TruthEvents(pdg=pdg, p4=p4, invisible=inv.sum(axis=1), weight=np.full(n_events, sigma_fb / n_events))
    return events, tau_arr


def _log_run(n_events, elapsed, t_pythia, seed, mode, sigma_fb, pythia, tau_decays, extra) -> None:
    log.info(
        "tautau: %d events in %.2f s (%.0f events/s; Pythia + extraction %.2f s), seed %d, spin correlations %s; "
        "sigma used %.4g fb; Pythia sigmaGen %.4g nb (tree level + ISR, decays %s)%s",
        n_events, elapsed, n_events / max(elapsed, 1e-9), t_pythia, seed, mode, sigma_fb,
        pythia.infoPython().sigmaGen() * 1e6, tau_decays, extra,
    )
