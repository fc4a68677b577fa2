"""e+e- -> e+e- mu+mu- through two-photon collisions: exact multiperipheral matrix element.

Model. The weight of every event is the exact tree-level squared matrix element of the two
multiperipheral (two-photon) diagrams of e+e- -> e+e- l+l- (photon propagators 1/q1^2 1/q2^2,
t- and u-channel lepton exchange, all masses and both photon virtualities kept, transverse and
scalar photons and all their interferences included; Budnev, Ginzburg, Meledin and Serbo, Phys.
Rep. 15 (1975) 181, sect. 5), computed numerically with Dirac matrices and spinors
(:func:`_twophoton_phasespace.me2_multiperipheral`), divided by the density of the sampler.
Neglected: the bremsstrahlung, conversion and annihilation diagrams (and, for l = e, the
identical-particle interference), small for W > 0.5 GeV without tags (Berends, Daverveldt,
Kleiss, Nucl. Phys. B253 (1985) 441). With W(mu mu) > 0.5 GeV at sqrt(s) = 10.58 GeV this gives
18.5 nb; the Belle II Physics Book (PTEP 2019 123C01, AAFH with all diagrams) quotes 18.9 nb.

Sampler (equivalent-photon approximation, EPA). Each beam radiates a photon with energy fraction
x and virtuality Q^2 following the transverse photon flux of Budnev et al. (eq. 6.17a)::

    dn = (alpha / pi) [(1 - x + x^2/2) - (1 - x) Q2min / Q^2] (dx / x) (dQ2 / Q2),
    Q2min = 2 (E E' - m_e^2 - p p')  (= m_e^2 x^2 / (1 - x) for x >> m_e / E),

with Q^2 up to ``min(Q2max_kinematic, 10 W0^2)`` (W0^2 = x1 x2 s; the pair mass requires
Q^2 below about W0^2, and raising the limit to the kinematic one changes the totals by less than
their 0.6% MC error), and the photons produce the pair with the real-photon Breit-Wheeler
gamma gamma -> l+ l- angular distribution::

    dsigma/dcos = (pi alpha^2 beta / W^2) F,   F = b/a + a/b + 4 (1-beta^2)/(a b) - 4 (1-beta^2)^2/(a b)^2,
    a = 1 - beta cos, b = 1 + beta cos,

which integrates to (2 pi alpha^2 / W^2)[(3 - beta^4) ln((1+beta)/(1-beta)) - 2 beta (2 - beta^2)].
Scattered e- and e+ carry the exact four-momenta p - q; the mu+ mu- pair is generated in the
gamma gamma rest frame (axis: the photon direction there) and boosted back, so four-momentum
is conserved exactly. This EPA density is only the importance-sampling density; the EPA weight
itself (``matrix_element="epa"`` of :func:`generate_pairs`) gives 20.7 nb and overestimates the
cross section where the photons are far off shell (Q^2 of order W^2), e.g. by a factor 4.6 for
the zprime_invisible selection (pair pT > 0.9 GeV, recoil |cos| < 0.85).

Importance sampling. Variables: ln W0^2 = ln(x1 x2 s) with density ~ 1/W0^2, the pair
rapidity Y = ln(x1/x2)/2 and the muon rapidity y* = atanh(beta cos) in the gamma gamma frame,
both uniform inside ranges pre-cut from the generator-level cuts (|Y| + |y*| below the muon
pseudorapidity acceptance plus a margin; muon pT* above the cut minus the pair pT), and
ln Q^2 uniform per photon. Exact cuts are then applied to the four-vectors; weights are
normalised to the number of trials, so they sum to the cross section of the cut phase space.

Recoil cut (``recoil_cos_max``): the recoil -p(mu mu) is central only if |pz(mu mu)| <= k pT(mu mu),
k = c / sqrt(1 - c^2), i.e. similar photon energies and/or sizeable Q^2. Then ln Q1^2, ln Q2^2 are
drawn first (x-independent ranges containing the exact ones; a mixture favouring one photon with
Q ~ pT(pair) and W0^2 ~ w_min^2 + pT(pair)^2) and Y uniform in the window that the cut allows,
derived from pT(pair) <= Q1 + Q2 and the exact pz bounds, so no cut phase space is lost
(see ``_twophoton_phasespace.photons_recoil``).

Shared engine. :func:`generate_pairs` works for any produced lepton mass; ``eemumu`` (here) and
``eeee`` (module ``eeee``) are thin wrappers around it.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from darkscan.events import PDG_ELECTRON, PDG_MUON, CrossSection, TruthEvents
from darkscan.generate.processes._twophoton_phasespace import (
    _apply_boost,
    _BoostParams,
    _pair_frame_axes,
    dsigma_gg_ll_dcos,
    dsigma_gg_mumu_dcos,
    me2_multiperipheral,
    photons_recoil,
    photons_standard,
    sigma_gg_mumu,
)
from darkscan.generate.registry import register_process
from darkscan.physics.constants import ALPHA_EM, ELECTRON_MASS, GEV2_TO_FB, MUON_MASS  # noqa: F401
from darkscan.physics.kinematics import mdot

__all__ = ["generate", "generate_pairs", "exact_weight", "xsec", "sigma_gg_mumu", "dsigma_gg_mumu_dcos"]

log = logging.getLogger(__name__)

_RAPIDITY_MARGIN = 0.3  # pre-cut margin in rapidity (the gamma gamma system is not exactly along z)
_PT_MARGIN = 0.02  # GeV, pre-cut margin on the muon pT, on top of the gamma gamma pT
_BATCH = 50_000  # trials per batch: the sampler arrays (0.4 MB each) stay in the L2 cache
_MAX_TRIALS_FACTOR = 1000  # give up if the cuts keep less than 1 in this many trials


def _trial_batch(rng, n, sqrt_s, w_min, eta_max, pt_min_mu, pair_pt_min, k_recoil=None, mass=MUON_MASS):
    """One batch of ``n`` trials producing a lepton pair of mass ``mass`` each (the "muons" below).
    Returns (p4, weight, w, index, aux) for the trials that survive the pre-cuts only (``index``:
    their positions in the batch); failed trials have weight 0. ``weight`` is the EPA weight;
    ``aux`` holds the virtualities q1^2, q2^2 (< 0) and ``inv_pdf``, the inverse sampling density
    per unit dx1 dQ1^2 dphi1 dx2 dQ2^2 dphi2 dOmega* (for the exact matrix-element weight)."""
    if k_recoil is None:
        photons = photons_standard(rng, n, sqrt_s, w_min, eta_max, pair_pt_min, _RAPIDITY_MARGIN)
    else:
        photons = photons_recoil(rng, n, sqrt_s, w_min, eta_max, pair_pt_min, _RAPIDITY_MARGIN, k_recoil)
    e_beam = sqrt_s / 2
    p_beam = np.sqrt(e_beam**2 - ELECTRON_MASS**2)
    e1, e2 = photons.e1, photons.e2
    # Pair cuts from the components (the photons are beam - scattered lepton).
    pair_t = -(e1[:, 1:3] + e2[:, 1:3])
    pair_e = 2 * e_beam - e1[:, 0] - e2[:, 0]
    pair_z = -(e1[:, 3] + e2[:, 3])
    pt2_pair = pair_t[:, 0] ** 2 + pair_t[:, 1] ** 2
    w2 = pair_e**2 - pair_z**2 - pt2_pair
    keep = np.flatnonzero((w2 > max(w_min, 2 * mass) ** 2) & (pt2_pair >= pair_pt_min**2))
    index = photons.index[keep]  # the muon stage runs on the surviving trials only
    e1, e2, w2, y_pair, factor, q1sq, q2sq, flux = (
        a[keep] for a in (e1, e2, w2, photons.y_pair, photons.factor, photons.q1sq, photons.q2sq, photons.flux)
    )
    pt_pair = np.sqrt(pt2_pair[keep])
    q1 = np.array([e_beam, 0.0, 0.0, p_beam]) - e1
    pair = q1 + np.array([e_beam, 0.0, 0.0, -p_beam]) - e2
    m = len(index)
    w = np.sqrt(w2)
    beta = np.sqrt(np.clip(1 - 4 * mass**2 / w**2, 0.0, 1.0))
    # Muon rapidity y* along the photon axis in the gamma gamma frame, uniform within pre-cuts.
    p_star = 0.5 * w * beta
    sin_min = np.clip((pt_min_mu - _PT_MARGIN - pt_pair) / np.maximum(p_star, 1e-300), 0.0, None)
    ok = sin_min < 1
    cos_max = np.sqrt(np.clip(1 - sin_min**2, 0.0, 1.0))
    ystar_lim = np.minimum(
        np.arctanh(np.minimum(beta * cos_max, 1 - 1e-15)), eta_max + _RAPIDITY_MARGIN - np.abs(y_pair)
    )
    ok &= ystar_lim > 0
    ystar_lim = np.where(ok, ystar_lim, 1.0)
    ystar = (2 * rng.random(m) - 1) * ystar_lim
    cos = np.tanh(ystar) / np.where(beta > 0, beta, 1.0)
    pdf_cos = beta / (1 - beta**2 * cos**2) / (2 * ystar_lim)
    phi = rng.random(m) * 2 * np.pi
    sin = np.sqrt(np.clip(1 - cos**2, 0.0, 1.0))
    # Photon-1 direction in the pair rest frame defines the axis.
    pair = _BoostParams.of(pair)
    axis, u, v = _pair_frame_axes(q1, pair)
    direction = cos[:, None] * axis + (sin * np.cos(phi))[:, None] * u + (sin * np.sin(phi))[:, None] * v
    mu_minus_rest = np.concatenate([0.5 * w[:, None], p_star[:, None] * direction], axis=1)
    mu_plus_rest = mu_minus_rest * np.array([1.0, -1, -1, -1])
    p4 = np.empty((m, 4, 4))
    p4[:, 0] = e1
    p4[:, 1] = e2
    _apply_boost(mu_minus_rest, pair, out=p4[:, 2])
    _apply_boost(mu_plus_rest, pair, out=p4[:, 3])
    weight = np.where(ok, factor * dsigma_gg_ll_dcos(w, cos, mass) / pdf_cos * GEV2_TO_FB, 0.0)
    # factor = flux1 flux2 / pdf(ln x1, ln x2, ln Q1^2, ln Q2^2); azimuths uniform.
    x1 = 1 - e1[:, 0] / e_beam
    x2 = 1 - e2[:, 0] / e_beam
    inv_pdf = np.where(ok, factor / np.where(ok, flux, 1.0) * x1 * x2 * q1sq * q2sq * (2 * np.pi) ** 3 / pdf_cos, 0.0)
    aux = dict(q1sq=-q1sq, q2sq=-q2sq, inv_pdf=inv_pdf)
    return p4, weight, w, index, aux


def exact_weight(p4: np.ndarray, w: np.ndarray, aux: dict, *, sqrt_s: float, mass: float) -> np.ndarray:
    """Event weight (fb) from the exact multiperipheral |M|^2 for the sampled phase-space points.

    dsigma = (1 / F) (1/4) sum|M|^2 dPhi_4 with F = 4 sqrt((p1.p2)^2 - m_e^4) and, in the
    variables of the sampler, dPhi_4 = prod_i [E_b / (4 p_b (2 pi)^3) dx_i dQ_i^2 dphi_i]
    x beta / (32 pi^2) dOmega* (d^3k' / (2 E') = E_b / (2 p_b) dx dQ^2 dphi / 2 for the scattered
    lepton, x = 1 - E'/E_b; two-body phase space of the pair in its rest frame).

    Args:
        p4: (N, 4, 4) scattered e-, scattered e+, produced l-, produced l+ (CM frame, GeV).
        w: (N,) pair invariant mass (GeV).
        aux: from :func:`_trial_batch`: ``q1sq``, ``q2sq`` (q^2 < 0, GeV^2) and ``inv_pdf``, the
            inverse sampling density per unit dx1 dQ1^2 dphi1 dx2 dQ2^2 dphi2 dOmega*.
        sqrt_s: CM energy in GeV.
        mass: produced-lepton mass in GeV.

    Returns:
        (N,) weights in fb (before the 1/N_trials normalisation).
    """
    e_beam = sqrt_s / 2
    p_beam = np.sqrt(e_beam**2 - ELECTRON_MASS**2)
    p1 = np.tile([e_beam, 0.0, 0.0, p_beam], (len(w), 1))
    p2 = np.tile([e_beam, 0.0, 0.0, -p_beam], (len(w), 1))
    me2 = me2_multiperipheral(p1, p2, p4[:, 0], p4[:, 1], p4[:, 2], p4[:, 3], mass, q1sq=aux["q1sq"], q2sq=aux["q2sq"])
    flux = 4 * np.sqrt((e_beam**2 + p_beam**2) ** 2 - ELECTRON_MASS**4)
    beta = np.sqrt(np.clip(1 - 4 * mass**2 / w**2, 0.0, 1.0))
    jac = (e_beam / (4 * p_beam * (2 * np.pi) ** 3)) ** 2 * beta / (32 * np.pi**2)
    return aux["inv_pdf"] * 0.25 * me2 / flux * jac * GEV2_TO_FB


@dataclasses.dataclass(frozen=True)
class ElectronTag:
    """A scattered lepton in a CM polar range above a pT (``veto``: no such lepton)."""

    theta_min: float
    theta_max: float
    pt_min: float = 0.0
    veto: bool = False

    @classmethod
    def from_options(cls, theta_min, theta_max, pt_min=0.0, veto=False) -> ElectronTag | None:
        """The tag of the ``electron_tag_*`` options, or None when no range is given."""
        if theta_min is None and theta_max is None:
            if veto or pt_min:
                raise ValueError(
                    "electron_tag_veto and electron_tag_pt_min need electron_tag_theta_min and electron_tag_theta_max"
                )
            return None
        if theta_min is None or theta_max is None or not 0 <= theta_min < theta_max <= 180:
            raise ValueError(
                f"need 0 <= electron_tag_theta_min < electron_tag_theta_max <= 180, got {theta_min}, {theta_max}"
            )
        return cls(float(theta_min), float(theta_max), float(pt_min), bool(veto))

    def tagged(self, scattered: np.ndarray) -> np.ndarray:
        """Events (N,) with a lepton of ``scattered`` (N, 2, 4) in the range."""
        pt = np.hypot(scattered[..., 1], scattered[..., 2])
        theta = np.degrees(np.arctan2(pt, scattered[..., 3]))
        return np.any((theta >= self.theta_min) & (theta <= self.theta_max) & (pt >= self.pt_min), axis=1)


def _passes(
    p4,
    w,
    *,
    w_min,
    theta_min,
    theta_max,
    pt_min,
    pair_pt_min,
    recoil_cos_max,
    recoil_p_min,
    all_pairs_w_min=False,
    w_max=None,
    required=2,
    tag=None,
):
    mus = p4[:, 2:]
    pt = np.hypot(mus[..., 1], mus[..., 2])
    theta = np.degrees(np.arctan2(pt, mus[..., 3]))
    pair = mus.sum(axis=1)
    pair_pt = np.hypot(pair[:, 1], pair[:, 2])
    passing = ((theta >= theta_min) & (theta <= theta_max) & (pt >= pt_min)).sum(axis=1)
    ok = (w > w_min) & ((w <= w_max) if w_max is not None else True) & (passing >= required) & (pair_pt >= pair_pt_min)
    if tag is not None:
        ok &= tag.tagged(p4[:, :2]) != tag.veto
    p_recoil = np.hypot(pair_pt, pair[:, 3])  # recoil three-momentum = -(mu+ mu-) three-momentum
    if recoil_p_min > 0:
        ok &= p_recoil >= recoil_p_min
    if recoil_cos_max is not None:
        ok &= np.abs(pair[:, 3]) <= recoil_cos_max * p_recoil
    if all_pairs_w_min:  # every l- l+ combination, as AAFH does for identical leptons
        for i, j in ((0, 1), (0, 3), (1, 2)):
            both = p4[:, i] + p4[:, j]
            ok &= mdot(both, both) > w_min**2
    return ok


def generate_pairs(
    n_events: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    mass: float,
    pdg: tuple[int, int, int, int],
    w_min: float,
    theta_min: float,
    theta_max: float,
    pt_min: float,
    pair_pt_min: float,
    recoil_cos_max: float | None,
    recoil_p_min: float,
    prefix: str,
    matrix_element: str = "exact",
    all_pairs_w_min: bool = False,
    w_max: float | None = None,
    required: int = 2,
    tag: ElectronTag | None = None,
) -> TruthEvents:
    """Two-photon production of a lepton pair of mass ``mass``: the engine of ``eemumu`` and ``eeee``.

    Args:
        n_events: number of events returned (all pass the cuts).
        rng: numpy random generator.
        sqrt_s: CM energy in GeV.
        mass: mass of the produced lepton (GeV).
        pdg: PDG ids of (scattered e-, scattered e+, produced l-, produced l+).
        w_min: minimum invariant mass of the produced pair (GeV).
        theta_min: minimum CM polar angle of both produced leptons (deg).
        theta_max: maximum CM polar angle of both produced leptons (deg).
        pt_min: minimum CM pT of both produced leptons (GeV).
        pair_pt_min: minimum CM pT of the produced pair (GeV).
        recoil_cos_max: maximum |cos theta| of the recoil -p(pair), or None.
        recoil_p_min: minimum CM momentum of the produced pair (GeV).
        prefix: option-name prefix used in error messages (``muon``, ``electron``).
        matrix_element: ``"exact"`` (default): weights from the exact multiperipheral |M|^2
            (:func:`exact_weight`); ``"epa"``: the equivalent-photon model that the sampler
            follows (transverse Budnev flux x real-photon Breit-Wheeler), for comparisons only.
        all_pairs_w_min: if True, every l- l+ combination (scattered and produced, four in all)
            must have an invariant mass above ``w_min``, the AAFH definition of the mass cut for
            identical leptons (used by ``eeee``); default False (produced pair only).
        w_max: maximum invariant mass of the produced pair (GeV), or None: a sample up to
            ``w_max`` and one from it (``w_min``) cover disjoint phase space.
        required: how many produced leptons must pass the angle and pT cuts (2, or 1: the
            sampler then covers the produced leptons' whole phase space).
        tag: a scattered lepton required in (or, with ``tag.veto``, excluded from) a CM region.

    Returns:
        Events with particles in the order of ``pdg``; weights (fb) sum to the cross section of
        the phase space inside the cuts.
    """
    if n_events < 0:
        raise ValueError(f"n_events must be >= 0, got {n_events}")
    if not 0 <= theta_min < theta_max <= 180:
        raise ValueError(f"need 0 <= {prefix}_theta_min < {prefix}_theta_max <= 180, got {theta_min}, {theta_max}")
    if w_min <= 2 * mass or w_min >= sqrt_s:
        raise ValueError(f"w_min must lie between 2 m_{prefix} and sqrt_s, got {w_min}")
    if w_max is not None and not w_min < w_max:
        raise ValueError(f"w_max must exceed w_min, got {w_max} <= {w_min}")
    if recoil_cos_max is not None and not 0 < recoil_cos_max <= 1:
        raise ValueError(f"recoil_cos_max must lie in (0, 1], got {recoil_cos_max}")
    if matrix_element not in ("exact", "epa"):
        raise ValueError(f"matrix_element must be 'exact' or 'epa', got {matrix_element!r}")
    if required not in (1, 2):
        raise ValueError(f"{prefix}s_required must be 1 or 2, got {required}")
    if recoil_p_min < 0 or pair_pt_min < 0:
        raise ValueError(f"recoil_p_min and the pair pT cut must be >= 0, got {recoil_p_min}, {pair_pt_min}")
    k_recoil, sample_pt_min = None, pair_pt_min
    if recoil_cos_max is not None and recoil_cos_max < 1:
        k_recoil = recoil_cos_max / np.sqrt(1 - recoil_cos_max**2)  # |pz| <= k pT of the pair
        # |cos| <= c and |p| >= p_min imply pT(pair) >= p_min sqrt(1 - c^2).
        sample_pt_min = max(pair_pt_min, recoil_p_min * np.sqrt(1 - recoil_cos_max**2))
    theta_edge = np.radians(max(min(theta_min, 180 - theta_max), 1e-6) if required == 2 else 1e-6)
    eta_max = -np.log(np.tan(theta_edge / 2))
    sampler_pt_min = pt_min if required == 2 else 0.0
    cuts = dict(
        w_min=w_min,
        theta_min=theta_min,
        theta_max=theta_max,
        pt_min=pt_min,
        pair_pt_min=pair_pt_min,
        recoil_cos_max=recoil_cos_max,
        recoil_p_min=recoil_p_min,
        all_pairs_w_min=all_pairs_w_min,
        w_max=w_max,
        required=required,
        tag=tag,
    )

    chunks_p4, chunks_w = [], []
    kept, trials = 0, 0
    while kept < n_events:
        p4, weight, w, trial_index, aux = _trial_batch(
            rng, _BATCH, sqrt_s, w_min, eta_max, sampler_pt_min, sample_pt_min, k_recoil, mass
        )
        index = np.flatnonzero((weight > 0) & _passes(p4, w, **cuts))
        need = n_events - kept
        if len(index) > need:  # stop at the trial that produced the last needed event
            index = index[:need]
            trials += int(trial_index[index[-1]]) + 1
        else:
            trials += _BATCH
        kept += len(index)
        p4 = p4[index]
        chunks_p4.append(p4)
        if matrix_element == "exact":
            sub = {key: value[index] for key, value in aux.items()}
            chunks_w.append(exact_weight(p4, w[index], sub, sqrt_s=sqrt_s, mass=mass))
        else:
            chunks_w.append(weight[index])
        if trials > _MAX_TRIALS_FACTOR * max(n_events, 1000) and kept < 1e-3 * trials:
            raise RuntimeError(
                f"two-photon ({prefix}): cuts keep only {kept} of {trials} trials; check the generator-level cuts"
            )
    if n_events == 0:
        return TruthEvents(np.zeros((0, 4), np.int32), np.zeros((0, 4, 4)), np.zeros((0, 4)), np.zeros(0))
    weight = np.concatenate(chunks_w) / trials
    log.debug(  # per chunk: the sample's summary line gives sigma
        "two-photon (%s): %d events from %d trials (efficiency %.3f), sigma = %.4g fb",
        prefix,
        n_events,
        trials,
        n_events / trials,
        weight.sum(),
    )
    return TruthEvents(
        pdg=np.tile(np.array(pdg, dtype=np.int32), (n_events, 1)),
        p4=np.concatenate(chunks_p4),
        invisible=np.zeros((n_events, 4)),
        weight=weight,
    )


def monte_carlo_xsec(generate, n_events: int, seed: int, **options) -> CrossSection:
    """Cross section (fb) of a weighted generator from ``n_events`` events with a fixed seed."""
    weight = generate(n_events, np.random.default_rng(seed), **options).weight
    # Weights carry 1/N_trials; rejected trials (weight 0) are not returned, so the variance
    # estimate sum(w^2) neglects their contribution (small: it is the N_trials * mean^2 term).
    return CrossSection(value_fb=float(weight.sum()), error_fb=float(np.sqrt((weight**2).sum())))


def xsec(*, sqrt_s: float, mass=None, mass2=None, coupling=None, theta_min=None, theta_max=None) -> CrossSection:
    """sigma(e+e- -> e+e- mu+mu-) in fb for W > 0.5 GeV by Monte Carlo integration (100k events).

    Args:
        sqrt_s: CM energy in GeV.
        mass: unused (no new particle).
        mass2: unused.
        coupling: unused.
        theta_min: minimum CM polar angle of both muons (deg); default 0 (no cut).
        theta_max: maximum CM polar angle of both muons (deg); default 180 (no cut).

    Returns:
        The cross section and its Monte Carlo uncertainty (no pT cuts; W > 0.5 GeV).
    """
    return monte_carlo_xsec(
        generate,
        100_000,
        20_250_515,
        sqrt_s=sqrt_s,
        muon_pt_min=0.0,
        muon_theta_min=0.0 if theta_min is None else theta_min,
        muon_theta_max=180.0 if theta_max is None else theta_max,
    )


@register_process(
    "eemumu",
    description="e+e- -> e+e- mu+mu- via two-photon collisions (Budnev EPA with Q^2, Breit-Wheeler)",
    generator_name="darkscan-twophoton",
    xsec=xsec,
)
def generate(
    n_events: int,
    rng: np.random.Generator,
    *,
    sqrt_s: float,
    w_min: float = 0.5,
    w_max: float | None = None,
    muon_theta_min: float = 15.0,
    muon_theta_max: float = 165.0,
    muon_pt_min: float = 0.3,
    mumu_pt_min: float = 0.0,
    recoil_cos_max: float | None = None,
    recoil_p_min: float = 0.0,
    muons_required: int = 2,
    electron_tag_theta_min: float | None = None,
    electron_tag_theta_max: float | None = None,
    electron_tag_pt_min: float = 0.0,
    electron_tag_veto: bool = False,
) -> TruthEvents:
    """Generate weighted e+e- -> e+e- mu+mu- events in the CM frame.

    Args:
        n_events: number of events returned (all pass the cuts).
        rng: numpy random generator.
        sqrt_s: CM energy in GeV.
        w_min: minimum mu+ mu- invariant mass in GeV (default 0.5, as in the Physics Book).
        w_max: maximum mu+ mu- invariant mass in GeV (None: no maximum).
        muon_theta_min: minimum polar angle of both muons in the CM frame, degrees.
        muon_theta_max: maximum polar angle of both muons in the CM frame, degrees.
        muon_pt_min: minimum transverse momentum of both muons in the CM frame, GeV.
        mumu_pt_min: minimum transverse momentum of the mu+ mu- system in the CM frame, GeV.
        recoil_cos_max: maximum |cos theta| (CM) of the recoil three-momentum -p(mu+ mu-) (the
            e+ e- system); None for no cut. Importance-sampled (see module docstring).
        recoil_p_min: minimum CM momentum of the recoil (= of the mu+ mu- system), GeV.
        muons_required: how many muons must pass the angle and pT cuts (2, or 1: one muon may
            be lost).
        electron_tag_theta_min: with ``electron_tag_theta_max``, a CM polar range (deg) in which
            at least one scattered e+- must lie with pT >= ``electron_tag_pt_min`` (a tagged
            electron, large Q^2); None for no requirement.
        electron_tag_theta_max: see ``electron_tag_theta_min``.
        electron_tag_pt_min: minimum CM pT of the tagged electron (GeV).
        electron_tag_veto: exclude instead of require the tag, so that a tagged and a vetoed
            sample cover disjoint phase space.

    Returns:
        Events with particles (e-, e+, mu-, mu+); weights (fb) sum to the cross section of the
        phase space inside the cuts (set angles to 0/180 and pT cuts to 0 for the total).
    """
    return generate_pairs(
        n_events,
        rng,
        sqrt_s=sqrt_s,
        mass=MUON_MASS,
        pdg=(PDG_ELECTRON, -PDG_ELECTRON, PDG_MUON, -PDG_MUON),
        w_min=w_min,
        w_max=w_max,
        theta_min=muon_theta_min,
        theta_max=muon_theta_max,
        pt_min=muon_pt_min,
        pair_pt_min=mumu_pt_min,
        recoil_cos_max=recoil_cos_max,
        recoil_p_min=recoil_p_min,
        prefix="muon",
        required=muons_required,
        tag=ElectronTag.from_options(
            electron_tag_theta_min, electron_tag_theta_max, electron_tag_pt_min, electron_tag_veto
        ),
    )
