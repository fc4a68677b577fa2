"""The two-mass signal interpolation (darkscan.stats.methods.ellipse_counting.signal)."""

import numpy as np
import pytest

from darkscan.stats.methods.ellipse_counting.signal import SignalModel2D, SignalPoint2D


def _point(m1, m2, *, eff=None, containment=0.85):
    eff = 0.5 - 0.02 * m1 - 0.01 * m2 if eff is None else eff
    return SignalPoint2D(
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
    model = SignalModel2D(_grid_points())
    for m1, m2 in [(1.3, 0.7), (3.1, 2.9), (5.2, 1.1)]:
        at = model.at(m1, m2)
        np.testing.assert_allclose(at.efficiency, 0.5 - 0.02 * m1 - 0.01 * m2, rtol=1e-12)
        np.testing.assert_allclose([at.resolution, at.resolution2], [0.002 + 0.002 * m1, 0.05 + 0.01 * m2], rtol=1e-12)
        np.testing.assert_allclose(at.window_efficiency, at.efficiency * 0.85)
    value, derivation = model.interpolation_uncertainty()
    assert value < 1e-9 and "leave-one-out" in derivation


def test_interpolation_refuses_extrapolation_and_needs_mass2():
    model = SignalModel2D(_grid_points())
    with pytest.raises(ValueError, match="outside the generated"):
        model.at(8.0, 3.0)
    with pytest.raises(ValueError, match="mass2"):
        model.at(1.0)


def test_leave_one_out_sees_a_bump():
    points = _grid_points()
    points = [_point(p.mass, p.mass2, eff=0.6 if (p.mass, p.mass2) == (2.5, 2.0) else 0.4) for p in points]
    value, _ = SignalModel2D(points).interpolation_uncertainty()
    np.testing.assert_allclose(value, 0.2 / 0.6, rtol=1e-9)


def test_scan_grid_steps_follow_resolutions_and_kinematic_limit():
    model = SignalModel2D(_grid_points())
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


def test_scan_grid_keeps_mass2_below_mass_where_asked():
    """The invisible dark Higgs benchmark (M_h' < M_A'): every hypothesis below the diagonal, and
    those below it the same as without the option."""
    model = SignalModel2D(_grid_points())
    spec = {"min": 0.5, "max": 6.5, "step_resolution_fraction": 5.0, "min2": 0.0, "max2": 4.0, "sum_max": 7.0}
    full = model.scan_grid(spec)
    below = model.scan_grid({**spec, "mass2_below_mass": True})
    assert len(below) > 20 and np.all(below[:, 1] < below[:, 0])
    np.testing.assert_array_equal(below, full[full[:, 1] < full[:, 0]])


def test_scan_grid_covers_a_steeply_falling_resolution():
    # sigma_2 falls from 0.6 GeV at m2 = 0 to 0.08 GeV at 2.2 GeV, as the recoil mass near zero
    def point(m1, m2):
        p = _point(m1, m2)
        return SignalPoint2D(**{**p.__dict__, "resolution2": 0.6 if m2 == 0.0 else 0.08})

    model = SignalModel2D([point(a, b) for a in (0.5, 4.5) for b in (0.0, 2.2, 4.4)])
    f2, reach = 4.0, 2.5  # the dark_higgsstrahlung settings: step 4 sigma, ellipses +-2.5 sigma
    spec = {
        "min": 0.5,
        "max": 0.5,
        "step_resolution_fraction": 5.0,
        "min2": 0.0,
        "max2": 4.4,
        "step_resolution_fraction2": f2,
    }
    column = model.scan_grid(spec)[:, 1]
    res2 = model.values(np.full(len(column), 0.5), column)[:, 2]
    probe = np.linspace(0.0, column.max(), 2000)
    covered = (np.abs(probe[:, None] - column[None, :]) <= reach * res2[None, :]).any(axis=1)
    assert covered.all(), probe[~covered][[0, -1]]
    # where sigma_2 grows or stays, the step is f2 x sigma_2 at the current point
    assert np.diff(column)[-1] == pytest.approx(f2 * 0.08, rel=1e-6)
