"""e+ e- -> mu+ mu- Z' in the L_mu - L_tau model (Z' radiated from the muons).

Weighted events from the exact tree-level |M|^2 (``darkscan.physics.matrix_elements``) with
importance-sampled three-body phase space (``darkscan.physics.xsec``). The Z' does not couple
to electrons, so there is no initial-state emission.
"""

from __future__ import annotations

import logging

import numpy as np

from darkscan.events import PDG_MUON, TruthEvents
from darkscan.generate.registry import register_process
from darkscan.physics.constants import MUON_MASS
from darkscan.physics.kinematics import check_radiated_mass, two_body_decay
from darkscan.physics.xsec import weighted_mumu_v
from darkscan.physics.zprime import branching_fraction

log = logging.getLogger(__name__)

_CHUNK = 200_000
DECAYS = ("invisible", "mumu")


def check_mass(mass: float, sqrt_s: float) -> float:
    """Return ``mass`` as float if 0 < mass < sqrt_s - 2 m_mu, else raise naming the range."""
    return check_radiated_mass(mass, sqrt_s, process="mumu_zprime", particle="Z'")


@register_process(
    "mumu_zprime",
    description="e+e- -> mu+ mu- Z' (L_mu - L_tau), Z' from the muon line, tree level",
    max_mass=lambda sqrt_s: sqrt_s - 2.0 * MUON_MASS,
)
def generate(
    n_events: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    mass: float | None = None,
    coupling: float = 1.0,
    decay: str = "invisible",
    scenario: str | None = None,
) -> TruthEvents:
    """Generate weighted e+e- -> mu- mu+ Z' events.

    Args:
        n_events: number of events.
        rng: random generator.
        sqrt_s: CM energy in GeV.
        mass: Z' mass in GeV (required), 0 < mass < sqrt_s - 2 m_mu.
        coupling: g'; weights scale as g'^2.
        decay: "invisible" (the Z' four-momentum goes to ``invisible``) or "mumu" (Z' -> mu+ mu-,
            isotropic in its rest frame, two more visible muons).
        scenario: if given ("lmu_ltau" or "invisible"), weights are multiplied by the branching
            fraction of ``decay`` in that scenario; if None, weights are the production cross
            section sigma(e+e- -> mu mu Z') and the branching fraction is left to the caller.

    Returns:
        TruthEvents with pdg [13, -13] (+ [13, -13] for ``decay="mumu"``), weights in fb.
    """
    mass = check_mass(mass, sqrt_s)
    events = dimuon_plus_boson(
        n_events,
        rng,
        name="mumu_zprime",
        decay=decay,
        mass=mass,
        sampler=lambda n: weighted_mumu_v(
            n, rng, sqrt_s=sqrt_s, mass=mass, g=float(coupling), radiative_return_fraction=0.1
        ),
    )
    if scenario is not None:
        events = TruthEvents(
            events.pdg,
            events.p4,
            events.invisible,
            events.weight * float(branching_fraction(mass, decay, scenario=scenario)),
        )
    return events


def dimuon_plus_boson(
    n_events: int, rng: np.random.Generator, *, name: str, decay: str, mass: float, sampler, chunk: int = _CHUNK
) -> TruthEvents:
    """Events e+e- -> mu- mu+ X from a weighted sampler of (p3, p4, k, weight), chunk by chunk.

    Shared by every boson radiated off the muon line (Z', leptophilic scalar). X goes to
    ``invisible`` (``decay="invisible"``) or decays isotropically to mu+ mu- (``decay="mumu"``).
    ``sampler(n)`` returns n weighted events normalised to n; weights are rescaled to the sample.
    """
    if decay not in DECAYS:
        raise ValueError(f"{name}: unknown decay {decay!r}; allowed: {DECAYS}")
    if decay == "mumu" and mass <= 2.0 * MUON_MASS:
        raise ValueError(f"{name}: decay 'mumu' needs mass > 2 m_mu = {2 * MUON_MASS:.4f} GeV, got {mass}")
    n_vis = 2 if decay == "invisible" else 4
    pdg = np.tile(np.array([PDG_MUON, -PDG_MUON, PDG_MUON, -PDG_MUON][:n_vis], dtype=np.int32), (n_events, 1))
    p4 = np.zeros((n_events, n_vis, 4))
    invisible = np.zeros((n_events, 4))
    weight = np.empty(n_events)
    for lo in range(0, n_events, chunk):
        hi = min(lo + chunk, n_events)
        ev = sampler(hi - lo)
        p4[lo:hi, 0], p4[lo:hi, 1] = ev.p3, ev.p4
        # the sampler normalises to its own chunk size; rescale to the full sample
        weight[lo:hi] = ev.weight * (hi - lo) / n_events
        if decay == "invisible":
            invisible[lo:hi] = ev.k
        else:
            p4[lo:hi, 2], p4[lo:hi, 3] = two_body_decay(ev.k, MUON_MASS, MUON_MASS, rng=rng)
    if n_events:
        log.debug(
            "%s M=%g: sigma = %.4g fb, max/mean weight %.3g", name, mass, weight.sum(), weight.max() / weight.mean()
        )
    return TruthEvents(pdg=pdg, p4=p4, invisible=invisible, weight=weight)
