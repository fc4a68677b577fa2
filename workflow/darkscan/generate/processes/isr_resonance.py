"""Radiative return to a narrow vector resonance: process ``isr_resonance``.

e+e- -> gamma V, V -> l+ l- with the photon from initial-state radiation, V one of J/psi,
psi(2S), Upsilon(1S), Upsilon(2S), Upsilon(3S), phi: the peaking backgrounds that the visible
dark-photon searches veto (a narrow dilepton peak at the resonance mass).

**Matrix element** (tree level, narrow width): the resonance couples like a photon, so its
|M|^2 is the ISR |M|^2 of e+e- -> l+ l- gamma through a virtual photon
(:func:`darkscan.physics.matrix_elements.me2_mumu_v`, ISR only, lepton masses kept) times
R(Q^2) = sigma_V(Q^2) / sigma_point(Q^2) = (9 / alpha^2) B_ee B_ll m^2 Gamma^2 /
((Q^2 - m^2)^2 + m^2 Gamma^2); in the narrow-width limit Q^2 = m^2 and the integral of R over
Q^2 is 9 pi B_ee B_ll m Gamma / alpha^2. Integrated over the lepton angles this gives the
radiator formula dsigma / dcos(theta) = W(s, x, theta) 12 pi^2 Gamma_ee B_ll / (m s),
x = 1 - m^2 / s, which ``tests/generate/test_isr_resonance.py`` checks. Interference with the
continuum and the resonance's width in the dilepton mass are left out (all these widths are
below the detectors' mass resolutions).

**Parameters**: masses and total widths from the ``particle`` package (PDG data); Gamma_ee and
B_mumu from the PDG 2024 summary tables (RESONANCES below), B_ee = Gamma_ee / Gamma.

**Phase space and weights** (CM frame): the photon at the fixed energy (s - m^2) / (2 sqrt(s)),
cos(theta) ~ 1 / sin^2 in the CM range, the lepton direction uniform in the V rest frame;
weights in fb sum to the cross section of the cut phase space.
"""

from __future__ import annotations

import dataclasses
import functools
import logging

import numpy as np
from particle import Particle

from darkscan.events import PDG_ELECTRON, PDG_MUON, PDG_PHOTON, TruthEvents
from darkscan.generate.processes._twobody import sample_inverse_sine2_cos
from darkscan.generate.registry import register_process
from darkscan.physics.constants import ALPHA_EM, ELECTRON_MASS, GEV2_TO_FB, MUON_MASS
from darkscan.physics.kinematics import direction, two_body_decay
from darkscan.physics.matrix_elements import me2_mumu_v

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Resonance:
    """A vector resonance: PDG id (mass and width from ``particle``), electronic width (keV) and
    B(V -> mu mu)."""

    pdgid: int
    gamma_ee_kev: float
    b_mumu: float

    @functools.cached_property
    def mass(self) -> float:
        """Mass in GeV."""
        return float(Particle.from_pdgid(self.pdgid).mass) / 1e3

    @functools.cached_property
    def width(self) -> float:
        """Total width in GeV."""
        return float(Particle.from_pdgid(self.pdgid).width) / 1e3

    @property
    def gamma_ee(self) -> float:
        """Electronic width in GeV."""
        return self.gamma_ee_kev * 1e-6

    @property
    def b_ee(self) -> float:
        """B(V -> e e) = Gamma_ee / Gamma."""
        return self.gamma_ee / self.width


#: PDG 2024 summary tables: Gamma(V -> e e) in keV and B(V -> mu mu) (psi(2S)'s B(mu mu) = 8.0e-3
#: read on pdgLive here; the others as the tables give them, not re-read this session)
RESONANCES = {
    "jpsi": Resonance(443, 5.53, 0.05961),
    "psi2s": Resonance(100443, 2.33, 0.0080),
    "upsilon1s": Resonance(553, 1.340, 0.0248),
    "upsilon2s": Resonance(100553, 0.612, 0.0193),
    "upsilon3s": Resonance(200553, 0.443, 0.0218),
    "phi": Resonance(333, 1.27, 2.86e-4),
}
DECAYS = {"ee": (PDG_ELECTRON, ELECTRON_MASS), "mumu": (PDG_MUON, MUON_MASS)}
#: the radiated photon's least CM energy (GeV): at the resonance peak itself (KLOE on the phi)
#: there is no radiative return
MIN_PHOTON_ENERGY = 0.01


def _events(n, rng, sqrt_s, resonance: Resonance, decay: str, cos_range):
    pid, m_l = DECAYS[decay]
    m = resonance.mass
    energy = (sqrt_s**2 - m**2) / (2.0 * sqrt_s)
    cos, pdf_cos = sample_inverse_sine2_cos(n, rng, *cos_range)
    k = np.zeros((n, 4))
    k[:, 0] = energy
    k[:, 1:] = energy * direction(cos, rng.uniform(0.0, 2.0 * np.pi, n))
    beta = np.sqrt(1.0 - 4.0 * m_l**2 / m**2)
    lepton_minus, lepton_plus = two_body_decay(np.array([sqrt_s, 0.0, 0.0, 0.0]) - k, m_l, m_l, rng=rng)
    half = sqrt_s / 2.0
    p_beam = np.sqrt(half**2 - ELECTRON_MASS**2)
    e_minus = np.tile([half, 0.0, 0.0, p_beam], (n, 1))
    e_plus = np.tile([half, 0.0, 0.0, -p_beam], (n, 1))
    e = np.sqrt(4.0 * np.pi * ALPHA_EM)
    me2 = me2_mumu_v(e_minus, e_plus, lepton_minus, lepton_plus, k, g=e, g_e=e, fsr=False, isr=True, m_mu=m_l)
    b_ll = resonance.b_ee if decay == "ee" else resonance.b_mumu
    r_integral = 9.0 * np.pi * resonance.b_ee * b_ll * m * resonance.width / ALPHA_EM**2
    # dPhi_3 = dPhi_2(P; k, Q) dPhi_2(Q; l l) dQ^2 / 2 pi with the Q^2 integral taken by R
    dphi = energy / (16.0 * np.pi**2 * sqrt_s) * beta / (32.0 * np.pi**2) / (2.0 * np.pi)
    pdf = pdf_cos / (2.0 * np.pi) / (4.0 * np.pi)
    weight = me2 * r_integral / (2.0 * sqrt_s**2) * dphi / pdf * GEV2_TO_FB / max(n, 1)
    return k, lepton_minus, lepton_plus, weight, pid


@register_process(
    "isr_resonance",
    description="e+e- -> gamma V (ISR), V -> l+ l-: J/psi, psi(2S), Upsilon(1S-3S), phi (narrow width)",
    radiative="one real ISR photon at tree level; the resonance in the narrow-width limit",
)
def generate(
    n_events: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    resonance: str = "jpsi",
    decay: str = "mumu",
    photon_theta_min: float = 20.0,
    photon_theta_max: float = 160.0,
) -> TruthEvents:
    """Generate weighted e+e- -> gamma V, V -> l- l+ events (CM frame).

    Args:
        n_events: number of events.
        rng: random generator.
        sqrt_s: CM energy in GeV (above the resonance mass).
        resonance: one of RESONANCES (jpsi, psi2s, upsilon1s, upsilon2s, upsilon3s, phi).
        decay: "mumu" or "ee".
        photon_theta_min: minimum CM photon polar angle (deg, > 0).
        photon_theta_max: maximum CM photon polar angle (deg, < 180).

    Returns:
        TruthEvents with pdg [22, l-, l+], weights in fb.
    """
    if resonance not in RESONANCES:
        raise ValueError(f"isr_resonance: unknown resonance {resonance!r}; allowed: {sorted(RESONANCES)}")
    if decay not in DECAYS:
        raise ValueError(f"isr_resonance: unknown decay {decay!r}; allowed: {sorted(DECAYS)}")
    res = RESONANCES[resonance]
    if not (sqrt_s**2 - res.mass**2) / (2.0 * sqrt_s) > MIN_PHOTON_ENERGY:
        raise ValueError(
            f"isr_resonance: {resonance} ({res.mass:.6g} GeV) needs sqrt_s above its mass, with a photon of "
            f"> {MIN_PHOTON_ENERGY} GeV, got sqrt_s = {sqrt_s} GeV"
        )
    if not 0.0 < photon_theta_min < photon_theta_max < 180.0:
        raise ValueError(
            "isr_resonance: need 0 < photon_theta_min < photon_theta_max < 180 deg (collinear divergence), "
            f"got {photon_theta_min}, {photon_theta_max}"
        )
    cos_range = (float(np.cos(np.radians(photon_theta_max))), float(np.cos(np.radians(photon_theta_min))))
    k, lm, lp, weight, pid = _events(n_events, rng, sqrt_s, res, decay, cos_range)
    if n_events:
        log.debug("isr_resonance %s -> %s: sigma = %.4g fb", resonance, decay, weight.sum())
    pdg = np.tile(np.array([PDG_PHOTON, pid, -pid], dtype=np.int32), (n_events, 1))
    return TruthEvents(pdg=pdg, p4=np.stack([k, lm, lp], axis=1), invisible=np.zeros((n_events, 4)), weight=weight)
