"""Tests of the interpolating signal model (darkscan.stats.signal_model) on synthetic Gaussian signals."""

import numpy as np
import pytest

from darkscan.stats.signal_model import SignalModel, SignalPoint, core_resolution, weighted_quantile

N_EVENTS = 40000


def _point(mass, sigma, efficiency, xsec, seed):
    rng = np.random.default_rng(seed)
    residuals = rng.normal(0.0, sigma, N_EVENTS)
    weights = np.full(N_EVENTS, efficiency * xsec / N_EVENTS)  # weights in fb: sum = selected xsec
    lo, hi = weighted_quantile(residuals, weights, [0.16, 0.84])
    return SignalPoint(
        mass,
        xsec,
        float(weights.sum() / xsec),
        float(np.sqrt((weights**2).sum()) / xsec),
        residuals,
        weights,
        float((hi - lo) / 2),
    )


@pytest.fixture(scope="module")
def model():
    # deliberately unsorted; masses 1, 2, 4 GeV with widths 0.02, 0.05, 0.08 GeV
    return SignalModel(
        [_point(2.0, 0.05, 0.30, 50.0, 2), _point(1.0, 0.02, 0.20, 100.0, 1), _point(4.0, 0.08, 0.50, 10.0, 3)]
    )


def test_weighted_quantile_matches_numpy_for_unit_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(size=501)
    q = np.array([0.0, 0.01, 0.16, 0.5, 0.84, 0.99, 1.0])
    # midpoint rule on unit weights is the Hazen plotting position (k - 1/2) / n
    np.testing.assert_allclose(
        weighted_quantile(x, np.ones_like(x), q), np.quantile(x, q, method="hazen"), rtol=0, atol=1e-12
    )
    # odd n: the median is the middle order statistic, as for numpy's default
    assert weighted_quantile(x, np.ones_like(x), [0.5])[0] == pytest.approx(np.median(x), abs=1e-12)
    # by hand: weights 1, 3, 1, 1 put the midpoints at 0.5/6, 2.5/6, 4.5/6, 5.5/6, so the median
    # lies (3/6 - 2.5/6) / (2/6) = 1/4 of the way from 2 to 3
    xs = np.array([4.0, 2.0, 1.0, 3.0])
    np.testing.assert_allclose(weighted_quantile(xs, np.array([1.0, 3.0, 1.0, 1.0])[[3, 1, 0, 2]], [0.5]), [2.25])


def test_generated_points_resolution_is_gaussian_sigma(model):
    for p, sigma in zip(model.points, (0.02, 0.05, 0.08), strict=False):
        assert p.resolution == pytest.approx(sigma, rel=0.02)
    np.testing.assert_array_equal(model.masses, [1.0, 2.0, 4.0])


def test_resolution_efficiency_xsec_interpolate(model):
    r = [p.resolution for p in model.points]
    # linear: m = 3 is halfway between 2 and 4; m = 1.25 a quarter of the way from 1 to 2
    assert model.resolution(3.0) == pytest.approx(0.5 * (r[1] + r[2]), rel=1e-12)
    assert model.resolution(1.25) == pytest.approx(0.75 * r[0] + 0.25 * r[1], rel=1e-12)
    assert model.efficiency(3.0) == pytest.approx(0.40, rel=1e-12)
    assert model.efficiency(1.25) == pytest.approx(0.225, rel=1e-12)
    # log-linear cross section: geometric mean halfway
    assert model.xsec_fb(3.0) == pytest.approx(np.sqrt(50.0 * 10.0), rel=1e-12)
    assert model.xsec_fb(1.25) == pytest.approx(100.0**0.75 * 50.0**0.25, rel=1e-12)
    assert model.efficiency(2.0) == pytest.approx(0.30, rel=1e-12)


@pytest.mark.parametrize("mass", [1.25, 3.0, 3.7])
def test_morphed_template_width_and_normalisation(model, mass):
    sig = model.at(mass)
    res, eff = model.resolution(mass), model.efficiency(mass)
    assert sig.resolution == pytest.approx(res, rel=1e-12)
    assert sig.efficiency == pytest.approx(eff, rel=1e-12)
    assert sig.xsec_fb == pytest.approx(model.xsec_fb(mass), rel=1e-12)
    lo, hi = weighted_quantile(sig.values - mass, sig.weights, [0.16, 0.84])
    assert (hi - lo) / 2 == pytest.approx(res, rel=0.03)
    assert np.average(sig.values, weights=sig.weights) == pytest.approx(mass, abs=0.02 * res)
    # the template over a range wide enough for everything integrates to the efficiency
    edges = np.linspace(mass - 20 * res, mass + 20 * res, 401)
    template = sig.template(edges)
    assert template.sum() == pytest.approx(eff, rel=1e-9)
    # +-1 resolution holds the Gaussian 68.3%, +-2 the 95.4%
    assert sig.template(mass + res * np.array([-1.0, 1.0]))[0] == pytest.approx(0.6827 * eff, rel=0.02)
    assert sig.template(mass + res * np.array([-2.0, 2.0]))[0] == pytest.approx(0.9545 * eff, rel=0.01)
    # scaling the resolution by 1.2 scales the 16-84% half range by 1.2 and keeps the total
    wide = sig.template(mass + 1.2 * res * np.array([-1.0, 1.0]), resolution_scale=1.2)[0]
    assert wide == pytest.approx(sig.template(mass + res * np.array([-1.0, 1.0]))[0], rel=1e-12)


def test_at_generated_mass_reproduces_point(model):
    sig = model.at(2.0)
    p = model.points[1]
    assert sig.efficiency == pytest.approx(p.efficiency) and sig.resolution == pytest.approx(p.resolution)
    total = sig.weights.sum()
    assert total == pytest.approx(0.30, rel=1e-12)
    # all weight sits on the 2 GeV sample (the 1 GeV neighbour has weight 1 - f = 0)
    np.testing.assert_allclose(sig.values[sig.weights > 0], 2.0 + p.residuals, rtol=0, atol=1e-12)


def test_scan_grid_steps_by_resolution_fraction(model):
    grid = model.scan_grid({"min": 1.0, "max": 4.0, "step_resolution_fraction": 0.25})
    assert grid[0] == 1.0 and grid[-1] <= 4.0
    # independent loop: m_{k+1} = m_k + 0.25 sigma(m_k), sigma linear between the generated masses
    masses, widths = [1.0, 2.0, 4.0], [p.resolution for p in model.points]
    expected, m = [], 1.0
    while m <= 4.0:
        expected.append(m)
        m += 0.25 * np.interp(m, masses, widths)
    np.testing.assert_allclose(grid, expected, atol=1e-6)
    steps = np.diff(grid)
    np.testing.assert_allclose(steps, 0.25 * np.interp(grid[:-1], masses, widths), atol=2e-6)
    # first step: 0.25 x 0.02 GeV
    assert steps[0] == pytest.approx(0.25 * model.points[0].resolution, abs=1e-6)
    # default step fraction 0.5 gives about half as many points
    default = model.scan_grid({"min": 1.0, "max": 4.0})
    assert len(default) == pytest.approx(len(grid) / 2, abs=2)
    # an explicit list is returned sorted
    np.testing.assert_array_equal(model.scan_grid([3.0, 1.5, 2.0]), [1.5, 2.0, 3.0])


@pytest.mark.parametrize("mass", [0.5, 4.25])
def test_mass_outside_generated_range_raises(model, mass):
    with pytest.raises(ValueError, match=f"mass {mass} GeV outside"):
        model.at(mass)


def test_too_few_points_and_leave_one_out(model):
    with pytest.raises(ValueError, match="at least two"):
        SignalModel(model.points[:1])
    # leaving out 2 GeV interpolates between 1 and 4 GeV: f = 1/3
    loo = model.at(2.0, exclude_generated=True)
    assert loo.efficiency == pytest.approx(2 / 3 * 0.20 + 1 / 3 * 0.50, rel=1e-12)
    assert loo.resolution == pytest.approx(
        2 / 3 * model.points[0].resolution + 1 / 3 * model.points[2].resolution, rel=1e-12
    )
    # an end point cannot be left out: the rest does not reach it
    with pytest.raises(ValueError, match="mass 4.0 GeV outside"):
        model.at(4.0, exclude_generated=True)


def test_core_resolution_is_the_gaussian_sigma_at_any_quantile_and_ignores_a_tail():
    """A Gaussian's core resolution is its sigma (x 0.9945, the default 16-84% measure) for every
    quantile; a one-sided tail (a quarter of the events, as ISR gives) widens the 16-84% measure
    by 60% but the 30-70% one by 30%."""
    rng = np.random.default_rng(4)
    gauss = rng.normal(0.0, 0.1, 400_000)
    ones = np.ones_like(gauss)
    for q in (0.16, 0.25, 0.3, 0.35):
        assert core_resolution(gauss, ones, quantile=q) == pytest.approx(0.1 * 0.9945, rel=0.01)
    tailed = np.concatenate([gauss[:300_000], -rng.exponential(0.5, 100_000)])
    default, core = (core_resolution(tailed, ones, quantile=q) for q in (0.16, 0.3))
    assert default > 1.5 * 0.1 and core < 1.35 * 0.1
