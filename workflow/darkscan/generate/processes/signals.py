"""Dark-sector 2 -> 2 signals: ``gamma_alp``, ``gamma_darkphoton``, ``darkhiggsstrahlung``.

Tree-level closed forms and angular distributions from ``darkscan.physics.signals``; events in
the CM frame (+z = e-), weights in fb summing to the cross section of the generated phase
space. Decays are prompt and isotropic in the parent rest frame (the A' and a spin-1
polarisation correlations of the decay products are not modelled).
"""

from __future__ import annotations

import logging

import numpy as np

from darkscan.events import PDG_ELECTRON, PDG_MUON, PDG_PHOTON, CrossSection, TruthEvents
from darkscan.generate.processes._twobody import (
    sample_inverse_sine2_cos,
    sample_quadratic_cos,
    sample_until,
    two_body_cm,
)
from darkscan.generate.processes.tautau_qed import isr_factor, sample_isr_cos, sample_isr_fraction
from darkscan.generate.registry import register_process
from darkscan.physics import signals as phys
from darkscan.physics.constants import ELECTRON_MASS, MUON_MASS
from darkscan.physics.kinematics import direction, kallen, two_body_decay

log = logging.getLogger(__name__)

DARKPHOTON_DECAYS = {"ee": (PDG_ELECTRON, ELECTRON_MASS), "mumu": (PDG_MUON, MUON_MASS), "invisible": (0, 0.0)}
ALP_DECAYS = ("gammagamma", "invisible")


def _require_mass(process: str, label: str, mass, low: float, high: float, why: str) -> float:
    if mass is None or not low < float(mass) < high:
        raise ValueError(
            f"{process}: {label} {mass} GeV is outside the allowed range ({max(low, 0.0):.6g}, {high:.6g}) GeV ({why})"
        )
    return float(mass)


def _events(
    n: int, pdg: list[int], p4: list[np.ndarray], invisible: np.ndarray | None, weight: np.ndarray
) -> TruthEvents:
    return TruthEvents(
        pdg=np.tile(np.array(pdg, dtype=np.int32), (n, 1)),
        p4=np.stack(p4, axis=1) if p4 else np.zeros((n, 0, 4)),
        invisible=np.zeros((n, 4)) if invisible is None else invisible,
        weight=weight,
    )


# ---------------------------------------------------------------------------------------------
# ALP


def xsec_gamma_alp(
    *, sqrt_s: float, mass=None, mass2=None, coupling=None, theta_min=None, theta_max=None
) -> CrossSection:
    """sigma(e+e- -> gamma a) in fb (closed form), photon in [theta_min, theta_max] (default: all).

    Args:
        sqrt_s: CM energy in GeV.
        mass: ALP mass in GeV (required).
        mass2: unused.
        coupling: g_agg in GeV^-1 (default 1).
        theta_min: minimum CM photon polar angle in degrees.
        theta_max: maximum CM photon polar angle in degrees.
    """
    mass = _require_mass("gamma_alp", "ALP mass", mass, 0.0, sqrt_s, f"0 < m_a < sqrt_s = {sqrt_s} GeV")
    lo, hi = phys.cos_range(theta_min, theta_max)
    g = 1.0 if coupling is None else float(coupling)
    return CrossSection(phys.sigma_gamma_alp(sqrt_s=sqrt_s, mass=mass, g_agg=g, cos_min=lo, cos_max=hi), 0.0)


@register_process(
    "gamma_alp",
    description="e+e- -> gamma a (ALP-photon coupling), a -> gamma gamma isotropic",
    xsec=xsec_gamma_alp,
    max_mass=lambda sqrt_s: sqrt_s,
)
def generate_gamma_alp(
    n_events: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    mass: float | None = None,
    coupling: float = 1.0,
    photon_theta_min: float = 0.0,
    photon_theta_max: float = 180.0,
    decay: str = "gammagamma",
) -> TruthEvents:
    """Generate e+e- -> gamma a events with equal weights (dsigma/dcos ~ 1 + cos^2).

    Args:
        n_events: number of events.
        rng: random generator.
        sqrt_s: CM energy in GeV.
        mass: ALP mass in GeV, 0 < mass < sqrt_s.
        coupling: g_agg in GeV^-1; weights scale as g^2.
        photon_theta_min: minimum CM polar angle of the recoil photon (deg).
        photon_theta_max: maximum CM polar angle of the recoil photon (deg).
        decay: "gammagamma" (prompt, isotropic; 3 photons) or "invisible" (long-lived a escapes).

    Returns:
        TruthEvents with pdg [22, 22, 22] (recoil photon first) or [22], weights in fb.
    """
    mass = _require_mass("gamma_alp", "ALP mass", mass, 0.0, sqrt_s, f"0 < m_a < sqrt_s = {sqrt_s} GeV")
    if decay not in ALP_DECAYS:
        raise ValueError(f"gamma_alp: unknown decay {decay!r}; allowed: {ALP_DECAYS}")
    lo, hi = phys.cos_range(photon_theta_min, photon_theta_max)
    sigma = phys.sigma_gamma_alp(sqrt_s=sqrt_s, mass=mass, g_agg=float(coupling), cos_min=lo, cos_max=hi)
    c = sample_quadratic_cos(n_events, rng, 1.0, 1.0, lo, hi)
    gamma, alp = two_body_cm(sqrt_s, 0.0, mass, c, rng.uniform(0.0, 2.0 * np.pi, n_events))
    weight = np.full(n_events, sigma / max(n_events, 1))
    log.debug("gamma_alp m=%g g=%g: sigma = %.5g fb", mass, coupling, sigma)
    if decay == "invisible":
        return _events(n_events, [PDG_PHOTON], [gamma], alp, weight)
    g1, g2 = two_body_decay(alp, 0.0, 0.0, rng=rng)
    return _events(n_events, [PDG_PHOTON] * 3, [gamma, g1, g2], None, weight)


# ---------------------------------------------------------------------------------------------
# Dark photon


def _photon_cos_range(process: str, theta_min, theta_max) -> tuple[float, float]:
    lo, hi = phys.cos_range(theta_min, theta_max)
    if lo <= -1.0 or hi >= 1.0:
        raise ValueError(
            f"{process}: photon theta range must exclude the beam axis "
            "(0 < theta_min < theta_max < 180 deg; collinear divergence)"
        )
    return lo, hi


def xsec_gamma_darkphoton(
    *, sqrt_s: float, mass=None, mass2=None, coupling=None, theta_min=None, theta_max=None
) -> CrossSection:
    """sigma(e+e- -> gamma A') in fb (closed form), photon in [theta_min, theta_max] (default 10-170 deg).

    Args:
        sqrt_s: CM energy in GeV.
        mass: A' mass in GeV (required), 0 <= mass < sqrt_s.
        mass2: unused.
        coupling: eps (default 1).
        theta_min: minimum CM photon polar angle in degrees (> 0).
        theta_max: maximum CM photon polar angle in degrees (< 180).
    """
    mass = _require_mass("gamma_darkphoton", "A' mass", mass, -1e-300, sqrt_s, f"0 <= m_A' < sqrt_s = {sqrt_s} GeV")
    lo, hi = _photon_cos_range(
        "gamma_darkphoton", 10.0 if theta_min is None else theta_min, 170.0 if theta_max is None else theta_max
    )
    eps = 1.0 if coupling is None else float(coupling)
    return CrossSection(phys.sigma_gamma_darkphoton(sqrt_s=sqrt_s, mass=mass, eps=eps, cos_min=lo, cos_max=hi), 0.0)


@register_process(
    "gamma_darkphoton",
    description="e+e- -> gamma A' (kinetic mixing eps), A' -> ee, mu mu or invisible",
    xsec=xsec_gamma_darkphoton,
    max_mass=lambda sqrt_s: sqrt_s,
)
def generate_gamma_darkphoton(
    n_events: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    mass: float | None = None,
    coupling: float = 1.0,
    decay: str = "invisible",
    photon_theta_min: float = 10.0,
    photon_theta_max: float = 170.0,
    scenario: str | None = None,
    alpha_d: float = 0.5,
    m_chi: float = 0.0,
    isr: bool = False,
    photon_energy_min: float = 0.0,
) -> TruthEvents:
    """Generate weighted e+e- -> gamma A' events (photon angle ~ 1/sin^2, weight ~ the exact shape).

    Args:
        n_events: number of events.
        rng: random generator.
        sqrt_s: CM energy in GeV.
        mass: A' mass in GeV; 0 < mass < sqrt_s (above 2 m_l for decay "ee"/"mumu").
        coupling: eps; weights scale as eps^2.
        decay: "invisible" (A' four-momentum to ``invisible``), "ee" or "mumu" (isotropic).
        photon_theta_min: minimum CM photon polar angle (deg, > 0).
        photon_theta_max: maximum CM photon polar angle (deg, < 180).
        scenario: None (weights are the production cross section) or a scenario of
            :func:`darkscan.physics.signals.darkphoton_branching_fraction` ("visible",
            "invisible", "dark") whose BF(decay) multiplies the weights.
        alpha_d: alpha_D for scenario "dark".
        m_chi: dark-matter mass in GeV for scenario "dark".
        isr: radiate from the beams first (:func:`_isr_gamma_darkphoton_cm`): the gamma A' pair
            is produced at s' = s (1 - x) and recoils against an ISR photon, which the events
            carry after the others; the weights sum to the ISR-corrected cross section with the
            photon's CM angle in [photon_theta_min, photon_theta_max] and its CM energy above
            ``photon_energy_min``.
        photon_energy_min: with ``isr``, the least CM energy of the gamma A' photon (GeV; a
            generator-level cut: the hard-ISR events whose photon is soft are not generated, and
            sigma no longer depends on how far the ISR spectrum is followed).

    Returns:
        TruthEvents with pdg [22] (+ [l-, l+]) (+ [22] with ``isr``), weights in fb.
    """
    if decay not in DARKPHOTON_DECAYS:
        raise ValueError(f"gamma_darkphoton: unknown decay {decay!r}; allowed: {sorted(DARKPHOTON_DECAYS)}")
    pid, m_l = DARKPHOTON_DECAYS[decay]
    mass = _require_mass(
        "gamma_darkphoton",
        "A' mass",
        mass,
        2.0 * m_l,
        sqrt_s,
        f"{2 * m_l:.6g} < m_A' < sqrt_s = {sqrt_s} GeV for decay {decay!r}",
    )
    lo, hi = _photon_cos_range("gamma_darkphoton", photon_theta_min, photon_theta_max)
    if isr:
        gamma, ap, radiated, weight = _isr_gamma_darkphoton_cm(
            n_events,
            rng,
            sqrt_s=sqrt_s,
            mass=mass,
            eps=float(coupling),
            cos_range=(lo, hi),
            energy_min=float(photon_energy_min),
        )
    else:
        c, pdf = sample_inverse_sine2_cos(n_events, rng, lo, hi)
        weight = (
            phys.dsigma_gamma_darkphoton_dcos(c, sqrt_s=sqrt_s, mass=mass, eps=float(coupling)) / pdf / max(n_events, 1)
        )
        gamma, ap = two_body_cm(sqrt_s, 0.0, mass, c, rng.uniform(0.0, 2.0 * np.pi, n_events))
    if scenario is not None:
        weight = weight * float(
            phys.darkphoton_branching_fraction(
                mass,
                "invisible" if decay == "invisible" else decay,
                scenario=scenario,
                eps=float(coupling),
                alpha_d=alpha_d,
                m_chi=m_chi,
            )
        )
    if n_events:
        log.debug("gamma_darkphoton m=%g eps=%g: sigma = %.5g fb", mass, coupling, weight.sum())
    extra_pdg, extra_p4 = ([PDG_PHOTON], [radiated]) if isr else ([], [])
    if decay == "invisible":
        return _events(n_events, [PDG_PHOTON, *extra_pdg], [gamma, *extra_p4], ap, weight)
    lm, lp = two_body_decay(ap, m_l, m_l, rng=rng)
    return _events(n_events, [PDG_PHOTON, pid, -pid, *extra_pdg], [gamma, lm, lp, *extra_p4], None, weight)


#: the gamma A' pair is produced at sqrt(s') >= m_A' + this (GeV): its photon keeps >= ~0.1 GeV
ISR_PAIR_MARGIN = 0.2


class _DarkPhotonRatio:
    """sigma(s (1 - x)) / sigma(s) of e+e- -> gamma A' with the photon in a fixed range of the pair
    frame (closed form of :func:`darkscan.physics.signals.sigma_gamma_darkphoton`), vectorised in x;
    hashable by value, so the ISR tables of one mass are computed once."""

    def __init__(self, mass: float, cos_min: float, cos_max: float):
        self.key = (float(mass), float(cos_min), float(cos_max))

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other) -> bool:
        return isinstance(other, _DarkPhotonRatio) and self.key == other.key

    def _sigma_shape(self, s: np.ndarray) -> np.ndarray:
        mass, lo, hi = self.key
        r = mass**2 / s
        a = np.arctanh(hi) - np.arctanh(lo)
        return (2.0 * a * (1.0 + r * r) / (1.0 - r) - (1.0 - r) * (hi - lo)) / s

    def __call__(self, x: np.ndarray, *, sqrt_s: float) -> np.ndarray:
        s = sqrt_s**2
        return self._sigma_shape(s * (1.0 - np.asarray(x, float))) / self._sigma_shape(np.asarray(s))


def _isr_gamma_darkphoton(
    n: int, rng: np.random.Generator, *, sqrt_s: float, mass: float, eps: float, cos_range: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """gamma A' with initial-state radiation: (photon, A', ISR photon, weight), CM frame.

    The beams radiate the energy fraction x from the electron structure function times the ratio
    sigma(s') / sigma(s) (:func:`darkscan.generate.processes.tautau_qed.sample_isr_fraction`, the
    tau pairs' and gamma gamma (gamma)'s ISR) up to sqrt(s') = m_A' + ISR_PAIR_MARGIN, with the
    eikonal angular pattern about the beams; the pair is drawn in its rest frame with the photon in
    ``cos_range`` and boosted against the ISR photon. Weights: dsigma(s')/dcos / pdf x F / ratio(x)
    with F the integral of f(x) ratio(x), so that they sum to sigma(s) F; the photon's angle cut
    is in the pair frame (:func:`_isr_gamma_darkphoton_cm` cuts in the CM frame).
    """
    ratio = _DarkPhotonRatio(mass, *cos_range)
    x_max = 1.0 - (mass + ISR_PAIR_MARGIN) ** 2 / sqrt_s**2
    if x_max <= 0.0:
        raise ValueError(f"gamma_darkphoton: isr needs m_A' < sqrt_s - {ISR_PAIR_MARGIN} GeV, got {mass}")
    x = sample_isr_fraction(rng, n, sqrt_s=sqrt_s, x_max=x_max, ratio=ratio)
    factor = isr_factor(sqrt_s=sqrt_s, x_max=x_max, ratio=ratio)
    sqrt_sp = sqrt_s * np.sqrt(1.0 - x)
    c, pdf = sample_inverse_sine2_cos(n, rng, *cos_range)
    dsigma = phys.dsigma_gamma_darkphoton_dcos(c, sqrt_s=sqrt_sp, mass=mass, eps=eps)
    weight = dsigma / pdf / max(n, 1) * factor / ratio(x, sqrt_s=sqrt_s)
    phi = rng.uniform(0.0, 2.0 * np.pi, n)
    # the ISR photon along the beams, the pair recoiling against it (photon at (c, phi) in its frame)
    e_isr = 0.5 * sqrt_s * x
    beam_beta = np.sqrt(1.0 - (2.0 * ELECTRON_MASS / sqrt_s) ** 2)
    radiated = np.zeros((n, 4))
    radiated[:, 0] = e_isr
    radiated[:, 1:] = e_isr[:, None] * direction(
        sample_isr_cos(rng, n, beam_beta=beam_beta), rng.uniform(0, 2 * np.pi, n)
    )
    photon, dark_photon = two_body_decay(np.array([sqrt_s, 0.0, 0.0, 0.0]) - radiated, 0.0, mass, cos_theta=c, phi=phi)
    return photon, dark_photon, radiated, weight


#: pair-frame photon angles drawn for the CM-frame cuts (deg): every CM photon in 45-125 deg comes
#: from within them for pair velocities up to ~0.98 (ISR fractions up to ~0.99)
ISR_PAIR_FRAME_THETA = (5.0, 175.0)


def _isr_gamma_darkphoton_cm(
    n: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    mass: float,
    eps: float,
    cos_range: tuple[float, float],
    energy_min: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_isr_gamma_darkphoton` with the photon cuts in the CM frame: drawn in the wide pair-frame
    range ISR_PAIR_FRAME_THETA, kept where the CM photon lies in ``cos_range`` above ``energy_min``;
    the weights of the kept events sum to the cross section of that phase space."""
    wide = _photon_cos_range("gamma_darkphoton", *ISR_PAIR_FRAME_THETA)
    if n == 0:
        return np.zeros((0, 4)), np.zeros((0, 4)), np.zeros((0, 4)), np.zeros(0)

    def draw(size: int):
        gamma, ap, radiated, weight = _isr_gamma_darkphoton(
            size, rng, sqrt_s=sqrt_s, mass=mass, eps=eps, cos_range=wide
        )
        cos = gamma[:, 3] / np.maximum(gamma[:, 0], 1e-300)
        keep = (cos >= cos_range[0]) & (cos <= cos_range[1]) & (gamma[:, 0] >= energy_min)
        unnormalised = weight * size  # the draw's own 1 / size undone: the trials normalise below
        return keep, lambda index: (gamma[index], ap[index], radiated[index], unnormalised[index])

    kept, trials = sample_until(n, draw, batch=200_000, first_acceptance=0.3)
    gamma, ap, radiated, weight = (np.concatenate([part[i] for part in kept]) for i in range(4))
    return gamma, ap, radiated, weight / max(trials, 1)


# ---------------------------------------------------------------------------------------------
# Dark Higgsstrahlung


def _check_dh_masses(mass, mass2, sqrt_s: float) -> tuple[float, float]:
    m_a = _require_mass(
        "darkhiggsstrahlung",
        "A' mass",
        mass,
        2.0 * MUON_MASS,
        sqrt_s,
        f"A' -> mu mu needs 2 m_mu < m_A' < sqrt_s = {sqrt_s} GeV",
    )
    m_h = _require_mass(
        "darkhiggsstrahlung",
        "h' mass",
        mass2,
        -1e-300,
        sqrt_s - m_a,
        f"0 <= m_h' < sqrt_s - m_A' = {sqrt_s - m_a:.6g} GeV",
    )
    return m_a, m_h


def xsec_darkhiggsstrahlung(
    *, sqrt_s: float, mass=None, mass2=None, coupling=None, theta_min=None, theta_max=None
) -> CrossSection:
    """sigma(e+e- -> A' h') in fb (closed form, Batell-Pospelov-Ritz), no angular cuts.

    Args:
        sqrt_s: CM energy in GeV.
        mass: A' mass in GeV (required, > 2 m_mu).
        mass2: h' mass in GeV (required).
        coupling: eps^2 alpha_D (default 1).
        theta_min: must be None (no angular cut implemented).
        theta_max: must be None.
    """
    if theta_min is not None or theta_max is not None:
        raise ValueError("darkhiggsstrahlung: xsec has no angular cuts; leave theta_min/theta_max unset")
    m_a, m_h = _check_dh_masses(mass, mass2, sqrt_s)
    k = 1.0 if coupling is None else float(coupling)
    return CrossSection(phys.sigma_darkhiggsstrahlung(sqrt_s=sqrt_s, mass_ap=m_a, mass_h=m_h, eps2_alpha_d=k), 0.0)


@register_process(
    "darkhiggsstrahlung",
    description="e+e- -> A' h' (dark Higgsstrahlung), A' -> mu mu, h' invisible",
    xsec=xsec_darkhiggsstrahlung,
)
def generate_darkhiggsstrahlung(
    n_events: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    mass: float | None = None,
    mass2: float | None = None,
    coupling: float = 1.0,
    scenario: str | None = None,
) -> TruthEvents:
    """Generate e+e- -> A' h' events with equal weights, A' -> mu+ mu- (isotropic), h' invisible.

    Args:
        n_events: number of events.
        rng: random generator.
        sqrt_s: CM energy in GeV.
        mass: A' mass in GeV, 2 m_mu < mass < sqrt_s.
        mass2: h' mass in GeV, 0 <= mass2 < sqrt_s - mass.
        coupling: eps^2 alpha_D; weights scale linearly.
        scenario: None (production cross section) or "visible" (weights times BF(A' -> mu mu)
            with SM widths: valid when A' -> h' X and dark decays are closed).

    Returns:
        TruthEvents with pdg [13, -13] and the h' in ``invisible``, weights in fb.
    """
    m_a, m_h = _check_dh_masses(mass, mass2, sqrt_s)
    sigma = phys.sigma_darkhiggsstrahlung(sqrt_s=sqrt_s, mass_ap=m_a, mass_h=m_h, eps2_alpha_d=float(coupling))
    if scenario is not None:
        sigma *= float(phys.darkphoton_branching_fraction(m_a, "mumu", scenario=scenario))
    s = sqrt_s**2
    xa = m_a**2 / s
    lam = float(kallen(1.0, xa, m_h**2 / s))
    c = sample_quadratic_cos(n_events, rng, 8.0 * xa + lam, -lam, -1.0, 1.0)
    ap, hp = two_body_cm(sqrt_s, m_a, m_h, c, rng.uniform(0.0, 2.0 * np.pi, n_events))
    mum, mup = two_body_decay(ap, MUON_MASS, MUON_MASS, rng=rng)
    log.debug("darkhiggsstrahlung m_A'=%g m_h'=%g: sigma = %.5g fb", m_a, m_h, sigma)
    return _events(n_events, [PDG_MUON, -PDG_MUON], [mum, mup], hp, np.full(n_events, sigma / max(n_events, 1)))
