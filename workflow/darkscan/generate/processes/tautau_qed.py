"""Built-in e+e- -> tau+ tau- (gamma) -> mu+ mu- (e+- mu-+) + 4 nu: QED Born, ISR, V-A decays.

The fast alternative to the Pythia ``tautau`` process for the channel where both taus decay to
muons (pseudo-data at full luminosity: ~12 M tau pairs in 424 fb^-1). Per event:

1. **ISR.** The energy fraction x = 2 E_gamma / sqrt(s) radiated by the beams follows the
   electron structure function to O(alpha) with soft-photon exponentiation (Kuraev & Fadin, Sov.
   J. Nucl. Phys. 41 (1985) 466; the form used by Pythia's ``PDF:lepton`` and by KKMC's crude
   distribution), ``f(x) = beta x^(beta - 1) (1 + 3 beta / 4) - beta (1 - x / 2)`` with
   ``beta = 2 alpha / pi (ln(s / m_e^2) - 1)``, times the Born cross section at the reduced
   energy s' = s (1 - x). One photon carries x; its polar angle follows the eikonal
   (soft-photon) radiation pattern of the two beams, ``sin^2(theta) / (1 - b^2 cos^2(theta))^2``
   with b the beam velocity, its azimuth is uniform.
2. **Tau pair** in its rest frame: the massive Born distribution
   ``1 + cos^2(theta) + (1 - beta_tau^2) sin^2(theta)`` (one-photon exchange; Z exchange
   changes it by < 1% at 10.58 GeV) about the beam axis, boosted against the photon; at most one
   FSR photon off the taus at O(alpha) (:func:`final_state_radiation`, ~10% of events above 1 MeV).
3. **Decays** tau -> mu nu nu (process ``tautau_qed``), or one tau -> e nu nu and the other ->
   mu nu nu (``tautau_qed_emu``, either tau with probability 1/2, for the e mu searches), with the
   V-A (Michel) lepton spectra at the lepton's mass and the tau-pair spin correlations, by the
   same accept-reject as Pythia's ``spin_correlations="reweight"``
   (:func:`darkscan.generate.processes._tau_decays.apply_spin_correlations`).

Not included: several ISR (FSR) photons (their sum is the one photon here) and radiative tau
decays. ``tests/generate/test_tautau_qed.py`` compares the muon, dimuon, recoil and
photon spectra with the Pythia process. The normalisation is the Physics Book cross section times
BF(tau -> mu nu nu)^2 (2 BF(tau -> e nu nu) BF(tau -> mu nu nu)), as for the Pythia process; the
events carry equal weights.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np

from darkscan.events import PDG_ELECTRON, PDG_MUON, PDG_PHOTON, CrossSection, TruthEvents
from darkscan.generate.processes._tau_decays import apply_spin_correlations
from darkscan.generate.processes.tautau import (  # the Pythia process's normalisation
    NB_TO_FB,
    XSEC_TAUTAU_NB,
    xsec_tautau_mumu,
)
from darkscan.generate.registry import register_process
from darkscan.physics.constants import (
    ALPHA_EM,
    BF_TAU_TO_E_NU_NU,
    BF_TAU_TO_MU_NU_NU,
    ELECTRON_MASS,
    MUON_MASS,
    TAU_MASS,
)
from darkscan.physics.kinematics import boost, direction, orthonormal_frame

#: photons softer than this (GeV) are not written (their energy is below every detector threshold)
_SOFT_PHOTON = 1.0e-4
_GRID = 200_001
_BLOCK = 100_000
#: lowest FSR photon energy generated (GeV, tau-pair rest frame)
_FSR_MIN = 1.0e-3
#: lowest tau-pair mass generated (GeV), as for the Pythia process
_PAIR_MASS_MIN = 2.0 * TAU_MASS + 1e-3


def isr_beta(sqrt_s: float) -> float:
    """Exponent of the electron structure function, 2 alpha / pi (ln(s / m_e^2) - 1)."""
    return 2.0 * ALPHA_EM / math.pi * (math.log(sqrt_s**2 / ELECTRON_MASS**2) - 1.0)


def born_ratio(x: np.ndarray, *, sqrt_s: float) -> np.ndarray:
    """sigma_Born(s (1 - x)) / sigma_Born(s) for e+e- -> gamma* -> tau+ tau-: 1/s times beta (3 - beta^2) / 2."""
    s_red = sqrt_s**2 * (1.0 - np.asarray(x, float))
    beta2 = np.clip(1.0 - 4.0 * TAU_MASS**2 / np.maximum(s_red, 1e-300), 0.0, 1.0)
    beta2_0 = 1.0 - 4.0 * TAU_MASS**2 / sqrt_s**2
    shape = np.sqrt(beta2) * (3.0 - beta2) / 2.0
    return (sqrt_s**2 / np.maximum(s_red, 1e-300)) * shape / (math.sqrt(beta2_0) * (3.0 - beta2_0) / 2.0)


@functools.lru_cache(maxsize=8)
def _isr_table(sqrt_s: float, x_max: float, ratio: Callable) -> tuple[np.ndarray, np.ndarray, float]:
    """Inverse-CDF table of x in the variable t = x^beta (which absorbs the x^(beta - 1) peak),
    and the integral of f(x) ratio(x) over [0, x_max]."""
    beta = isr_beta(sqrt_s)
    t = np.linspace(0.0, x_max**beta, _GRID)
    x = t ** (1.0 / beta)
    # f(x) dx = [ (1 + 3 beta / 4) - (1 - x / 2) x^(1 - beta) ] dt, times the Born ratio
    density = np.maximum((1.0 + 0.75 * beta) - (1.0 - 0.5 * x) * x ** (1.0 - beta), 0.0) * ratio(x, sqrt_s=sqrt_s)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(t))])
    return cdf / cdf[-1], x, float(cdf[-1])


def sample_isr_fraction(
    rng: np.random.Generator, n: int, *, sqrt_s: float, x_max: float, ratio: Callable = born_ratio, x_min: float = 0.0
) -> np.ndarray:
    """ISR energy fractions x in [x_min, x_max] from the structure function times the Born ratio
    sigma_Born(s (1 - x)) / sigma_Born(s) of the process (``ratio(x, sqrt_s=...)``; default tau pairs)."""
    cdf, x, _ = _isr_table(float(sqrt_s), float(x_max), ratio)
    u = rng.random(n)
    if x_min > 0.0:
        start = float(np.interp(x_min, x, cdf))
        u = start + u * (1.0 - start)
    return np.interp(u, cdf, x)


def isr_factor(*, sqrt_s: float, x_max: float, ratio: Callable = born_ratio, x_min: float = 0.0) -> float:
    """The integral of f(x) ratio(x) over [x_min, x_max] (x_min = 0: ISR-corrected over Born cross section)."""
    cdf, x, total = _isr_table(float(sqrt_s), float(x_max), ratio)
    return total * (1.0 - float(np.interp(x_min, x, cdf)))


def sample_eikonal_cos(rng: np.random.Generator, velocity: np.ndarray) -> np.ndarray:
    """cos(theta) of a soft photon radiated by two opposite charges with velocity b (per event):
    sin^2 / (1 - b^2 cos^2)^2; proposal 1 / (1 - b^2 cos^2), then accept (1 - c^2) / (1 - b^2 c^2)."""
    velocity = np.asarray(velocity, float)
    out = np.empty(len(velocity))
    todo = np.arange(len(velocity))
    while len(todo):
        b = velocity[todo]
        c = np.tanh(rng.uniform(-1.0, 1.0, len(todo)) * np.arctanh(b)) / b
        keep = rng.random(len(todo)) * (1.0 - b * b * c * c) < 1.0 - c * c
        out[todo[keep]] = c[keep]
        todo = todo[~keep]
    return out


def sample_isr_cos(rng: np.random.Generator, n: int, *, beam_beta: float) -> np.ndarray:
    """ISR photon cos(theta) about the beams (:func:`sample_eikonal_cos` with the beam velocity)."""
    return sample_eikonal_cos(rng, np.full(n, beam_beta))


def fsr_probability_density(velocity: np.ndarray) -> np.ndarray:
    """A(b) in dN = A (1 - y + y^2 / 2) d(omega) / omega for photons off a tau pair with velocity b in
    its rest frame: (alpha / pi) [(1 + b^2) / b ln((1 + b) / (1 - b)) - 2] (soft-photon factor)."""
    b = np.asarray(velocity, float)
    return ALPHA_EM / math.pi * ((1.0 + b * b) / b * np.log((1.0 + b) / (1.0 - b)) - 2.0)


def sample_born_cos(rng: np.random.Generator, beta: np.ndarray) -> np.ndarray:
    """tau- cos(theta) about the e- beam from 1 + c^2 + (1 - beta^2)(1 - c^2) (accept-reject, maximum 2)."""
    out = np.empty(len(beta))
    todo = np.arange(len(beta))
    while len(todo):
        c = rng.uniform(-1.0, 1.0, len(todo))
        b2 = beta[todo] ** 2
        keep = rng.random(len(todo)) * 2.0 < 1.0 + c * c + (1.0 - b2) * (1.0 - c * c)
        out[todo[keep]] = c[keep]
        todo = todo[~keep]
    return out


def _tau_pair(mass: np.ndarray, k: np.ndarray) -> np.ndarray:
    """tau- along k and tau+ opposite, (n, 2, 4), in the rest frame of a pair of mass ``mass``."""
    p = 0.5 * np.sqrt(np.maximum(mass**2 - 4.0 * TAU_MASS**2, 0.0))
    rest = np.zeros((len(mass), 2, 4))
    rest[:, :, 0] = 0.5 * mass[:, None]
    rest[:, 0, 1:] = p[:, None] * k
    rest[:, 1, 1:] = -p[:, None] * k
    return rest


def final_state_radiation(rng: np.random.Generator, mass: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most one photon off the taus, in the tau-pair rest frame, and the taus recoiling against it.

    Photon energies follow A(b) (1 - y + y^2 / 2) d(omega) / omega (y = 2 omega / M, the
    soft-photon factor times the collinear splitting function), from 1 MeV to the kinematic limit,
    at O(alpha) (emission probability ~10% at 10.58 GeV); directions follow the eikonal pattern
    about the taus. The recoiling taus keep their directions in their new rest frame.

    Returns:
        photon (n, 4) (zeros without emission) and tau-, tau+ (n, 2, 4), in the pair rest frame.
    """
    n = len(mass)
    beta = np.sqrt(np.clip(1.0 - 4.0 * TAU_MASS**2 / mass**2, 1e-12, 1.0 - 1e-15))
    omega_max = (mass**2 - _PAIR_MASS_MIN**2) / (2.0 * mass)
    log_range = np.log(np.maximum(omega_max, _FSR_MIN) / _FSR_MIN)
    omega = _FSR_MIN * np.exp(rng.random(n) * log_range)
    y = 2.0 * omega / mass
    emit = (rng.random(n) < np.minimum(fsr_probability_density(beta) * log_range, 1.0)) & (
        rng.random(n) < 1.0 - y + 0.5 * y * y
    )
    photon = np.zeros((n, 4))
    taus = _tau_pair(mass, k)
    idx = np.flatnonzero(emit)
    if len(idx):
        tau_frame = orthonormal_frame(k[idx, 2], np.arctan2(k[idx, 1], k[idx, 0]))
        photon[idx, 0] = omega[idx]
        photon[idx, 1:] = omega[idx, None] * direction(
            sample_eikonal_cos(rng, beta[idx]), rng.uniform(0.0, 2.0 * np.pi, len(idx)), tau_frame
        )
        # the taus' system recoils with momentum -k_gamma and energy M - omega
        recoil_velocity = -photon[idx, 1:] / (mass[idx] - omega[idx])[:, None]
        new_mass = np.sqrt(mass[idx] ** 2 - 2.0 * mass[idx] * omega[idx])
        taus[idx] = boost(_tau_pair(new_mass, k[idx]), recoil_velocity[:, None, :])
    return photon, taus


def production(rng: np.random.Generator, n: int, *, sqrt_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ISR photons (n, 4), FSR photons (n, 4; zeros without one) and tau-, tau+ (n, 2, 4), CM frame (e- along +z)."""
    x_max = 1.0 - _PAIR_MASS_MIN**2 / sqrt_s**2
    x = sample_isr_fraction(rng, n, sqrt_s=sqrt_s, x_max=x_max)
    e_gamma = 0.5 * sqrt_s * x
    beam_beta = math.sqrt(1.0 - (2.0 * ELECTRON_MASS / sqrt_s) ** 2)
    photon = np.empty((n, 4))
    photon[:, 0] = e_gamma
    photon[:, 1:] = e_gamma[:, None] * direction(
        sample_isr_cos(rng, n, beam_beta=beam_beta), rng.uniform(0.0, 2.0 * np.pi, n)
    )
    pair = np.empty((n, 4))
    pair[:, 0] = sqrt_s - e_gamma
    pair[:, 1:] = -photon[:, 1:]
    mass = np.sqrt(sqrt_s**2 * (1.0 - x))
    beta = np.sqrt(np.clip(1.0 - 4.0 * TAU_MASS**2 / mass**2, 0.0, 1.0))
    k = direction(sample_born_cos(rng, beta), rng.uniform(0.0, 2.0 * np.pi, n))
    fsr, rest = final_state_radiation(rng, mass, k)
    pair_velocity = pair[:, 1:] / pair[:, :1]
    return photon, boost(fsr, pair_velocity), boost(rest, pair_velocity[:, None, :])


def _final_state(
    rng: np.random.Generator, n: int, *, sqrt_s: float, decays: str = "mumu"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pdg (n, 4), p4 (n, 4, 4) of l-, l+, ISR photon, FSR photon and the neutrino sum (n, 4) of n events.

    ``decays``: "mumu" (both taus -> mu nu nu) or "emu" (one tau, either with probability 1/2, -> e nu nu,
    the other -> mu nu nu).
    """
    isr, fsr, taus = production(rng, n, sqrt_s=sqrt_s)
    electron = np.zeros((n, 2), dtype=bool)
    if decays == "emu":
        first = rng.random(n) < 0.5
        electron[:, 0], electron[:, 1] = first, ~first
    p4 = np.zeros((n, 4, 4))
    p4[:, 0] = 0.5 * taus[:, 0]  # placeholders: apply_spin_correlations writes the muons
    p4[:, 1] = 0.5 * taus[:, 1]
    p4[:, 2] = isr
    p4[:, 3] = fsr
    tags = np.tile(np.array([1, 2, 0, 0]), (n, 1))
    invisible = np.zeros((n, 3, 4))
    kind = np.ones((n, 2), dtype=np.int64)
    m_lep = np.where(electron, ELECTRON_MASS, MUON_MASS)
    apply_spin_correlations(
        p4, tags, invisible, taus, (kind, p4[:, :2].copy(), np.zeros((n, 2, 4)), m_lep), rng, sqrt_s=sqrt_s
    )
    pdg = np.tile(np.array([PDG_MUON, -PDG_MUON, PDG_PHOTON, PDG_PHOTON], dtype=np.int32), (n, 1))
    pdg[:, :2] = np.where(electron, PDG_ELECTRON, PDG_MUON) * np.array([1, -1], dtype=np.int32)
    soft = p4[:, 2:, 0] < _SOFT_PHOTON
    pdg[:, 2:][soft] = 0
    p4[:, 2:][soft] = 0.0
    return pdg, p4, invisible.sum(axis=1)


#: branching-fraction product of each final state (tau-pair cross section times this)
BRANCHING = {
    "mumu": BF_TAU_TO_MU_NU_NU**2,
    "emu": 2.0 * BF_TAU_TO_E_NU_NU * BF_TAU_TO_MU_NU_NU,
}


def xsec_tautau_emu(*, sqrt_s: float, mass=None, mass2=None, coupling=None, theta_min=None, theta_max=None):
    """The normalisation of ``tautau_qed_emu``: 0.919 nb x 2 BF(tau -> e nu nu) BF(tau -> mu nu nu) in fb."""
    if theta_min is not None or theta_max is not None:
        raise ValueError(
            "tautau_qed_emu: no --theta-min/--theta-max acceptance; set generator cuts in a channel config"
        )
    return CrossSection(XSEC_TAUTAU_NB * NB_TO_FB * BRANCHING["emu"], 0.0)


@register_process(
    "tautau_qed",
    description=(
        "e+e- -> tau+ tau- (gamma) -> mu+ mu- 4 nu, built in: QED Born, ISR structure function, "
        "V-A decays with spin correlations"
    ),
    unweighted=True,
    xsec=xsec_tautau_mumu,
    radiative="normalised to the Belle II Physics Book value (0.919 nb at 10.58 GeV, with radiative corrections)",
)
def generate(n_events: int, rng: np.random.Generator, *, sqrt_s: float, xsec_nb: float = XSEC_TAUTAU_NB) -> TruthEvents:
    """Generate e+e- -> tau+ tau- (gamma) events with both taus decaying to mu nu nu.

    Args:
        n_events: number of events.
        rng: random generator (same seed, same events).
        sqrt_s: CM energy in GeV (above the tau-pair threshold).
        xsec_nb: total tau-pair cross section in nb used for the normalisation (default: the Belle
            II Physics Book value at 10.58 GeV; pass the right value at other energies).

    Returns:
        Equal-weight events (mu-, mu+, ISR photon, FSR photon; photons below 0.1 MeV are padding) whose
        weights sum to xsec_nb x BF(tau -> mu nu nu)^2 in fb; the four neutrinos in ``invisible``.
    """
    return _generate(n_events, rng, sqrt_s=sqrt_s, xsec_nb=xsec_nb, decays="mumu")


@register_process(
    "tautau_qed_emu",
    description=(
        "e+e- -> tau+ tau- (gamma) -> e+- mu-+ 4 nu, built in: QED Born, ISR structure function, "
        "V-A decays with spin correlations"
    ),
    unweighted=True,
    xsec=xsec_tautau_emu,
    radiative="normalised to the Belle II Physics Book value (0.919 nb at 10.58 GeV, with radiative corrections)",
)
def generate_emu(
    n_events: int, rng: np.random.Generator, *, sqrt_s: float, xsec_nb: float = XSEC_TAUTAU_NB
) -> TruthEvents:
    """Generate e+e- -> tau+ tau- (gamma) events with one tau -> e nu nu and the other -> mu nu nu.

    As :func:`generate`, with the lepton of either tau (probability 1/2 each) an electron: the V-A
    spectrum with the electron mass and the same spin correlations. Weights sum to
    xsec_nb x 2 BF(tau -> e nu nu) BF(tau -> mu nu nu) in fb; the leptons are (l-, l+) = (e-, mu+) or (mu-, e+).
    """
    return _generate(n_events, rng, sqrt_s=sqrt_s, xsec_nb=xsec_nb, decays="emu")


def _generate(n_events: int, rng: np.random.Generator, *, sqrt_s: float, xsec_nb: float, decays: str) -> TruthEvents:
    """Checks, blocks of :func:`_final_state` and the normalisation of both processes."""
    if n_events < 0:
        raise ValueError(f"n_events must be >= 0, got {n_events}")
    if sqrt_s <= _PAIR_MASS_MIN:
        raise ValueError(f"tautau_qed: sqrt_s = {sqrt_s} GeV is below the tau-pair threshold ({2 * TAU_MASS:.4f} GeV)")
    if xsec_nb <= 0:
        raise ValueError(f"tautau_qed: xsec_nb must be positive, got {xsec_nb}")
    if n_events == 0:
        return TruthEvents(np.zeros((0, 4), np.int32), np.zeros((0, 4, 4)), np.zeros((0, 4)), np.zeros(0))
    # blocks of _BLOCK events keep the memory of the spin-correlation step flat
    blocks = [
        _final_state(rng, min(_BLOCK, n_events - start), sqrt_s=sqrt_s, decays=decays)
        for start in range(0, n_events, _BLOCK)
    ]
    pdg, p4, invisible = (np.concatenate(column) for column in zip(*blocks, strict=False))
    sigma_fb = xsec_nb * NB_TO_FB * BRANCHING[decays]
    return TruthEvents(pdg=pdg, p4=p4, invisible=invisible, weight=np.full(n_events, sigma_fb / n_events))
