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
  175 events/s for tau_decays="mumu" (2-core machine; the tau decays dominate).
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
  About 4-6k events/s for 3000 events including the Pythia initialisation (20-30x mode 1;
  the tagged extraction and the reweighting cost about 10 % of the time).
* ``False`` or ``"none"``: ``TauDecays:mode = 0`` as is: no spin correlations and
  phase-space tau decay spectra (see above). About 5-6k events/s for 3000 events including
  the Pythia initialisation (0.2-0.3 s) on the shared 2-core development machine.

Speed figures are for tau_decays="mumu" on the shared 2-core development machine, whose load
makes them uncertain by about 30 %; Pythia's ``next()`` alone runs at about 10-15k events/s
there. The event records are read in batches (``pythia.nextBatch``, awkward arrays, vectorised
numpy; :mod:`darkscan.generate.processes._pythia_events`), which costs about 10-30 us per
event instead of 60-80 us for a Python loop over the particles of ``pythia.event``, and gives
the same events bit for bit. The spin-correlation code is in
:mod:`darkscan.generate.processes._tau_decays`.
"""

from __future__ import annotations

import functools
import logging
import time

import numpy as np

from darkscan.events import CrossSection, TruthEvents
from darkscan.generate.processes._pythia_events import (
    final_states,
    pack_flat,
    pad,
    run_batches,
    tagged_final_states,
)
from darkscan.generate.processes._tau_decays import apply_spin_correlations
from darkscan.generate.registry import register_process
from darkscan.physics.constants import BF_TAU_TO_MU_NU_NU, TAU_MASS

log = logging.getLogger(__name__)

#: Belle II Physics Book (PTEP 2019 123C01), sigma(e+e- -> tau+ tau- (gamma)) at 10.58 GeV in nb,
#: including radiative corrections.
XSEC_TAUTAU_NB = 0.919
NB_TO_FB = 1.0e6
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


def pythia_settings(
    *, sqrt_s: float, tau_decays: str, spin_correlations: bool | str, seed: int, mhat_min: float
) -> list[str]:
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


@functools.lru_cache(maxsize=1)
def _pristine_pythia():
    """A never-initialised Pythia whose settings and particle data (read from the XML files) are copied."""
    import pythia8mc

    return pythia8mc.Pythia("", False)  # no banner on stdout


def _make_pythia(settings: list[str]):
    """An initialised Pythia instance with ``settings`` applied in order (also used by qqbar).

    The defaults are copied from a cached pristine instance instead of being parsed from
    Pythia's XML files again (0.1 s per instance), which gives the same events.
    """
    import pythia8mc

    template = _pristine_pythia()
    pythia = pythia8mc.Pythia(template.settings, template.particleData, False)
    for line in settings:
        if not pythia.readString(line):
            raise RuntimeError(f"Pythia rejected the setting {line!r}")
    if not pythia.init():
        raise RuntimeError("Pythia initialisation failed for e+e- -> tau+ tau-")
    return pythia


def xsec_tautau_mumu(*, sqrt_s: float, mass=None, mass2=None, coupling=None, theta_min=None, theta_max=None):
    """The normalisation of the tau-pair generators, both taus -> mu nu nu: 0.919 nb x BF^2 in fb
    (what their weights sum to; no events are generated, so ``darkscan xsec`` answers at once)."""
    if theta_min is not None or theta_max is not None:
        raise ValueError("tautau: no --theta-min/--theta-max acceptance; set generator cuts in a channel config")
    return CrossSection(XSEC_TAUTAU_NB * NB_TO_FB * BF_TAU_TO_MU_NU_NU**2, 0.0)


@register_process(
    "tautau",
    description=(
        "e+e- -> tau+ tau- (gamma) with Pythia 8, lepton ISR and QED FSR, normalised to the Belle II Physics Book"
    ),
    generator_name="pythia8",
    unweighted=True,
    xsec=xsec_tautau_mumu,
    radiative="normalised to the Belle II Physics Book value (0.919 nb at 10.58 GeV, with radiative corrections)",
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
            afterwards (validated against ``"pythia"``, nearly as fast as ``False``);
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
            "phase-space spectra (no rho/a1 shapes); use spin_correlations='pythia' where they matter",
            mode,
        )
    mhat_min = 2 * TAU_MASS + 1e-3 if mhat_min is None else float(mhat_min)
    seed = int(rng.integers(1, 900_000_000))
    settings = pythia_settings(
        sqrt_s=sqrt_s, tau_decays=tau_decays, spin_correlations=mode, seed=seed, mhat_min=mhat_min
    )
    pythia = _make_pythia(settings)

    tagged = keep_taus or mode == "reweight"
    extract = tagged_final_states if tagged else final_states
    start = time.perf_counter()
    parts = [
        extract(batch) for batch in run_batches(pythia, n_events, max_failures=_MAX_FAILURES, what="e+e- -> tau+ tau-")
    ]
    t_pythia = time.perf_counter() - start

    sigma_fb = xsec_nb * NB_TO_FB * (BF_TAU_TO_MU_NU_NU**2 if tau_decays == "mumu" else 1.0)
    if n_events == 0:
        empty = TruthEvents(np.zeros((0, 1), np.int32), np.zeros((0, 1, 4)), np.zeros((0, 4)), np.zeros(0))
        return empty, np.zeros((0, 2, 4))
    if not tagged:
        pdg, p4, counts, inv = (np.concatenate(col) for col in zip(*parts, strict=False))
        events = pack_flat(pdg, p4, counts, inv, sigma_fb / n_events)
        _log_run(n_events, time.perf_counter() - start, t_pythia, seed, mode, sigma_fb, pythia, tau_decays, "")
        return events, None
    cols = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    pdg, p4, tags = pad(cols["counts"], cols["pdg"], cols["p4"], cols["tags"])
    inv, tau_arr = cols["invisible"], cols["taus"]
    extra = ""
    if mode == "reweight":
        kind = cols["kind"]
        decays = (kind, cols["p_a"], cols["p_b"], cols["m_lep"])
        diag = apply_spin_correlations(p4, tags, inv, tau_arr, decays, rng, sqrt_s=sqrt_s)
        extra = (
            f"; spin reweighting: {diag['mean_trials']:.3f} trials/event, accepted <W> = {diag['mean_weight']:.4f},"
            f" W in [{diag['weight_min']:.3f}, {diag['weight_max']:.3f}],"
            f" tau decays with spin analysis {100.0 * (kind > 0).mean():.1f} %"
        )
    _log_run(n_events, time.perf_counter() - start, t_pythia, seed, mode, sigma_fb, pythia, tau_decays, extra)
    events = TruthEvents(pdg=pdg, p4=p4, invisible=inv.sum(axis=1), weight=np.full(n_events, sigma_fb / n_events))
    return events, tau_arr


def _log_run(n_events, elapsed, t_pythia, seed, mode, sigma_fb, pythia, tau_decays, extra) -> None:
    log.info(
        "tautau: %d events in %.2f s (%.0f events/s; Pythia + extraction %.2f s), seed %d, spin correlations %s; "
        "sigma used %.4g fb; Pythia sigmaGen %.4g nb (tree level + ISR, decays %s)%s",
        n_events,
        elapsed,
        n_events / max(elapsed, 1e-9),
        t_pythia,
        seed,
        mode,
        sigma_fb,
        pythia.infoPython().sigmaGen() * 1e6,
        tau_decays,
        extra,
    )
