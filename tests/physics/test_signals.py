"""Closed-form signal cross sections vs numerical integration of explicitly computed |M|^2.

The amplitudes here are built from explicit Dirac spinors and gamma matrices (electron mass
kept) and squared numerically, independently of the closed forms in
``darkscan.physics.signals``; the angular integrals are done with scipy.integrate.quad.
"""

import numpy as np
import pytest
from scipy import integrate

from darkscan.physics import signals as S
from darkscan.physics.constants import ALPHA_EM, ELECTRON_MASS, GEV2_TO_FB
from darkscan.physics.kinematics import METRIC, kallen, mdot
from darkscan.physics.matrix_elements import GAMMA, bar, slash, spinors_u, spinors_v

SQRT_S = 10.58
E2 = 4 * np.pi * ALPHA_EM
C0 = np.cos(np.radians(10.0))

# Levi-Civita symbol eps^{0123} = +1.
LEVI = np.zeros((4, 4, 4, 4))
for _perm in __import__("itertools").permutations(range(4)):
    LEVI[_perm] = np.linalg.det(np.eye(4)[list(_perm)])


def _beams_and_final(c: float, m1: float, m2: float):
    """e-(p1) e+(p2) -> X1(k1) X2(k2), X1 at polar cosine c (phi = 0.4), all (1, 4)."""
    e = SQRT_S / 2
    pz = np.sqrt(e * e - ELECTRON_MASS**2)
    p1, p2 = np.array([[e, 0, 0, pz]]), np.array([[e, 0, 0, -pz]])
    q = np.sqrt(kallen(SQRT_S**2, m1**2, m2**2)) / (2 * SQRT_S)
    s = np.sqrt(1 - c * c)
    d = np.array([s * np.cos(0.4), s * np.sin(0.4), c])
    k1 = np.array([[np.sqrt(q * q + m1 * m1), *(q * d)]])
    k2 = np.array([[np.sqrt(q * q + m2 * m2), *(-q * d)]])
    return p1, p2, k1, k2, q


def _current(p1, p2):
    """J^mu[s1, s2] = vbar(p2, s2) gamma^mu u(p1, s1), shape (2, 2, 4)."""
    u, vb = spinors_u(p1, ELECTRON_MASS)[0], bar(spinors_v(p2, ELECTRON_MASS))[0]
    return np.einsum("bi,mij,aj->abm", vb, GAMMA, u)


def _dsigma(me2: float, q: float) -> float:
    """dsigma/dcos in fb from a spin-averaged |M|^2: 2 pi |M|^2/(64 pi^2 s) * q/p_in."""
    s = SQRT_S**2
    p_in = np.sqrt(s / 4 - ELECTRON_MASS**2)
    return 2 * np.pi * me2 / (64 * np.pi**2 * s) * q / p_in * GEV2_TO_FB


def me2_gamma_alp(c: float, mass: float, g: float) -> tuple[float, float]:
    """Spin-averaged |M|^2 of e+e- -> gamma* -> gamma a with the vertex g eps^{mu nu rho sigma} q_rho k_sigma."""
    p1, p2, k, ka, q = _beams_and_final(c, 0.0, mass)
    jl = _current(p1, p2) * METRIC  # J_mu
    qv = (p1 + p2)[0] * METRIC
    tensor = np.einsum("mnrs,r,s->mn", LEVI, qv, k[0] * METRIC)  # eps^{mu nu rho sigma} q_rho k_sigma
    amp = np.sqrt(E2) * g / SQRT_S**2 * np.einsum("abm,mn->abn", jl, tensor)  # upper nu
    return float(np.sum(-METRIC * np.abs(amp) ** 2) / 4), q


def me2_gamma_v(c: float, mass: float) -> tuple[float, float]:
    """Spin-averaged |M|^2 / (e^4 eps^2) of e+e- -> gamma(k1) V(k2), t- and u-channel electron exchange."""
    p1, p2, k1, k2, q = _beams_and_final(c, 0.0, mass)
    u, vb = spinors_u(p1, ELECTRON_MASS)[0], bar(spinors_v(p2, ELECTRON_MASS))[0]

    def prop(qq):
        return (slash(qq)[0] + ELECTRON_MASS * np.eye(4)) / (mdot(qq, qq)[0] - ELECTRON_MASS**2)

    st, su = prop(p1 - k1), prop(p1 - k2)
    m_munu = np.einsum("bi,nij,jk,mkl,al->abmn", vb, GAMMA, st, GAMMA, u) + np.einsum(
        "bi,mij,jk,nkl,al->abmn", vb, GAMMA, su, GAMMA, u
    )
    pol = np.outer(METRIC, METRIC)  # (-g)(-g) polarisation sums, diagonal
    return float(np.sum(pol * np.abs(m_munu) ** 2) / 4), q


def me2_higgsstrahlung(c: float, m_a: float, m_h: float) -> tuple[float, float]:
    """Spin-averaged |M|^2 / (e^2 eps^2 g_D^2) of e+e- -> A'* -> A' h', h'A'A' vertex 2 g_D m_A g^{mu nu}."""
    p1, p2, k, kh, q = _beams_and_final(c, m_a, m_h)
    j = _current(p1, p2)  # J^mu
    pol = -np.diag(METRIC) + np.outer(k[0] * METRIC, k[0] * METRIC) / m_a**2  # -g_{mu nu} + k_mu k_nu/M^2
    amp2 = np.einsum("abm,mn,abn->", j, pol, np.conj(j)).real
    return (2 * m_a) ** 2 / (SQRT_S**2 - m_a**2) ** 2 * amp2 / 4, q


def _quad(f, lo, hi):
    return integrate.quad(f, lo, hi, epsrel=1e-7, limit=200)[0]


@pytest.mark.parametrize("mass", [0.0, 1.0, 5.0, 9.0])
def test_alp_closed_form_vs_numerical(mass):
    g = 1e-3
    full = _quad(lambda c: _dsigma(*me2_gamma_alp(c, mass, g)), -1, 1)
    assert full == pytest.approx(S.sigma_gamma_alp(sqrt_s=SQRT_S, mass=mass, g_agg=g), rel=1e-4)
    assert full == pytest.approx(ALPHA_EM * g**2 / 24 * (1 - mass**2 / SQRT_S**2) ** 3 * GEV2_TO_FB, rel=1e-4)
    # Acceptance: closed form vs quad of the differential and of the numerical |M|^2.
    lo, hi = np.cos(np.radians(150)), np.cos(np.radians(20))
    acc = S.sigma_gamma_alp(sqrt_s=SQRT_S, mass=mass, g_agg=g, cos_min=lo, cos_max=hi)
    assert acc == pytest.approx(_quad(lambda c: _dsigma(*me2_gamma_alp(c, mass, g)), lo, hi), rel=1e-4)
    assert acc == pytest.approx(
        _quad(lambda c: float(S.dsigma_gamma_alp_dcos(c, sqrt_s=SQRT_S, mass=mass, g_agg=g)), lo, hi), rel=1e-9
    )


def test_alp_width_numerical():
    g, m = 1e-3, 0.5
    k1, k2 = np.array([m / 2, 0, 0, m / 2]), np.array([m / 2, 0, 0, -m / 2])
    t = g * np.einsum("mnrs,r,s->mn", LEVI, k1 * METRIC, k2 * METRIC)
    me2 = float(np.sum(np.outer(METRIC, METRIC) * t**2))
    width = 0.5 * me2 / (2 * m) / (8 * np.pi)  # 1/2 for identical photons
    assert width == pytest.approx(float(S.width_alp_gammagamma(m, g)), rel=1e-12)


@pytest.mark.parametrize("mass", [0.0, 0.5, 3.0, 8.0])
def test_darkphoton_differential_vs_spinor_me(mass):
    for c in (-0.95, -0.3, 0.0, 0.6, 0.98):
        me2, q = me2_gamma_v(c, mass)
        num = _dsigma(E2**2 * me2, q)  # eps = 1
        assert num == pytest.approx(
            float(S.dsigma_gamma_darkphoton_dcos(c, sqrt_s=SQRT_S, mass=mass, eps=1.0)), rel=1e-5
        )


@pytest.mark.parametrize(
    "mass, lo, hi", [(0.01, -C0, C0), (2.0, -C0, C0), (7.0, np.cos(np.radians(155)), np.cos(np.radians(12)))]
)
def test_darkphoton_closed_form_vs_quad(mass, lo, hi):
    eps = 1e-3
    closed = S.sigma_gamma_darkphoton(sqrt_s=SQRT_S, mass=mass, eps=eps, cos_min=lo, cos_max=hi)
    num = _quad(lambda c: float(S.dsigma_gamma_darkphoton_dcos(c, sqrt_s=SQRT_S, mass=mass, eps=eps)), lo, hi)
    assert closed == pytest.approx(num, rel=1e-6)
    if lo == -hi:  # the closed form for |cos| < c0, written out
        x = mass**2 / SQRT_S**2
        design = (
            4
            * np.pi
            * ALPHA_EM**2
            * eps**2
            / SQRT_S**2
            * ((1 + x * x) / (1 - x) * np.log((1 + hi) / (1 - hi)) - (1 - x) * hi)
            * GEV2_TO_FB
        )
        assert closed == pytest.approx(design, rel=1e-10)
    # The explicit spinor |M|^2 integrates to the same number.
    spinor = _quad(lambda c: _dsigma(E2**2 * eps**2 * me2_gamma_v(c, mass)[0], me2_gamma_v(c, mass)[1]), lo, hi)
    assert spinor == pytest.approx(closed, rel=1e-3)


def test_born_gammagamma_and_massless_limit():
    # Born gamma gamma: numerical |M|^2 (V = photon), half the integral for identical photons.
    num = 0.5 * _quad(lambda c: _dsigma(E2**2 * me2_gamma_v(c, 0.0)[0], me2_gamma_v(c, 0.0)[1]), -C0, C0)
    born = S.sigma_gammagamma(sqrt_s=SQRT_S, cos_min=-C0, cos_max=C0)
    assert num == pytest.approx(born, rel=1e-3)
    assert born == pytest.approx(
        2 * np.pi * ALPHA_EM**2 / SQRT_S**2 * (np.log((1 + C0) / (1 - C0)) - C0) * GEV2_TO_FB, rel=1e-12
    )
    # m -> 0: sigma(gamma A') = 2 eps^2 sigma_Born(gamma gamma) in the same acceptance.
    eps = 1e-3
    for mass in (1e-6, 1e-4):
        ratio = S.sigma_gamma_darkphoton(sqrt_s=SQRT_S, mass=mass, eps=eps, cos_min=-C0, cos_max=C0) / (
            2 * eps**2 * born
        )
        assert ratio == pytest.approx(1.0, abs=1e-7)


@pytest.mark.parametrize("m_a, m_h", [(0.5, 0.0), (1.0, 2.0), (3.0, 4.0), (6.0, 1.0)])
def test_darkhiggsstrahlung_vs_numerical(m_a, m_h):
    eps2_alpha_d = 1e-7
    # e^2 eps^2 g_D^2 = 16 pi^2 alpha alpha_D eps^2.
    norm = 16 * np.pi**2 * ALPHA_EM * eps2_alpha_d
    num = _quad(lambda c: _dsigma(norm * me2_higgsstrahlung(c, m_a, m_h)[0], me2_higgsstrahlung(c, m_a, m_h)[1]), -1, 1)
    closed = S.sigma_darkhiggsstrahlung(sqrt_s=SQRT_S, mass_ap=m_a, mass_h=m_h, eps2_alpha_d=eps2_alpha_d)
    assert num == pytest.approx(closed, rel=1e-4)
    # the closed formula, written out.
    s = SQRT_S**2
    lam = kallen(1, m_a**2 / s, m_h**2 / s)
    design = (
        np.pi
        * ALPHA_EM
        * eps2_alpha_d
        / (3 * s)
        * np.sqrt(lam)
        * (lam + 12 * m_a**2 / s)
        / (1 - m_a**2 / s) ** 2
        * GEV2_TO_FB
    )
    assert closed == pytest.approx(design, rel=1e-12)
    # Angular shape.
    for c in (-0.7, 0.0, 0.9):
        me2, q = me2_higgsstrahlung(c, m_a, m_h)
        shape = _dsigma(norm * me2, q) / closed
        assert shape == pytest.approx(
            float(S.darkhiggsstrahlung_angular(c, sqrt_s=SQRT_S, mass_ap=m_a, mass_h=m_h)), rel=1e-4
        )
    assert _quad(
        lambda c: float(S.darkhiggsstrahlung_angular(c, sqrt_s=SQRT_S, mass_ap=m_a, mass_h=m_h)), -1, 1
    ) == pytest.approx(1.0, rel=1e-10)


def test_r_ratio_and_branching_fractions():
    assert S.r_ratio(0.2) == 0.0
    assert 8 < S.r_ratio(0.775) < 20 and S.r_ratio(1.0195) > 30  # rho(+omega) and phi peaks
    assert 2.0 < S.r_ratio(2.5) < 2.5 and 3.3 < S.r_ratio(10.0) < 3.9  # uds, udsc continuum
    m = np.linspace(0.01, 10.0, 400)
    total = sum(S.darkphoton_branching_fraction(m, d) for d in S.DARKPHOTON_DECAYS)
    assert np.allclose(total, 1.0)
    assert np.all(S.darkphoton_branching_fraction(0.15, "ee") == 1.0)
    assert S.darkphoton_branching_fraction(8.0, "ee") == pytest.approx(
        S.darkphoton_branching_fraction(8.0, "mumu"), rel=1e-3
    )
    assert S.darkphoton_branching_fraction(1.0, "invisible", scenario="invisible") == 1.0
    # alpha_D >> alpha eps^2: invisible dominates; eps-independent in the "visible" scenario.
    assert S.darkphoton_branching_fraction(1.0, "invisible", scenario="dark", eps=1e-3, alpha_d=0.5, m_chi=0.1) > 0.999
    assert S.darkphoton_branching_fraction(1.0, "invisible", scenario="dark", eps=1e-3, alpha_d=0.5, m_chi=0.6) == 0.0
    with pytest.raises(ValueError, match="allowed"):
        S.darkphoton_branching_fraction(1.0, "bb")


def test_mass_errors_name_range():
    with pytest.raises(ValueError, match=r"11.*outside the allowed range"):
        S.sigma_gamma_alp(sqrt_s=SQRT_S, mass=11.0, g_agg=1.0)
    with pytest.raises(ValueError, match=r"m_A' = 6.*m_h' = 5"):
        S.sigma_darkhiggsstrahlung(sqrt_s=SQRT_S, mass_ap=6.0, mass_h=5.0, eps2_alpha_d=1.0)


# ---------------------------------------------------------------------------------------------
# Leptophilic scalar e+e- -> mu mu S (numerical |M|^2): trace cross-check and soft limit.


def _scalar_events(n, mass, omega_min, seed=1):
    from darkscan.physics.xsec import sample_mumu_v

    return sample_mumu_v(n, np.random.default_rng(seed), sqrt_s=SQRT_S, mass=mass, omega_min=omega_min)


def test_scalar_me2_spinors_vs_traces():
    from darkscan.physics.constants import MUON_MASS as m
    from darkscan.physics.scalar import me2_mumu_s

    ev = _scalar_events(4, 1.5, None)
    spinor = me2_mumu_s(ev.p1, ev.p2, ev.p3, ev.p4, ev.k, y=0.7)
    g0 = GAMMA[0]
    for i in range(4):
        p1, p2, p3, p4, k = (x[i : i + 1] for x in (ev.p1, ev.p2, ev.p3, ev.p4, ev.k))

        def prop(q, mm):
            return (slash(q)[0] + mm * np.eye(4)) / (mdot(q, q)[0] - mm * mm)

        vert = [prop(p3 + k, m) @ GAMMA[mu] + GAMMA[mu] @ prop(-p4 - k, m) for mu in range(4)]
        vbar = [g0 @ v.conj().T @ g0 for v in vert]
        sl = lambda p, mm: slash(p)[0] + mm * np.eye(4)  # noqa: E731
        lep = np.array(
            [
                [np.trace(GAMMA[a] @ sl(p1, ELECTRON_MASS) @ GAMMA[b] @ sl(p2, -ELECTRON_MASS)) for b in range(4)]
                for a in range(4)
            ]
        )
        had = np.array([[np.trace(vert[a] @ sl(p4, -m) @ vbar[b] @ sl(p3, m)) for b in range(4)] for a in range(4)])
        trace = (E2 * 0.7 / SQRT_S**2) ** 2 / 4 * np.einsum("ab,ab,a,b->", lep, had, METRIC, METRIC).real
        assert spinor[i] == pytest.approx(trace, rel=1e-9)


def test_scalar_soft_limit():
    from darkscan.physics.constants import MUON_MASS as m
    from darkscan.physics.matrix_elements import me2_born
    from darkscan.physics.scalar import me2_mumu_s

    mass = 1e-4
    ev = _scalar_events(2000, mass, None)
    soft = ev.k[:, 0] < 2e-3  # omega in (M, 2 MeV)
    p1, p2, p3, p4, k = (x[soft] for x in (ev.p1, ev.p2, ev.p3, ev.p4, ev.k))
    full = me2_mumu_s(p1, p2, p3, p4, k, y=1.0)
    eik = 2 * m * (1 / (2 * mdot(p3, k) + mass**2) + 1 / (2 * mdot(p4, k) + mass**2))
    ratio = full / (me2_born(p1, p2, p3, p4) * eik**2)
    assert soft.sum() > 50 and np.allclose(ratio, 1.0, atol=0.01)
