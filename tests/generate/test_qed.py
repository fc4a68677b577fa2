"""Tests of the tree-level QED 2 -> 2 backgrounds ee (Bhabha), gammagamma and mumu."""

import numpy as np
import pytest
from scipy import integrate

from darkscan.generate.processes import qed
from darkscan.generate.registry import get_process
from darkscan.physics.constants import ALPHA_EM, ELECTRON_MASS, GEV2_TO_FB, MUON_MASS
from darkscan.physics.kinematics import METRIC
from darkscan.physics.matrix_elements import GAMMA, bar, spinors_u, spinors_v
from darkscan.physics.xsec import sigma_born_mumu

SQRT_S = 10.58
GENERATORS = {"ee": qed.generate_ee, "gammagamma": qed.generate_gammagamma, "mumu": qed.generate_mumu}
CLOSED = {"ee": qed.sigma_bhabha, "gammagamma": qed.sigma_gg, "mumu": qed.sigma_mumu}


def test_registered_with_xsec():
    for name, gen in GENERATORS.items():
        proc = get_process(name)
        assert proc.generate is gen and proc.xsec is not None
        assert proc.xsec(sqrt_s=SQRT_S).value_fb == pytest.approx(CLOSED[name](sqrt_s=SQRT_S), rel=1e-12)


def test_born_mumu_0776_nb():
    s = SQRT_S**2
    massless = 4 * np.pi * ALPHA_EM**2 / (3 * s) * GEV2_TO_FB
    assert massless == pytest.approx(0.776e6, rel=1e-3)
    assert qed.sigma_mumu(sqrt_s=SQRT_S) == pytest.approx(massless, rel=1e-3)
    assert qed.sigma_mumu(sqrt_s=SQRT_S) == pytest.approx(sigma_born_mumu(SQRT_S), rel=1e-12)
    num = integrate.quad(lambda c: float(qed.dsigma_mumu_dcos(c, sqrt_s=SQRT_S)), -1, 1)[0]
    assert num == pytest.approx(qed.sigma_mumu(sqrt_s=SQRT_S), rel=1e-10)
    lo, hi = 20.0, 150.0  # both muons in 30-150 deg
    c = np.cos(np.radians(150))
    num = integrate.quad(lambda x: float(qed.dsigma_mumu_dcos(x, sqrt_s=SQRT_S)), c, -c)[0]
    assert qed.sigma_mumu(sqrt_s=SQRT_S, theta_min=lo, theta_max=hi) == pytest.approx(num, rel=1e-10)


def _bhabha_me2(c: float) -> float:
    """Spin-averaged Bhabha |M|^2 from explicit spinors: e-(p1) e+(p2) -> e-(p3) e+(p4), t - s."""
    e = SQRT_S / 2
    pz = np.sqrt(e * e - ELECTRON_MASS**2)
    sn = np.sqrt(1 - c * c)
    p1, p2 = np.array([[e, 0, 0, pz]]), np.array([[e, 0, 0, -pz]])
    p3 = np.array([[e, pz * sn, 0, pz * c]])
    p4 = np.array([[e, -pz * sn, 0, -pz * c]])
    u1 = spinors_u(p1, ELECTRON_MASS)[0]
    u3b, v4 = bar(spinors_u(p3, ELECTRON_MASS))[0], spinors_v(p4, ELECTRON_MASS)[0]
    v2b = bar(spinors_v(p2, ELECTRON_MASS))[0]
    cur = lambda rb, col: np.einsum("ai,mij,bj->abm", rb, GAMMA, col)  # noqa: E731
    j31, j24, j21, j34 = cur(u3b, u1), cur(v2b, v4), cur(v2b, u1), cur(u3b, v4)
    t = float(((p1 - p3)[0] ** 2 * METRIC).sum())
    s = SQRT_S**2
    amp_t = np.einsum("cam,bdm,m->abcd", j31, j24, METRIC) / t  # [s1, s2, s3, s4]
    amp_s = np.einsum("bam,cdm,m->abcd", j21, j34, METRIC) / s
    e2 = 4 * np.pi * ALPHA_EM
    return float(np.sum(np.abs(e2 * (amp_t - amp_s)) ** 2) / 4)


def test_bhabha_closed_form_vs_spinors_and_quad():
    s = SQRT_S**2
    for c in (-0.9, 0.0, 0.5, 0.95):
        num = 2 * np.pi * _bhabha_me2(c) / (64 * np.pi**2 * s) * GEV2_TO_FB
        assert num == pytest.approx(float(qed.dsigma_bhabha_dcos(c, sqrt_s=SQRT_S)), rel=1e-6)
        t, u = -s * (1 - c) / 2, -s * (1 + c) / 2
        mandelstam = (
            np.pi
            * ALPHA_EM**2
            / s
            * ((s * s + u * u) / t**2 + 2 * u * u / (s * t) + (u * u + t * t) / s**2)
            * GEV2_TO_FB
        )
        assert mandelstam == pytest.approx(num, rel=1e-6)
    c0 = np.cos(np.radians(10))
    num = integrate.quad(lambda c: float(qed.dsigma_bhabha_dcos(c, sqrt_s=SQRT_S)), -c0, c0, epsrel=1e-10, limit=200)[0]
    assert qed.sigma_bhabha(sqrt_s=SQRT_S) == pytest.approx(num, rel=1e-9)
    assert 250e6 < num < 300e6  # tree level 287 nb vs 300 nb with radiative corrections


@pytest.mark.parametrize(
    "name, opts",
    [
        ("ee", {}),
        ("gammagamma", {}),
        ("mumu", {}),
        ("ee", {"theta_min": 30.0, "theta_max": 120.0}),
        ("gammagamma", {"theta_min": 25.0, "theta_max": 140.0}),
        ("mumu", {"theta_min": 17.0, "theta_max": 150.0}),
    ],
)
def test_generator_matches_closed_form(name, opts):
    ev = GENERATORS[name](200_000, np.random.default_rng(3), sqrt_s=SQRT_S, **opts)
    assert ev.weight.sum() == pytest.approx(CLOSED[name](sqrt_s=SQRT_S, **opts), rel=0.01)
    assert np.allclose(ev.p4.sum(axis=1), [SQRT_S, 0, 0, 0], atol=1e-9)
    mass = MUON_MASS if name == "mumu" else 0.0
    m2 = ev.p4[..., 0] ** 2 - (ev.p4[..., 1:] ** 2).sum(-1)
    assert np.allclose(m2, mass**2, atol=1e-9)
    theta = np.degrees(np.arccos(ev.p4[..., 3] / np.linalg.norm(ev.p4[..., 1:], axis=-1)))
    assert theta.min() >= opts.get("theta_min", 10.0 if name != "mumu" else 0.0) - 1e-9
    assert theta.max() <= opts.get("theta_max", 170.0 if name != "mumu" else 180.0) + 1e-9


def test_angular_distributions():
    rng = np.random.default_rng(5)
    ev = qed.generate_mumu(200_000, rng, sqrt_s=SQRT_S)
    c = ev.p4[:, 0, 3] / np.linalg.norm(ev.p4[:, 0, 1:], axis=1)
    # <c^2> for 1 + c^2 (beta ~ 1): (2/3 + 2/5)/(2 + 2/3) = 0.4.
    assert np.mean(c**2) == pytest.approx(0.4, abs=0.003)
    ev = qed.generate_ee(200_000, rng, sqrt_s=SQRT_S)
    c = ev.p4[:, 0, 3] / ev.p4[:, 0, 0]
    # Weighted fraction in cos in [0, 0.5] vs the closed form.
    frac = ev.weight[(c > 0) & (c < 0.5)].sum() / ev.weight.sum()
    exact = integrate.quad(lambda x: float(qed.dsigma_bhabha_dcos(x, sqrt_s=SQRT_S)), 0, 0.5)[0] / qed.sigma_bhabha(
        sqrt_s=SQRT_S
    )
    assert frac == pytest.approx(exact, rel=0.02)


def test_xsec_scale_physics_book():
    for name, nb in (("ee", 300.0), ("gammagamma", 4.99), ("mumu", 1.148)):
        ev = GENERATORS[name](50_000, np.random.default_rng(1), sqrt_s=SQRT_S, xsec_scale="physics_book")
        assert ev.weight.sum() == pytest.approx(nb * 1e6, rel=0.01)
        base = GENERATORS[name](50_000, np.random.default_rng(1), sqrt_s=SQRT_S, xsec_scale=2.0)
        assert np.allclose(ev.weight / base.weight, qed.k_factor(name) / 2.0)
    assert qed.k_factor("mumu") == pytest.approx(1.148 / 0.7759, rel=1e-3)
    with pytest.raises(ValueError, match="xsec_scale"):
        qed.generate_ee(10, np.random.default_rng(1), sqrt_s=SQRT_S, xsec_scale="pdg")


def test_bad_angles():
    with pytest.raises(ValueError, match="diverges"):
        qed.generate_ee(10, np.random.default_rng(1), sqrt_s=SQRT_S, theta_min=0.0, theta_max=180.0)
    with pytest.raises(ValueError, match="theta_min < theta_max"):
        qed.generate_gammagamma(10, np.random.default_rng(1), sqrt_s=SQRT_S, theta_min=100.0, theta_max=90.0)
    with pytest.raises(ValueError, match="both particles"):
        qed.generate_mumu(10, np.random.default_rng(1), sqrt_s=SQRT_S, theta_min=100.0, theta_max=170.0)


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_seeds(name):
    a = GENERATORS[name](2000, np.random.default_rng(11), sqrt_s=SQRT_S)
    b = GENERATORS[name](2000, np.random.default_rng(11), sqrt_s=SQRT_S)
    c = GENERATORS[name](2000, np.random.default_rng(12), sqrt_s=SQRT_S)
    assert np.array_equal(a.p4, b.p4) and np.array_equal(a.weight, b.weight)
    assert not np.array_equal(a.p4, c.p4)
