"""e+e- -> e+e- e+e- through two-photon collisions (equivalent photon approximation).

The same model and phase-space machinery as ``eemumu`` (:mod:`twophoton`: Budnev photon
flux with Q^2 up to W^2, exact Breit-Wheeler gamma gamma -> l+ l- with the lepton mass, exact
four-momentum conservation), with the produced pair an e+ e- pair. The particle record is
(scattered e-, scattered e+, produced e-, produced e+); the generator-level cuts apply to the
produced pair.

Cross section and its limits. With no cuts and W > 0.5 GeV at sqrt(s) = 10.58 GeV this model
gives about 90 nb, while the Belle II Physics Book (PTEP 2019 123C01, table of cross sections,
computed with AAFH, the full four-fermion matrix element) quotes 39.7 nb. The excess sits in
the region where a produced electron is collinear with a photon (the ln(W^2 / m_e^2) of the
real-photon Breit-Wheeler cross section): there the photon virtualities, the neglected
longitudinal photons, and the bremsstrahlung/conversion diagrams and the identical-particle
interference of the full matrix element matter. Replacing the real-photon propagator
regulator by the exact gamma* gamma* one (1 - beta^2 cos^2 -> 1 - beta^2 (1 - 4 Q1^2 Q2^2 /
(W^2 + Q1^2 + Q2^2)^2) cos^2) lowers the total only to about 81 nb. For the pairs inside a
central acceptance (both produced leptons at large angle) the EPA is much closer to the full
calculation, so by default the weights are *not* rescaled (a global rescaling would
underestimate the central background). ``xsec_nb`` rescales all weights by one K factor so
that the total cross section for W > ``w_min`` with no other cut equals ``xsec_nb`` (e.g.
39.7 at 10.58 GeV); the factor is logged.
"""

from __future__ import annotations

import functools
import logging

import numpy as np

from darkscan.generate.events import PDG_ELECTRON, CrossSection, TruthEvents
from darkscan.generate.processes.twophoton import generate_pairs, monte_carlo_xsec
from darkscan.generate.registry import register_process
from darkscan.physics.constants import ELECTRON_MASS

log = logging.getLogger(__name__)

#: Belle II Physics Book (PTEP 2019 123C01): sigma(e+e- -> e+e-e+e-), W > 0.5 GeV, 10.58 GeV, nb.
XSEC_EEEE_PHYSICS_BOOK_NB = 39.7
NB_TO_FB = 1.0e6
_PDG = (PDG_ELECTRON, -PDG_ELECTRON, PDG_ELECTRON, -PDG_ELECTRON)
_NORM_EVENTS = 100_000
_NORM_SEED = 20_250_516


def _pairs(n_events, rng, *, sqrt_s, w_min, electron_theta_min, electron_theta_max, electron_pt_min, ee_pt_min,
           recoil_cos_max, recoil_p_min) -> TruthEvents:
    return generate_pairs(
        n_events, rng, sqrt_s=sqrt_s, mass=ELECTRON_MASS, pdg=_PDG, w_min=w_min, theta_min=electron_theta_min,
        theta_max=electron_theta_max, pt_min=electron_pt_min, pair_pt_min=ee_pt_min, recoil_cos_max=recoil_cos_max,
        recoil_p_min=recoil_p_min, prefix="electron",
    )


@functools.lru_cache(maxsize=32)
def total_epa_fb(sqrt_s: float, w_min: float) -> CrossSection:
    """Total EPA cross section (fb) for W > ``w_min`` and no other cut (fixed-seed MC, 100k events)."""
    return monte_carlo_xsec(_pairs, _NORM_EVENTS, _NORM_SEED, sqrt_s=sqrt_s, w_min=w_min, electron_theta_min=0.0,
                            electron_theta_max=180.0, electron_pt_min=0.0, ee_pt_min=0.0, recoil_cos_max=None, recoil_p_min=0.0)


def xsec(*, sqrt_s: float, mass=None, mass2=None, coupling=None, theta_min=None, theta_max=None) -> CrossSection:
    """sigma(e+e- -> e+e-e+e-) in fb for W > 0.5 GeV (EPA model, no rescaling), Monte Carlo integrated.

    Args:
        sqrt_s: CM energy in GeV.
        mass: unused (no new particle).
        mass2: unused.
        coupling: unused.
        theta_min: minimum CM polar angle of both produced leptons (deg); default 0 (no cut).
        theta_max: maximum CM polar angle of both produced leptons (deg); default 180 (no cut).

    Returns:
        The cross section and its Monte Carlo uncertainty (about 90 nb at 10.58 GeV without
        angular cuts; see the module docstring for the comparison with the Physics Book).
    """
    if theta_min is None and theta_max is None:
        return total_epa_fb(float(sqrt_s), 0.5)
    return monte_carlo_xsec(_pairs, _NORM_EVENTS, _NORM_SEED, sqrt_s=sqrt_s, w_min=0.5,
                            electron_theta_min=0.0 if theta_min is None else theta_min,
                            electron_theta_max=180.0 if theta_max is None else theta_max,
                            electron_pt_min=0.0, ee_pt_min=0.0, recoil_cos_max=None, recoil_p_min=0.0)


@register_process(
    "eeee",
    description="e+e- -> e+e- e+e- via two-photon collisions (Budnev EPA with Q^2, Breit-Wheeler with m_e)",
    generator_name="darkscan-twophoton",
    xsec=xsec,
)
def generate(
    n_events: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    w_min: float = 0.5,
    electron_theta_min: float = 15.0,
    electron_theta_max: float = 165.0,
    electron_pt_min: float = 0.3,
    ee_pt_min: float = 0.0,
    recoil_cos_max: float | None = None,
    recoil_p_min: float = 0.0,
    xsec_nb: float | None = None,
) -> TruthEvents:
    """Generate weighted e+e- -> e+e- e+e- events in the CM frame.

    Args:
        n_events: number of events returned (all pass the cuts).
        rng: numpy random generator.
        sqrt_s: CM energy in GeV.
        w_min: minimum invariant mass of the produced e+ e- pair in GeV (default 0.5, as in the
            Physics Book).
        electron_theta_min: minimum CM polar angle of both produced leptons, degrees.
        electron_theta_max: maximum CM polar angle of both produced leptons, degrees.
        electron_pt_min: minimum CM transverse momentum of both produced leptons, GeV.
        ee_pt_min: minimum CM transverse momentum of the produced pair, GeV.
        recoil_cos_max: maximum |cos theta| (CM) of the recoil -p(pair); None for no cut.
        recoil_p_min: minimum CM momentum of the produced pair, GeV.
        xsec_nb: if given, rescale all weights so that the total cross section for W > w_min
            (no other cut) is ``xsec_nb`` (e.g. 39.7 at 10.58 GeV); default None, no rescaling.

    Returns:
        Events with particles (e-, e+ scattered; e-, e+ produced); weights (fb) sum to the cross
        section of the phase space inside the cuts.
    """
    if xsec_nb is not None and xsec_nb <= 0:
        raise ValueError(f"xsec_nb must be positive, got {xsec_nb}")
    events = _pairs(n_events, rng, sqrt_s=sqrt_s, w_min=w_min, electron_theta_min=electron_theta_min,
                    electron_theta_max=electron_theta_max, electron_pt_min=electron_pt_min, ee_pt_min=ee_pt_min,
                    recoil_cos_max=recoil_cos_max, recoil_p_min=recoil_p_min)
    if xsec_nb is None or n_events == 0:
        return events
    k_factor = xsec_nb * NB_TO_FB / total_epa_fb(float(sqrt_s), float(w_min)).value_fb
    log.info("eeee: weights rescaled by K = %.4f to a total of %.4g nb (W > %.3g GeV)", k_factor, xsec_nb, w_min)
    return TruthEvents(events.pdg, events.p4, events.invisible, events.weight * k_factor)
