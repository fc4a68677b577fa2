"""Which ellipses events fall in (darkscan.stats.methods.ellipse_counting.events): geometry, background."""

import numpy as np
from scipy import sparse

from darkscan.stats.methods.ellipse_counting.events import (
    Events,
    concatenate,
    ellipse_background,
    inside_ellipse,
    membership,
)


def test_inside_ellipse_axes_and_boundary():
    centre, axes = (2.0, 1.0), (0.1, 0.5)
    x = np.array([2.0, 2.099, 2.101, 2.0, 2.0, 2.07, 2.08])
    y = np.array([1.0, 1.0, 1.0, 1.499, 0.49, 1.35, 1.35])
    # (0.07/0.1)^2 + (0.35/0.5)^2 = 0.98 inside; (0.08/0.1)^2 + 0.49 = 1.13 outside
    assert inside_ellipse(x, y, centre, axes).tolist() == [True, True, False, True, False, True, False]


def test_membership_matches_brute_force():
    rng = np.random.default_rng(1)
    events = Events(rng.uniform(0, 5, 3000), rng.uniform(0, 5, 3000), rng.uniform(0.5, 2.0, 3000))
    centres = rng.uniform(0.5, 4.5, (50, 2))
    axes = rng.uniform(0.05, 0.8, (50, 2))
    member = membership(events, centres, axes)
    assert sparse.issparse(member) and member.shape == (50, 3000)
    brute = np.array([inside_ellipse(events.x, events.y, c, a) for c, a in zip(centres, axes, strict=False)])
    np.testing.assert_array_equal(member.toarray().astype(bool), brute)
    np.testing.assert_allclose(member @ events.w, (brute * events.w).sum(axis=1))


def test_empty_ellipse_background_gets_one_event_uncertainty():
    events = Events(np.array([1.0, 1.0]), np.array([1.0, 1.0]), np.array([0.5, 1.5]))
    member = membership(events, np.array([[1.0, 1.0], [3.0, 3.0]]), np.array([[0.1, 0.1], [0.1, 0.1]]))
    b0, sigma = ellipse_background(events, member, floor=1e-3)
    np.testing.assert_allclose(b0, [2.0, 1e-3])
    np.testing.assert_allclose(sigma, [np.sqrt(0.25 + 2.25), 1.14 * (0.25 + 2.25) / 2.0])


def test_sample_without_mc_events_in_an_ellipse_adds_its_one_event_uncertainty():
    light = Events(np.array([1.0, 3.0]), np.array([1.0, 3.0]), np.array([0.1, 0.1]))
    heavy = Events(np.array([3.0, 3.05]), np.array([3.0, 3.0]), np.array([2.0, 2.0]))
    events = concatenate([light, heavy])
    assert events.sample.tolist() == [0, 0, 1, 1]
    member = membership(events, np.array([[1.0, 1.0], [3.0, 3.0]]), np.array([[0.2, 0.2], [0.2, 0.2]]))
    b0, sigma = ellipse_background(events, member, floor=1e-3)
    np.testing.assert_allclose(b0, [0.1, 4.1])
    # at (1, 1): one light event (0.1) and no heavy event: + (1.14 x 2)^2
    np.testing.assert_allclose(sigma, [np.sqrt(0.01 + (1.14 * 2.0) ** 2), np.sqrt(0.01 + 8.0)])
