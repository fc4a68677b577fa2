"""Two-mass elliptical-window counting (darkscan.stats.ellipses): geometry, limits, interpolation."""

import numpy as np
import pyhf
import pytest
from scipy import sparse, stats

from darkscan.stats import ellipses as el
from darkscan.stats.methods import get_method


# ----------------------------------------------------------------------------- geometry
def test_inside_ellipse_axes_and_boundary():
    centre, axes = (2.0, 1.0), (0.1, 0.5)
    x = np.array([2.0, 2.099, 2.101, 2.0, 2.0, 2.07, 2.08])
    y = np.array([1.0, 1.0, 1.0, 1.499, 0.49, 1.35, 1.35])
    # (0.07/0.1)^2 + (0.35/0.5)^2 = 0.98 inside; (0.08/0.1)^2 + 0.49 = 1.13 outside
    assert el.inside_ellipse(x, y, centre, axes).tolist() == [True, True, False, True, False, True, False]


def test_membership_matches_brute_force():
    rng = np.random.default_rng(1)
    events = el.Events(rng.uniform(0, 5, 3000), rng.uniform(0, 5, 3000), rng.uniform(0.5, 2.0, 3000))
    centres = rng.uniform(0.5, 4.5, (50, 2))
    axes = rng.uniform(0.05, 0.8, (50, 2))
    member = el.membership(events, centres, axes)
    assert sparse.issparse(member) and member.shape == (50, 3000)
    brute = np.array([el.inside_ellipse(events.x, events.y, c, a) for c, a in zip(centres, axes, strict=False)])
    np.testing.assert_array_equal(member.toarray().astype(bool), brute)
    np.testing.assert_allclose(member @ events.w, (brute * events.w).sum(axis=1))


def test_empty_ellipse_background_gets_one_event_uncertainty():
    events = el.Events(np.array([1.0, 1.0]), np.array([1.0, 1.0]), np.array([0.5, 1.5]))
    member = el.membership(events, np.array([[1.0, 1.0], [3.0, 3.0]]), np.array([[0.1, 0.1], [0.1, 0.1]]))
    b0, sigma = el.ellipse_background(events, member, floor=1e-3)
    np.testing.assert_allclose(b0, [2.0, 1e-3])
    np.testing.assert_allclose(sigma, [np.sqrt(0.25 + 2.25), 1.14 * (0.25 + 2.25) / 2.0])


def test_sample_without_mc_events_in_an_ellipse_adds_its_one_event_uncertainty():
    light = el.Events(np.array([1.0, 3.0]), np.array([1.0, 3.0]), np.array([0.1, 0.1]))
    heavy = el.Events(np.array([3.0, 3.05]), np.array([3.0, 3.0]), np.array([2.0, 2.0]))
    events = el.concatenate([light, heavy])
    assert events.sample.tolist() == [0, 0, 1, 1]
    member = el.membership(events, np.array([[1.0, 1.0], [3.0, 3.0]]), np.array([[0.2, 0.2], [0.2, 0.2]]))
    b0, sigma = el.ellipse_background(events, member, floor=1e-3)
    np.testing.assert_allclose(b0, [0.1, 4.1])
    # at (1, 1): one light event (0.1) and no heavy event: + (1.14 x 2)^2
    np.testing.assert_allclose(sigma, [np.sqrt(0.01 + (1.14 * 2.0) ** 2), np.sqrt(0.01 + 8.0)])


# ----------------------------------------------------------------------------- limits
def _spec(n, s, b0, sigma):
    return el.pyhf_spec(n=n, s=s, b0=b0, sigma_b=sigma, signal_norm=0.0, scale=(2 * np.sqrt(b0 + 1) + 3) / s)


CASES = [(12, 3.0, 10.0, 1.0), (3, 0.5, 4.0, 0.6), (40, 8.0, 45.0, 5.0), (130, 10.0, 120.0, 3.0)]


@pytest.mark.parametrize("n, s, b0, sigma", CASES)
def test_closed_form_cls_matches_pyhf_fits(n, s, b0, sigma):
    """Same model and conventions fitted numerically by pyhf (FastAsymptoticCLs): 0.1% agreement."""
    limits = el.counting_cls_limits(np.array([n]), np.array([s]), np.array([b0]), np.array([sigma]), level=0.1)
    assert limits.converged.all()
    obs, exp = el.pyhf_limits(_spec(n, s, b0, sigma), 0.1)
    np.testing.assert_allclose(limits.observed[0], obs, rtol=2e-3)
    np.testing.assert_allclose(limits.expected[:, 0], exp, rtol=2e-3)


@pytest.mark.parametrize("n, s, b0, sigma", CASES[:3])
def test_closed_form_with_signal_normalisation_matches_pyhf(n, s, b0, sigma):
    """Signal normsys of 25% profiled (golden section) vs the full pyhf model with that normsys."""
    spec = el.pyhf_spec(n=n, s=s, b0=b0, sigma_b=sigma, signal_norm=0.25, scale=(2 * np.sqrt(b0 + 1) + 3) / s)
    obs, exp = el.pyhf_limits(spec, 0.1)
    limits = el.counting_cls_limits(
        np.array([n]), np.array([s]), np.array([b0]), np.array([sigma]), level=0.1, signal_norm=0.25
    )
    np.testing.assert_allclose(limits.observed[0], obs, rtol=5e-3)
    np.testing.assert_allclose(limits.expected[:, 0], exp, rtol=1e-2)  # pyhf's fits: ~0.5% at small mu
    without = el.counting_cls_limits(np.array([n]), np.array([s]), np.array([b0]), np.array([sigma]), level=0.1)
    assert limits.observed[0] > without.observed[0]


@pytest.mark.parametrize("n, s, b0, sigma", CASES[:2])
def test_closed_form_cls_matches_pyhf_hypotest_scan(n, s, b0, sigma):
    """Independent calculation: pyhf's own hypotest on a fine POI grid (its Asimov bands per POI)."""
    workspace = pyhf.Workspace(_spec(n, s, b0, sigma))
    model = workspace.model()
    scale = model.config.suggested_init()[model.config.poi_index]
    obs, exp = pyhf.infer.intervals.upper_limits.upper_limit(
        workspace.data(model), model, scan=np.geomspace(0.05, 20, 150) * scale, level=0.1, test_stat="qtilde"
    )
    limits = el.counting_cls_limits(np.array([n]), np.array([s]), np.array([b0]), np.array([sigma]), level=0.1)
    np.testing.assert_allclose(limits.observed[0], float(obs), rtol=0.03)
    np.testing.assert_allclose(limits.expected[1:4, 0], [float(e) for e in exp[1:4]], rtol=0.03)


def test_closed_form_cls_known_background_limit():
    """No background uncertainty, n = b (Asimov): the asymptotic median limit of a Poisson count.

    With sigma_b -> 0, q_mu,A = 2 [ (mu s + b) ln((mu s + b)/b) ... ] reduces to the known-b profile
    likelihood; for large b, sigma_A -> sqrt(b)/s and the median 90% CL limit -> 1.64 sqrt(b)/s x
    (Phi^-1(1 - 0.1/2) / 1.64), i.e. mu_med = sqrt(b)/s * Phi^-1(0.95) = 1.645 sqrt(b)/s.
    """
    b = 1.0e4
    limits = el.counting_cls_limits(np.array([b]), np.array([1.0]), np.array([b]), np.array([1e-6]), level=0.1)
    np.testing.assert_allclose(limits.expected[2, 0], 1.6449 * np.sqrt(b), rtol=0.01)
    np.testing.assert_allclose(limits.observed[0], limits.expected[2, 0], rtol=0.01)
    assert np.all(np.diff(limits.expected[:, 0]) > 0)


def test_closed_form_vectorised_equals_one_by_one():
    n, s, b0, sigma = (
        np.array([0, 5, 20]),
        np.array([2.0, 1.0, 4.0]),
        np.array([1e-3, 4.0, 25.0]),
        np.array([0.5, 1.0, 2.0]),
    )
    together = el.counting_cls_limits(n, s, b0, sigma, level=0.1)
    for i in range(3):
        alone = el.counting_cls_limits(n[i : i + 1], s[i : i + 1], b0[i : i + 1], sigma[i : i + 1], level=0.1)
        np.testing.assert_allclose(together.observed[i], alone.observed[0], rtol=1e-9)
    # more signal per fb, lower limit; zero events over tiny background: about 2.3 events / s
    assert 1.0 < together.observed[0] * s[0] < 3.0


# ----------------------------------------------------------------------------- interpolation
def _point(m1, m2, *, eff=None, containment=0.85):
    eff = 0.5 - 0.02 * m1 - 0.01 * m2 if eff is None else eff
    return el.SignalPoint2D(
        mass=m1,
        mass2=m2,
        xsec_fb=100.0,
        sqrt_s=10.58,
        efficiency=eff,
        efficiency_err=0.01 * eff,
        resolution=0.002 + 0.002 * m1,
        resolution2=0.05 + 0.01 * m2,
        containment=containment,
    )


def _grid_points():
    return [_point(a, b) for a in (0.5, 2.5, 4.5, 6.5) for b in (0.0, 2.0, 4.0) if a + b <= 8.5]


def test_linear_interpolation_is_exact_for_linear_dependence():
    model = el.SignalModel2D(_grid_points())
    for m1, m2 in [(1.3, 0.7), (3.1, 2.9), (5.2, 1.1)]:
        at = model.at(m1, m2)
        np.testing.assert_allclose(at.efficiency, 0.5 - 0.02 * m1 - 0.01 * m2, rtol=1e-12)
        np.testing.assert_allclose([at.resolution, at.resolution2], [0.002 + 0.002 * m1, 0.05 + 0.01 * m2], rtol=1e-12)
        np.testing.assert_allclose(at.window_efficiency, at.efficiency * 0.85)
    value, derivation = model.interpolation_uncertainty()
    assert value < 1e-9 and "leave-one-out" in derivation


def test_interpolation_refuses_extrapolation_and_needs_mass2():
    model = el.SignalModel2D(_grid_points())
    with pytest.raises(ValueError, match="outside the generated"):
        model.at(8.0, 3.0)
    with pytest.raises(ValueError, match="mass2"):
        model.at(1.0)


def test_leave_one_out_sees_a_bump():
    points = _grid_points()
    points = [_point(p.mass, p.mass2, eff=0.6 if (p.mass, p.mass2) == (2.5, 2.0) else 0.4) for p in points]
    value, _ = el.SignalModel2D(points).interpolation_uncertainty()
    np.testing.assert_allclose(value, 0.2 / 0.6, rtol=1e-9)


def test_scan_grid_steps_follow_resolutions_and_kinematic_limit():
    model = el.SignalModel2D(_grid_points())
    grid = model.scan_grid(
        {
            "min": 0.5,
            "max": 6.5,
            "step_resolution_fraction": 5.0,
            "min2": 0.0,
            "max2": 4.0,
            "step_resolution_fraction2": 2.0,
            "sum_max": 7.0,
        }
    )
    assert grid.shape[1] == 2 and len(grid) > 100
    assert np.all(grid.sum(axis=1) <= 7.0 + 1e-9)
    assert np.all(np.isfinite(model.values(grid[:, 0], grid[:, 1])[:, 0]))
    m1 = np.unique(grid[:, 0])
    steps = np.diff(m1)
    np.testing.assert_allclose(steps[0], 5.0 * model.at(m1[0], 0.0).resolution, rtol=1e-6)
    first_column = grid[grid[:, 0] == m1[0], 1]
    np.testing.assert_allclose(np.diff(first_column)[0], 2.0 * model.at(m1[0], 0.0).resolution2, rtol=1e-6)


# ----------------------------------------------------------------------------- look-elsewhere, registry
def test_global_significance_toys():
    rng = np.random.default_rng(3)
    bkg = el.Events(rng.uniform(0, 4, 2000), rng.uniform(0, 4, 2000), np.full(2000, 0.05))
    centres = np.array([[a, b] for a in np.arange(0.5, 3.6, 0.25) for b in np.arange(0.5, 3.6, 0.25)])
    axes = np.full_like(centres, 0.3)
    member = el.membership(bkg, centres, axes)
    b0, sigma = el.ellipse_background(bkg, member, floor=1e-3)
    none = el.global_significance_2d(0.0, member, bkg, b0, sigma, n_toys=100, rng=np.random.default_rng(1))
    assert none["p_global"] == 1.0 and none["z_global"] == 0.0
    big = el.global_significance_2d(6.0, member, bkg, b0, sigma, n_toys=100, rng=np.random.default_rng(1))
    assert big["p_global"] == pytest.approx(1 / 101) and 2.0 < big["z_global"] < 6.0 and not big["trials_factor_floor"]
    # many overlapping windows: the typical largest local excess of a toy is well above 1 sigma
    assert 1.0 < none["mean_z_max_toys"] < 4.5


def test_registered_as_fit_method():
    method = get_method({"name": "x", "fit": {"method": "ellipse_counting"}})
    assert method.scan_part is el.scan_part and method.write_significance is el.write_significance


def test_toys_reproduce_the_local_p_value_of_one_ellipse():
    """One ellipse, b0 = 100 +- 5 (400 MC events of weight 0.25): the toys (MC resampled, then Poisson)
    reach Z >= 2 as often as the asymptotic local p-value says, Phi(-2) = 0.0228. Without resampling
    the MC the toys would vary by sqrt(100) only and give ~0.0125: a global p-value below the local one."""
    bkg = el.Events(np.full(400, 1.0), np.full(400, 1.0), np.full(400, 0.25))
    member = el.membership(bkg, np.array([[1.0, 1.0]]), np.array([[0.5, 0.5]]))
    b0, sigma = el.ellipse_background(bkg, member, floor=1e-3)
    assert b0[0] == pytest.approx(100.0) and sigma[0] == pytest.approx(5.0)
    result = el.global_significance_2d(
        2.0, member, bkg, b0, sigma, n_toys=20_000, rng=np.random.default_rng(5), batch=2000
    )
    assert result["p_global_toys"] == pytest.approx(stats.norm.sf(2.0), rel=0.15)
    assert result["z_global"] <= 2.0
