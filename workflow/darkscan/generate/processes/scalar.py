"""e+ e- -> mu+ mu- S for a leptophilic (muon-philic) scalar, S radiated from the muons.

Weighted events from the exact tree-level |M|^2 (``darkscan.physics.scalar``) with the
importance-sampled three-body phase space of ``darkscan.physics.xsec``. ``coupling`` is the
Yukawa y of S to muons (y = xi m_mu/v for a mass-proportional coupling).
"""

from __future__ import annotations

import logging

import numpy as np

from darkscan.events import CrossSection, TruthEvents
from darkscan.generate.processes.zprime import dimuon_plus_boson
from darkscan.generate.registry import register_process
from darkscan.physics.constants import MUON_MASS
from darkscan.physics.scalar import check_mass, sigma_mumu_scalar, weighted_mumu_s

log = logging.getLogger(__name__)

_CHUNK = 100_000


def xsec_mumu_scalar(
    *, sqrt_s: float, mass=None, mass2=None, coupling=None, theta_min=None, theta_max=None
) -> CrossSection:
    """sigma(e+e- -> mu mu S) in fb by Monte Carlo integration (100k events, fixed seed), no cuts.

    Args:
        sqrt_s: CM energy in GeV.
        mass: scalar mass in GeV (required).
        mass2: unused.
        coupling: Yukawa y to muons (default 1); sigma ~ y^2.
        theta_min: must be None (no angular cut).
        theta_max: must be None.
    """
    if theta_min is not None or theta_max is not None:
        raise ValueError("mumu_scalar: xsec has no angular cuts; leave theta_min/theta_max unset")
    y = 1.0 if coupling is None else float(coupling)
    return sigma_mumu_scalar(check_mass(mass, sqrt_s), sqrt_s=sqrt_s, rng=np.random.default_rng(20_250_516), y=y)


@register_process(
    "mumu_scalar",
    description="e+e- -> mu+ mu- S (leptophilic scalar, Yukawa to muons), S from the muon line, tree level",
    max_mass=lambda sqrt_s: sqrt_s - 2.0 * MUON_MASS,
    xsec=xsec_mumu_scalar,
)
def generate_mumu_scalar(
    n_events: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    mass: float | None = None,
    coupling: float = 1.0,
    decay: str = "invisible",
) -> TruthEvents:
    """Generate weighted e+e- -> mu- mu+ S events.

    Args:
        n_events: number of events.
        rng: random generator.
        sqrt_s: CM energy in GeV.
        mass: scalar mass in GeV, 0 < mass < sqrt_s - 2 m_mu.
        coupling: Yukawa y; weights scale as y^2.
        decay: "invisible" (S four-momentum to ``invisible``) or "mumu" (S -> mu+ mu-,
            isotropic, as for a scalar).

    Returns:
        TruthEvents with pdg [13, -13] (+ [13, -13] for ``decay="mumu"``), weights in fb
        (production cross section; branching fractions are left to the caller).
    """
    mass = check_mass(mass, sqrt_s)
    return dimuon_plus_boson(
        n_events,
        rng,
        name="mumu_scalar",
        decay=decay,
        mass=mass,
        chunk=_CHUNK,
        sampler=lambda n: weighted_mumu_s(
            n, rng, sqrt_s=sqrt_s, mass=mass, y=float(coupling), radiative_return_fraction=0.1
        ),
    )
