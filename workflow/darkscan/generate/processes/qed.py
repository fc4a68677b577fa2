"""QED 2 -> 2 backgrounds at tree level: Bhabha ``ee``, ``gammagamma`` and ``mumu``.

Weighted events in the CM frame (+z = e-), weights in fb summing to the tree-level cross
section of the generated phase space times ``xsec_scale``. Formulas (massless e+-):

* Bhabha, s + t channel (e.g. Peskin & Schroeder problem 5.2; PDG Review "Cross-section
  formulae"): dsigma/dOmega = alpha^2/(2s)[(s^2 + u^2)/t^2 + 2u^2/(st) + (u^2 + t^2)/s^2]
  = alpha^2/(4s) (3 + c^2)^2/(1 - c)^2, c = cos(theta_e-).
* e+e- -> gamma gamma: dsigma/dcos = (2 pi alpha^2/s)(1 + c^2)/(1 - c^2), identical photons.
* e+e- -> mu+mu- with the muon mass: dsigma/dOmega = alpha^2/(4s) beta [1 + c^2 + (1 - beta^2)
  sin^2], total 4 pi alpha^2/(3s) beta (3 - beta^2)/2 = 0.776 nb at 10.58 GeV.

``xsec_scale`` is a K-factor (number), or "physics_book" for the ratio of the Belle II Physics
Book value (PTEP 2019 123C01, table 6: radiative corrections included, 10.58 GeV) to the tree
level in the Physics Book phase space: ee 300 nb (10-170 deg), gamma gamma 4.99 nb (10-170
deg), mu mu 1.148 nb (full angle). The K-factors are 1.046, 1.103 and 1.480 (see :func:`k_factor`;
they absorb radiative corrections, which also change the shapes, not modelled here).
"""

from __future__ import annotations

import logging

import numpy as np

from darkscan.events import PDG_ELECTRON, PDG_MUON, PDG_PHOTON, CrossSection, TruthEvents
from darkscan.generate.processes._twobody import (
    resolve_scale,
    sample_inverse_sine2_cos,
    sample_quadratic_cos,
    two_body_cm,
)
from darkscan.generate.registry import register_process
from darkscan.physics.constants import ALPHA_EM, GEV2_TO_FB, MUON_MASS
from darkscan.physics.signals import dsigma_gammagamma_dcos, sigma_gammagamma, symmetric_cos_range

log = logging.getLogger(__name__)

#: Belle II Physics Book (PTEP 2019 123C01, table 6) cross sections at 10.58 GeV, fb.
PHYSICS_BOOK = {
    "ee": {"sqrt_s": 10.58, "fb": 300.0e6, "theta_min": 10.0, "theta_max": 170.0},
    "gammagamma": {"sqrt_s": 10.58, "fb": 4.99e6, "theta_min": 10.0, "theta_max": 170.0},
    "mumu": {"sqrt_s": 10.58, "fb": 1.148e6, "theta_min": 0.0, "theta_max": 180.0},
}


# ---------------------------------------------------------------------------------------------
# Closed forms


def dsigma_bhabha_dcos(cos_theta: np.ndarray | float, *, sqrt_s: float) -> np.ndarray:
    """Tree-level Bhabha dsigma/dcos(theta_e-) in fb: (pi alpha^2/(2s)) (3 + c^2)^2/(1 - c)^2."""
    c = np.asarray(cos_theta, float)
    return np.pi * ALPHA_EM**2 / (2.0 * sqrt_s**2) * (3.0 + c * c) ** 2 / (1.0 - c) ** 2 * GEV2_TO_FB


def _bhabha_primitive(c: float) -> float:
    # (3 + c^2)^2 / (2 (1 - c)^2) = 8/(1-c)^2 - 8/(1-c) + 4 + c + (1 + c^2)/2.
    return 8.0 / (1.0 - c) + 8.0 * np.log(1.0 - c) + 4.5 * c + c * c / 2.0 + c**3 / 6.0


def sigma_bhabha(*, sqrt_s: float, theta_min: float | None = 10.0, theta_max: float | None = 170.0) -> float:
    """Tree-level Bhabha cross section (fb) with e- and e+ both in [theta_min, theta_max] (CM deg)."""
    lo, hi = symmetric_cos_range(theta_min, theta_max)
    if hi >= 1.0:
        raise ValueError("ee: the Bhabha cross section diverges for theta -> 0; give theta_min > 0")
    return float(np.pi * ALPHA_EM**2 / sqrt_s**2 * (_bhabha_primitive(hi) - _bhabha_primitive(lo)) * GEV2_TO_FB)


def dsigma_mumu_dcos(cos_theta: np.ndarray | float, *, sqrt_s: float) -> np.ndarray:
    """Born dsigma/dcos(theta_mu-) in fb with the muon mass: (pi alpha^2 beta/(2s))(2 - beta^2 + beta^2 c^2)."""
    beta2 = 1.0 - 4.0 * MUON_MASS**2 / sqrt_s**2
    c = np.asarray(cos_theta, float)
    return np.pi * ALPHA_EM**2 * np.sqrt(beta2) / (2.0 * sqrt_s**2) * (2.0 - beta2 + beta2 * c * c) * GEV2_TO_FB


def sigma_mumu(*, sqrt_s: float, theta_min: float | None = 0.0, theta_max: float | None = 180.0) -> float:
    """Born sigma(e+e- -> mu+mu-) in fb, both muons in [theta_min, theta_max] (CM deg)."""
    if sqrt_s <= 2.0 * MUON_MASS:
        raise ValueError(f"mumu: sqrt_s = {sqrt_s} GeV is below the threshold 2 m_mu = {2 * MUON_MASS:.4f} GeV")
    lo, hi = symmetric_cos_range(theta_min, theta_max)
    beta2 = 1.0 - 4.0 * MUON_MASS**2 / sqrt_s**2
    prim = lambda c: (2.0 - beta2) * c + beta2 * c**3 / 3.0  # noqa: E731
    return float(np.pi * ALPHA_EM**2 * np.sqrt(beta2) / (2.0 * sqrt_s**2) * (prim(hi) - prim(lo)) * GEV2_TO_FB)


def _gg_range(theta_min, theta_max) -> tuple[float, float]:
    lo, hi = symmetric_cos_range(theta_min, theta_max)
    if hi >= 1.0:
        raise ValueError("gammagamma: the cross section diverges for theta -> 0 (massless e); give theta_min > 0")
    return lo, hi


def sigma_gg(*, sqrt_s: float, theta_min: float | None = 10.0, theta_max: float | None = 170.0) -> float:
    """Born sigma(e+e- -> gamma gamma) (fb), both photons in [theta_min, theta_max] (CM deg)."""
    lo, hi = _gg_range(theta_min, theta_max)
    return sigma_gammagamma(sqrt_s=sqrt_s, cos_min=lo, cos_max=hi)


def _reference_tree(process: str) -> float:
    ref = PHYSICS_BOOK[process]
    fn = {"ee": sigma_bhabha, "mumu": sigma_mumu, "gammagamma": sigma_gg}[process]
    return fn(sqrt_s=ref["sqrt_s"], theta_min=ref["theta_min"], theta_max=ref["theta_max"])


def k_factor(process: str) -> float:
    """Physics Book / tree-level ratio for ``process`` in {"ee", "gammagamma", "mumu"}."""
    return PHYSICS_BOOK[process]["fb"] / _reference_tree(process)


# ---------------------------------------------------------------------------------------------
# Cross-section functions for the CLI (tree level, no K-factor)


def xsec_ee(*, sqrt_s: float, mass=None, mass2=None, coupling=None, theta_min=None, theta_max=None) -> CrossSection:
    """Tree-level Bhabha cross section (fb), both leptons in [theta_min, theta_max] (default 10-170 deg)."""
    return CrossSection(
        sigma_bhabha(
            sqrt_s=sqrt_s,
            theta_min=10.0 if theta_min is None else theta_min,
            theta_max=170.0 if theta_max is None else theta_max,
        ),
        0.0,
    )


def xsec_gammagamma(
    *, sqrt_s: float, mass=None, mass2=None, coupling=None, theta_min=None, theta_max=None
) -> CrossSection:
    """Born sigma(e+e- -> gamma gamma) (fb), both photons in [theta_min, theta_max] (default 10-170 deg)."""
    return CrossSection(
        sigma_gg(
            sqrt_s=sqrt_s,
            theta_min=10.0 if theta_min is None else theta_min,
            theta_max=170.0 if theta_max is None else theta_max,
        ),
        0.0,
    )


def xsec_mumu(*, sqrt_s: float, mass=None, mass2=None, coupling=None, theta_min=None, theta_max=None) -> CrossSection:
    """Born sigma(e+e- -> mu mu) (fb), both muons in [theta_min, theta_max] (default: full angle)."""
    return CrossSection(sigma_mumu(sqrt_s=sqrt_s, theta_min=theta_min, theta_max=theta_max), 0.0)


# ---------------------------------------------------------------------------------------------
# Generators


def _finish(name: str, pdg: list[int], p1: np.ndarray, p2: np.ndarray, weight: np.ndarray) -> TruthEvents:
    n = len(weight)
    if n:
        log.debug("%s: sigma = %.5g fb, max/mean weight %.3g", name, weight.sum(), weight.max() / weight.mean())
    return TruthEvents(
        pdg=np.tile(np.array(pdg, dtype=np.int32), (n, 1)),
        p4=np.stack([p1, p2], axis=1),
        invisible=np.zeros((n, 4)),
        weight=weight,
    )


@register_process(
    "ee", description="e+e- -> e+e- (Bhabha), tree level s + t channel, both leptons in a CM theta range", xsec=xsec_ee
)
def generate_ee(
    n_events: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    theta_min: float = 10.0,
    theta_max: float = 170.0,
    xsec_scale: float | str = 1.0,
) -> TruthEvents:
    """Generate weighted Bhabha events.

    Args:
        n_events: number of events.
        rng: random generator.
        sqrt_s: CM energy in GeV.
        theta_min: minimum CM polar angle of both leptons (deg, > 0).
        theta_max: maximum CM polar angle of both leptons (deg).
        xsec_scale: K-factor, or "physics_book" (300 nb / tree level in 10-170 deg at 10.58 GeV).

    Returns:
        TruthEvents with pdg [11, -11], weights in fb.
    """
    sigma = sigma_bhabha(sqrt_s=sqrt_s, theta_min=theta_min, theta_max=theta_max)
    scale = resolve_scale(xsec_scale, PHYSICS_BOOK["ee"], _reference_tree("ee"), "ee")
    lo, hi = symmetric_cos_range(theta_min, theta_max)
    # Importance sampling from 1/(1 - c)^2 (inverse CDF 1/(1 - c) uniform), weight f/g.
    u = 1.0 / (1.0 - lo) + rng.random(n_events) * (1.0 / (1.0 - hi) - 1.0 / (1.0 - lo))
    c = 1.0 - 1.0 / u
    pdf = 1.0 / ((1.0 - c) ** 2 * (1.0 / (1.0 - hi) - 1.0 / (1.0 - lo)))
    weight = dsigma_bhabha_dcos(c, sqrt_s=sqrt_s) / pdf / max(n_events, 1) * scale
    p1, p2 = two_body_cm(sqrt_s, 0.0, 0.0, c, rng.uniform(0.0, 2.0 * np.pi, n_events))
    if n_events:
        log.debug("ee: closed form %.5g fb", sigma * scale)
    return _finish("ee", [PDG_ELECTRON, -PDG_ELECTRON], p1, p2, weight)


@register_process(
    "gammagamma",
    description="e+e- -> gamma gamma, Born (massless e), both photons in a CM theta range",
    xsec=xsec_gammagamma,
)
def generate_gammagamma(
    n_events: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    theta_min: float = 10.0,
    theta_max: float = 170.0,
    xsec_scale: float | str = 1.0,
) -> TruthEvents:
    """Generate weighted e+e- -> gamma gamma events (photon 1 drawn ~ 1/(1 - c^2), weight ~ 1 + c^2).

    Args:
        n_events: number of events.
        rng: random generator.
        sqrt_s: CM energy in GeV.
        theta_min: minimum CM polar angle of both photons (deg, > 0).
        theta_max: maximum CM polar angle of both photons (deg).
        xsec_scale: K-factor, or "physics_book" (4.99 nb / tree level in 10-170 deg at 10.58 GeV).

    Returns:
        TruthEvents with pdg [22, 22], weights in fb.
    """
    lo, hi = _gg_range(theta_min, theta_max)
    scale = resolve_scale(xsec_scale, PHYSICS_BOOK["gammagamma"], _reference_tree("gammagamma"), "gammagamma")
    c, pdf = sample_inverse_sine2_cos(n_events, rng, lo, hi)
    # Identical photons: the cross section is half the integral over photon 1's angle.
    weight = 0.5 * dsigma_gammagamma_dcos(c, sqrt_s=sqrt_s) / pdf / max(n_events, 1) * scale
    p1, p2 = two_body_cm(sqrt_s, 0.0, 0.0, c, rng.uniform(0.0, 2.0 * np.pi, n_events))
    return _finish("gammagamma", [PDG_PHOTON, PDG_PHOTON], p1, p2, weight)


@register_process("mumu", description="e+e- -> mu+mu- Born with the exact massive angular distribution", xsec=xsec_mumu)
def generate_mumu(
    n_events: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    theta_min: float = 0.0,
    theta_max: float = 180.0,
    xsec_scale: float | str = 1.0,
) -> TruthEvents:
    """Generate e+e- -> mu- mu+ Born events with equal weights.

    Args:
        n_events: number of events.
        rng: random generator.
        sqrt_s: CM energy in GeV.
        theta_min: minimum CM polar angle of both muons (deg).
        theta_max: maximum CM polar angle of both muons (deg).
        xsec_scale: K-factor, or "physics_book" (1.148 nb / 0.776 nb at 10.58 GeV, full angle).

    Returns:
        TruthEvents with pdg [13, -13], weights in fb.
    """
    sigma = sigma_mumu(sqrt_s=sqrt_s, theta_min=theta_min, theta_max=theta_max)
    scale = resolve_scale(xsec_scale, PHYSICS_BOOK["mumu"], _reference_tree("mumu"), "mumu")
    lo, hi = symmetric_cos_range(theta_min, theta_max)
    beta2 = 1.0 - 4.0 * MUON_MASS**2 / sqrt_s**2
    c = sample_quadratic_cos(n_events, rng, 2.0 - beta2, beta2, lo, hi)
    p1, p2 = two_body_cm(sqrt_s, MUON_MASS, MUON_MASS, c, rng.uniform(0.0, 2.0 * np.pi, n_events))
    weight = np.full(n_events, sigma * scale / max(n_events, 1))
    return _finish("mumu", [PDG_MUON, -PDG_MUON], p1, p2, weight)
