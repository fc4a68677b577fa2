"""Tests of the gamma_alp, gamma_darkphoton and darkhiggsstrahlung generators."""

import numpy as np
import pytest
from scipy import integrate

from darkscan.generate.processes import signals as sig
from darkscan.generate.registry import get_process
from darkscan.physics import signals as phys
from darkscan.physics.constants import MUON_MASS

SQRT_S = 10.58
C0 = np.cos(np.radians(10))


def _mass(p4: np.ndarray) -> np.ndarray:
    return np.sqrt(np.clip(p4[..., 0] ** 2 - (p4[..., 1:] ** 2).sum(-1), 0, None))


def _cos(p4: np.ndarray) -> np.ndarray:
    return p4[..., 3] / np.linalg.norm(p4[..., 1:], axis=-1)


def _total(ev) -> np.ndarray:
    return ev.p4.sum(axis=1) + ev.invisible


def test_registered_with_xsec():
    for name, gen in (
        ("gamma_alp", sig.generate_gamma_alp),
        ("gamma_darkphoton", sig.generate_gamma_darkphoton),
        ("darkhiggsstrahlung", sig.generate_darkhiggsstrahlung),
    ):
        proc = get_process(name)
        assert proc.generate is gen and callable(proc.xsec)
    assert get_process("gamma_alp").xsec(sqrt_s=SQRT_S, mass=1.0, coupling=1e-3).value_fb == pytest.approx(
        phys.sigma_gamma_alp(sqrt_s=SQRT_S, mass=1.0, g_agg=1e-3)
    )


@pytest.mark.parametrize("mass, theta", [(0.2, (0.0, 180.0)), (3.0, (20.0, 140.0)), (9.5, (30.0, 150.0))])
def test_gamma_alp(mass, theta):
    ev = sig.generate_gamma_alp(
        100_000,
        np.random.default_rng(1),
        sqrt_s=SQRT_S,
        mass=mass,
        coupling=1e-3,
        photon_theta_min=theta[0],
        photon_theta_max=theta[1],
    )
    closed = sig.xsec_gamma_alp(
        sqrt_s=SQRT_S, mass=mass, coupling=1e-3, theta_min=theta[0], theta_max=theta[1]
    ).value_fb
    assert ev.weight.sum() == pytest.approx(closed, rel=1e-9)  # equal weights, exact normalisation
    assert np.all(ev.pdg == 22) and np.allclose(_total(ev), [SQRT_S, 0, 0, 0], atol=1e-9)
    assert np.allclose(_mass(ev.p4[:, 1] + ev.p4[:, 2]), mass, atol=1e-7)
    c = _cos(ev.p4[:, 0])
    lo, hi = np.cos(np.radians(theta[1])), np.cos(np.radians(theta[0]))
    assert c.min() >= lo - 1e-12 and c.max() <= hi + 1e-12
    # <c^2> of the photon vs the 1 + c^2 shape.
    f = lambda x, k: x**k * (1 + x * x)  # noqa: E731
    expect = integrate.quad(f, lo, hi, args=(2,))[0] / integrate.quad(f, lo, hi, args=(0,))[0]
    assert np.mean(c**2) == pytest.approx(expect, abs=0.004)
    inv = sig.generate_gamma_alp(1000, np.random.default_rng(1), sqrt_s=SQRT_S, mass=mass, decay="invisible")
    assert inv.pdg.shape == (1000, 1) and np.allclose(_mass(inv.invisible), mass, atol=1e-7)


@pytest.mark.parametrize(
    "mass, decay, theta",
    [
        (0.01, "ee", (10.0, 170.0)),
        (0.5, "mumu", (10.0, 170.0)),
        (4.0, "invisible", (20.0, 150.0)),
        (9.0, "mumu", (12.4, 155.1)),
    ],
)
def test_gamma_darkphoton(mass, decay, theta):
    ev = sig.generate_gamma_darkphoton(
        200_000,
        np.random.default_rng(2),
        sqrt_s=SQRT_S,
        mass=mass,
        coupling=1e-3,
        decay=decay,
        photon_theta_min=theta[0],
        photon_theta_max=theta[1],
    )
    closed = sig.xsec_gamma_darkphoton(
        sqrt_s=SQRT_S, mass=mass, coupling=1e-3, theta_min=theta[0], theta_max=theta[1]
    ).value_fb
    assert ev.weight.sum() == pytest.approx(closed, rel=0.01)
    assert np.allclose(_total(ev), [SQRT_S, 0, 0, 0], atol=1e-9)
    assert ev.pdg[0, 0] == 22
    c = _cos(ev.p4[:, 0])
    assert c.min() >= np.cos(np.radians(theta[1])) - 1e-12 and c.max() <= np.cos(np.radians(theta[0])) + 1e-12
    if decay == "invisible":
        assert ev.pdg.shape[1] == 1 and np.allclose(_mass(ev.invisible), mass, atol=1e-7)
    else:
        pid = 11 if decay == "ee" else 13
        assert np.all(ev.pdg[:, 1:] == [pid, -pid]) and np.allclose(_mass(ev.p4[:, 1] + ev.p4[:, 2]), mass, rtol=1e-7)
        assert np.all(ev.invisible == 0)


def test_gamma_darkphoton_scenario_and_limit():
    kw = dict(sqrt_s=SQRT_S, mass=2.0, coupling=1e-3, decay="mumu")
    base = sig.generate_gamma_darkphoton(1000, np.random.default_rng(3), **kw)
    vis = sig.generate_gamma_darkphoton(1000, np.random.default_rng(3), scenario="visible", **kw)
    assert np.allclose(vis.weight, base.weight * phys.darkphoton_branching_fraction(2.0, "mumu"))
    # m -> 0 identity through the CLI xsec functions: gamma A' vs 2 eps^2 gamma gamma (10-170 deg).
    from darkscan.generate.processes import qed

    ratio = sig.xsec_gamma_darkphoton(sqrt_s=SQRT_S, mass=1e-6, coupling=1e-3).value_fb / (
        2e-6 * qed.xsec_gammagamma(sqrt_s=SQRT_S).value_fb
    )
    assert ratio == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("m_a, m_h", [(0.3, 0.0), (1.0, 2.0), (4.0, 5.0)])
def test_darkhiggsstrahlung(m_a, m_h):
    ev = sig.generate_darkhiggsstrahlung(
        100_000, np.random.default_rng(4), sqrt_s=SQRT_S, mass=m_a, mass2=m_h, coupling=1e-7
    )
    closed = sig.xsec_darkhiggsstrahlung(sqrt_s=SQRT_S, mass=m_a, mass2=m_h, coupling=1e-7).value_fb
    assert ev.weight.sum() == pytest.approx(closed, rel=1e-9)
    assert np.all(ev.pdg == [13, -13]) and np.allclose(_total(ev), [SQRT_S, 0, 0, 0], atol=1e-9)
    ap = ev.p4[:, 0] + ev.p4[:, 1]
    assert np.allclose(_mass(ap), m_a, rtol=1e-7) and np.allclose(_mass(ev.invisible), m_h, atol=1e-6)
    assert np.allclose(_mass(ev.p4[:, 0]), MUON_MASS, rtol=1e-6)
    c = _cos(ap)
    shape = lambda x, k: x**k * phys.darkhiggsstrahlung_angular(x, sqrt_s=SQRT_S, mass_ap=m_a, mass_h=m_h)  # noqa: E731
    assert np.mean(c**2) == pytest.approx(integrate.quad(shape, -1, 1, args=(2,))[0], abs=0.004)


def test_mass_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"ALP mass 11.0 GeV is outside the allowed range \(0, 10.58\)"):
        sig.generate_gamma_alp(10, rng, sqrt_s=SQRT_S, mass=11.0)
    with pytest.raises(ValueError, match=r"A' mass 0.1 GeV.*0.211"):
        sig.generate_gamma_darkphoton(10, rng, sqrt_s=SQRT_S, mass=0.1, decay="mumu")
    with pytest.raises(ValueError, match=r"h' mass 7.0 GeV.*5.58"):
        sig.generate_darkhiggsstrahlung(10, rng, sqrt_s=SQRT_S, mass=5.0, mass2=7.0)
    with pytest.raises(ValueError, match="beam axis"):
        sig.generate_gamma_darkphoton(10, rng, sqrt_s=SQRT_S, mass=1.0, photon_theta_min=0.0)
    with pytest.raises(ValueError, match="allowed"):
        sig.generate_gamma_darkphoton(10, rng, sqrt_s=SQRT_S, mass=1.0, decay="tautau")


@pytest.mark.parametrize(
    "gen, opts",
    [
        (sig.generate_gamma_alp, {"mass": 1.0}),
        (sig.generate_gamma_darkphoton, {"mass": 1.0, "decay": "mumu"}),
        (sig.generate_darkhiggsstrahlung, {"mass": 1.0, "mass2": 1.0}),
    ],
)
def test_seeds(gen, opts):
    a = gen(2000, np.random.default_rng(11), sqrt_s=SQRT_S, **opts)
    b = gen(2000, np.random.default_rng(11), sqrt_s=SQRT_S, **opts)
    c = gen(2000, np.random.default_rng(12), sqrt_s=SQRT_S, **opts)
    assert (
        np.array_equal(a.p4, b.p4) and np.array_equal(a.weight, b.weight) and np.array_equal(a.invisible, b.invisible)
    )
    assert not np.array_equal(a.p4, c.p4)


def test_mumu_scalar():
    from darkscan.generate.processes import scalar
    from darkscan.physics.scalar import width_mumu, yukawa_from_xi

    assert get_process("mumu_scalar").generate is scalar.generate_mumu_scalar
    ev = scalar.generate_mumu_scalar(
        60_000, np.random.default_rng(5), sqrt_s=SQRT_S, mass=2.0, coupling=0.1, decay="mumu"
    )
    assert np.all(ev.pdg == [13, -13, 13, -13]) and np.allclose(_total(ev), [SQRT_S, 0, 0, 0], atol=1e-9)
    assert np.allclose(_mass(ev.p4[:, 2] + ev.p4[:, 3]), 2.0, rtol=1e-7)
    # Independent seeds agree within the Monte Carlo errors (sigma ~ y^2).
    ref = get_process("mumu_scalar").xsec(sqrt_s=SQRT_S, mass=2.0, coupling=0.1)
    assert ev.weight.sum() == pytest.approx(ref.value_fb, rel=0.02)
    assert 60.0 < ref.value_fb < 75.0  # 6.77e3 fb for y = 1 at 10.58 GeV
    inv = scalar.generate_mumu_scalar(2000, np.random.default_rng(5), sqrt_s=SQRT_S, mass=2.0)
    assert inv.pdg.shape == (2000, 2) and np.allclose(_mass(inv.invisible), 2.0, rtol=1e-7)
    assert yukawa_from_xi(1.0) == pytest.approx(0.1056583755 / 246.22)
    assert float(width_mumu(1.0, 0.2)) == 0.0 and float(width_mumu(1.0, 100.0)) == pytest.approx(
        100 / (8 * np.pi), rel=1e-5
    )
    with pytest.raises(ValueError, match=r"scalar mass 10.5 GeV is outside the allowed range \(0, 10.36"):
        scalar.generate_mumu_scalar(10, np.random.default_rng(5), sqrt_s=SQRT_S, mass=10.5)
