"""e+e- -> q qbar (gamma), q = u, d, s, c (continuum), with Pythia 8 (``pythia8mc``).

The hard process is ``WeakSingleBoson:ffbar2ffbar(s:gmZ)`` with the gamma*/Z decay restricted
to one light or charm quark flavour (never b: at 10.58 GeV continuum b bbar is below the
Upsilon(4S) and belongs to a separate sample), lepton ISR on (``PDF:lepton``), parton shower
and Lund string hadronisation, and Pythia's default decays (K_S, Lambda, ... decay; pi+-, K+-,
p, n, K_L, e, mu and photons are final). ``PhaseSpace:mHatMin`` is set low (0.5 GeV by default,
Pythia's default of 4 GeV would cut the radiative return); below about 2 GeV the string model
is crude (no rho/omega/phi line shapes), but that region holds only a small part of the rate.

Normalisation and flavour composition. Pythia's cross section is tree level (3.25 nb for udsc
at 10.58 GeV, with ISR), so the sample is normalised to the Belle II Physics Book (E. Kou et
al., PTEP 2019 123C01, table of e+e- cross sections at 10.58 GeV, KKMC with radiative
corrections): u ubar 1.61, d dbar 0.40, s sbar 0.38, c cbar 1.30 nb. The number of events of
each flavour is drawn from a multinomial with these fractions and each flavour is generated
by its own Pythia instance, so the flavour mix is that of the Physics Book (Pythia alone has
c/u = 0.97 instead of 0.81); the events are then shuffled. At another CM energy
the values are scaled by (10.58 GeV)^2 / s (the 1/s of the point cross section; R and the
radiative corrections are taken as constant, which is only approximate, in particular near
the charm threshold); pass ``xsec_nb`` for a better value.

Speed (this machine, 2 shared cores): 5000 events at 10.58 GeV went from 1.2k to 2.3k events/s
under heavy load when the final state was read in batches (``pythia.nextBatch`` and vectorised
numpy, :mod:`darkscan.generate.processes._pythia_events`) instead of a Python loop over the
particles; earlier quiet-machine figures with the loop were 4.2k events/s at 10.58 GeV and 8.4k
events/s at 3.773 GeV for 20k events (Pythia alone about 9k events/s at 10.58 GeV), all
including the four Pythia initialisations.

At 3.773 GeV the 1/s-scaled Physics Book values (29.0 nb for udsc) exceed Pythia's tree level +
ISR (17.3 nb; charm 10.2 vs 5.9 nb just above the D Dbar threshold): use ``xsec_nb`` there.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from darkscan.events import CrossSection, TruthEvents
from darkscan.generate.processes._pythia_events import final_states, pad, run_batches
from darkscan.generate.processes.tautau import _make_pythia, ee_to_fermion_pair_settings
from darkscan.generate.registry import register_process

log = logging.getLogger(__name__)

#: Belle II Physics Book (PTEP 2019 123C01) continuum q qbar cross sections at 10.58 GeV, nb.
XSEC_PHYSICS_BOOK_NB = {"u": 1.61, "d": 0.40, "s": 0.38, "c": 1.30}
SQRT_S_PHYSICS_BOOK = 10.58
NB_TO_FB = 1.0e6
_PDG_QUARK = {"d": 1, "u": 2, "s": 3, "c": 4}
_SQRT_S_MIN = 2.0  # GeV: below this the string continuum model is not usable
_OPEN_CHARM_THRESHOLD = 2 * 1.86966  # GeV, 2 m(D+) (PDG 2024)
_MAX_FAILURES = 100


def parse_flavours(flavours: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Normalise ``"udsc"`` or ``["u", "d"]`` to an ordered tuple of distinct flavours."""
    chosen = set(flavours)
    unknown = sorted(chosen - set(_PDG_QUARK))
    if unknown or not chosen:
        raise ValueError(f"flavours must be a non-empty subset of u, d, s, c; got {flavours!r}")
    return tuple(q for q in "udsc" if q in chosen)


def flavour_xsec_nb(sqrt_s: float, flavours=("u", "d", "s", "c")) -> dict[str, float]:
    """Physics Book cross section of each flavour in nb, scaled by (10.58 GeV)^2 / s."""
    scale = (SQRT_S_PHYSICS_BOOK / sqrt_s) ** 2
    return {q: XSEC_PHYSICS_BOOK_NB[q] * scale for q in parse_flavours(flavours)}


def xsec(*, sqrt_s: float, mass=None, mass2=None, coupling=None, theta_min=None, theta_max=None) -> CrossSection:
    """sigma(e+e- -> u, d, s, c continuum) in fb: the Physics Book sum (3.69 nb at 10.58 GeV) times (10.58/sqrt_s)^2.

    Args:
        sqrt_s: CM energy in GeV.
        mass: unused.
        mass2: unused.
        coupling: unused.
        theta_min: unused (the value is the total cross section).
        theta_max: unused.

    Returns:
        The cross section; its error is 0 (the quoted value carries no MC uncertainty).
    """
    return CrossSection(value_fb=sum(flavour_xsec_nb(sqrt_s).values()) * NB_TO_FB, error_fb=0.0)


def pythia_settings(*, sqrt_s: float, flavour: str, seed: int, mhat_min: float) -> list[str]:
    """Pythia 8 settings for e+e- -> gamma*/Z -> q qbar of one flavour with lepton ISR.

    Args:
        sqrt_s: CM energy in GeV.
        flavour: one of u, d, s, c.
        seed: Pythia random seed, 1 <= seed <= 900_000_000.
        mhat_min: lower limit on the q qbar invariant mass after ISR (GeV).

    Returns:
        The settings strings, in the order they are read.
    """
    return [
        *ee_to_fermion_pair_settings(sqrt_s=sqrt_s, fermion=_PDG_QUARK[flavour], seed=seed, mhat_min=mhat_min),
        "HadronLevel:all = on",
    ]


def _run(pythia, n_events: int, flavour: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Generate ``n_events`` events: flat visible pdg (M,), p4 (M, 4), counts (N,) and invisible (N, 4)."""
    what = f"e+e- -> {flavour} {flavour}bar"
    parts = [final_states(batch) for batch in run_batches(pythia, n_events, max_failures=_MAX_FAILURES, what=what)]
    return tuple(np.concatenate(col) for col in zip(*parts, strict=False))


@register_process(
    "qqbar",
    description=(
        "e+e- -> q qbar (gamma), q = u, d, s, c, with Pythia 8 and lepton ISR, normalised to the Belle II Physics Book"
    ),
    generator_name="pythia8",
    unweighted=True,
    xsec=xsec,
    radiative="normalised to the Belle II Physics Book values (with radiative corrections)",
)
def generate(
    n_events: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    flavours: str | list[str] = "udsc",
    xsec_nb: float | None = None,
    mhat_min: float = 0.5,
) -> TruthEvents:
    """Generate continuum e+e- -> q qbar (gamma) events with Pythia 8 in the CM frame.

    Args:
        n_events: number of events.
        rng: numpy generator: draws the flavour counts, one Pythia seed per flavour and the
            final shuffle.
        sqrt_s: CM energy in GeV (at least 2 GeV; c needs at least 2 m_D = 3.74 GeV).
        flavours: subset of ``"udsc"`` (string or list), e.g. ``"uds"``.
        xsec_nb: total cross section (nb) of the chosen flavours used for the normalisation;
            default: the Physics Book values at 10.58 GeV scaled by (10.58/sqrt_s)^2. The
            flavour mix always follows the Physics Book ratios.
        mhat_min: lower limit on the q qbar mass after ISR, GeV (default 0.5).

    Returns:
        Equal-weight events whose weights sum to the cross section (fb): visible final-state
        particles (hadrons with their PDG ids, photons including those from pi0 decays and ISR,
        leptons from heavy-flavour decays) and the neutrinos summed into ``invisible``.
    """
    if n_events < 0:
        raise ValueError(f"n_events must be >= 0, got {n_events}")
    chosen = parse_flavours(flavours)
    if sqrt_s < _SQRT_S_MIN:
        raise ValueError(
            f"sqrt_s = {sqrt_s} GeV is below {_SQRT_S_MIN} GeV, where the Pythia q qbar continuum is not usable"
        )
    if "c" in chosen and sqrt_s < _OPEN_CHARM_THRESHOLD:
        raise ValueError(
            f"sqrt_s = {sqrt_s} GeV is below the open-charm threshold {_OPEN_CHARM_THRESHOLD:.3f} GeV; "
            "drop 'c' from flavours"
        )
    if xsec_nb is not None and xsec_nb <= 0:
        raise ValueError(f"xsec_nb must be positive, got {xsec_nb}")
    if not 0 < mhat_min < sqrt_s:
        raise ValueError(f"mhat_min must lie in (0, sqrt_s), got {mhat_min}")
    per_flavour = flavour_xsec_nb(sqrt_s, chosen)
    book_total = sum(per_flavour.values())
    sigma_nb = book_total if xsec_nb is None else float(xsec_nb)
    if xsec_nb is None and abs(sqrt_s - SQRT_S_PHYSICS_BOOK) > 0.01 * SQRT_S_PHYSICS_BOOK:
        log.info(
            "qqbar: Physics Book cross sections scaled by (10.58 / %.4g)^2 = %.4g (1/s scaling, approximate)",
            sqrt_s,
            (SQRT_S_PHYSICS_BOOK / sqrt_s) ** 2,
        )
    counts = rng.multinomial(n_events, [per_flavour[q] / book_total for q in chosen])
    seeds = rng.integers(1, 900_000_000, size=len(chosen))

    parts = []
    start = time.perf_counter()
    for flavour, count, seed in zip(chosen, counts, seeds, strict=False):
        if count == 0:
            continue
        pythia = _make_pythia(pythia_settings(sqrt_s=sqrt_s, flavour=flavour, seed=int(seed), mhat_min=float(mhat_min)))
        parts.append(_run(pythia, int(count), flavour))
        log.info(
            "qqbar: %d %s%sbar events, Pythia sigmaGen %.4g nb (tree level + ISR)",
            count,
            flavour,
            flavour,
            pythia.infoPython().sigmaGen() * 1e6,
        )
    elapsed = time.perf_counter() - start
    sigma_fb = sigma_nb * NB_TO_FB
    log.info(
        "qqbar: %d events in %.2f s (%.0f events/s); sigma used %.4g fb (flavours %s)",
        n_events,
        elapsed,
        n_events / max(elapsed, 1e-9),
        sigma_fb,
        "".join(chosen),
    )
    if n_events == 0:
        return TruthEvents(np.zeros((0, 1), np.int32), np.zeros((0, 1, 4)), np.zeros((0, 4)), np.zeros(0))
    order = rng.permutation(n_events)
    pdg, p4, n_visible, invisible = (np.concatenate(col) for col in zip(*parts, strict=False))
    pdg, p4, _ = pad(n_visible, pdg, p4)
    return TruthEvents(
        pdg=pdg[order], p4=p4[order], invisible=invisible[order], weight=np.full(n_events, sigma_fb / n_events)
    )
