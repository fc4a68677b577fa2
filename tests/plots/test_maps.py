"""The binned 2D map: nearest hypothesis in resolution units, empty where no ellipse reaches."""

import numpy as np

from darkscan.plots.maps import nearest_hypothesis_map


def test_each_bin_takes_the_nearest_hypothesis_in_resolution_units():
    x, y, z = np.array([1.0, 3.0]), np.array([1.0, 1.0]), np.array([10.0, 20.0])
    edges_x, edges_y = np.linspace(0, 4, 5), np.linspace(0, 2, 3)  # centres x 0.5..3.5, y 0.5, 1.5
    # the second hypothesis has a 4x wider x resolution: the bin at x = 1.5 (0.75 of its sigma away,
    # 1 sigma of the first) is nearer to it; the bin at x = 0.5 (1.25 vs 1 sigma) is not
    grid = nearest_hypothesis_map(x, y, z, edges_x, edges_y, scales=(np.array([0.5, 2.0]), np.array([1.0, 1.0])))
    np.testing.assert_array_equal(grid[:, 0], [10.0, 20.0, 20.0, 20.0])
    # plain distance: the bins at x = 1.5 and 2.5 split between the two
    plain = nearest_hypothesis_map(x, y, z, edges_x, edges_y)
    np.testing.assert_array_equal(plain[:, 1], [10.0, 10.0, 20.0, 20.0])


def test_bins_beyond_reach_stay_empty():
    x, y, z = np.array([0.0]), np.array([0.0]), np.array([5.0])
    edges = np.linspace(-3, 3, 7)  # centres -2.5 .. 2.5
    grid = nearest_hypothesis_map(x, y, z, edges, edges, scales=(np.ones(1), np.ones(1)), reach=1.0)
    assert np.isfinite(grid).sum() == 4 and set(grid[np.isfinite(grid)]) == {5.0}  # the 4 centres at (+-0.5, +-0.5)


def test_smoothing_averages_the_filled_neighbours_and_keeps_holes():
    from darkscan.plots.maps import smooth_nan

    grid = np.full((5, 5), 2.0)
    grid[2, 2] = 12.0  # one noisy bin
    grid[0, 0] = np.nan  # outside the scan
    smoothed = smooth_nan(grid, sigma=1.0)
    assert np.isnan(smoothed[0, 0]) and np.isfinite(smoothed[1:, 1:]).all()
    assert 2.0 < smoothed[2, 2] < 5.0  # the spike shrinks towards its neighbours
    flat = smooth_nan(np.where(np.isnan(grid), np.nan, 3.0), sigma=1.0)
    np.testing.assert_allclose(flat[np.isfinite(flat)], 3.0)  # a flat field stays flat, also next to the hole
