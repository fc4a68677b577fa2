"""Punzi's figure of merit against hand calculations."""

import math

import numpy as np
import pytest

from darkscan.mva.punzi import PUNZI_A, PUNZI_B, punzi_denominator, punzi_denominator_slope, punzi_fom


def test_denominator_by_hand():
    # B = 4, a = 3, b = 1.28155: 9/8 + 9 b^2/13 + 3 * 2 + (b/2) sqrt(b^2 + 24 + 16)
    b = 1.28155
    by_hand = 1.125 + 9 * 1.6423704 / 13 + 6.0 + 0.640775 * math.sqrt(1.6423704 + 40.0)
    assert punzi_denominator(4.0) == pytest.approx(by_hand, rel=1e-6)
    assert (PUNZI_A, PUNZI_B) == (3.0, b)


def test_background_free_limit_and_large_background_limit():
    # B = 0: a^2/8 + 9 b^2/13 + b^2/2
    assert punzi_denominator(0.0, a=3.0, b=1.0) == pytest.approx(9 / 8 + 9 / 13 + 0.5)
    # B -> infinity: (a + b) sqrt(B)
    assert punzi_denominator(1e10, a=3.0, b=1.0) / 1e5 == pytest.approx(4.0, rel=1e-4)


def test_fom_prefers_the_cleaner_selection_at_equal_efficiency():
    assert punzi_fom(0.5, 1.0) > punzi_fom(0.5, 10.0)
    assert punzi_fom(np.array([0.2, 0.4]), 9.0) == pytest.approx(np.array([0.2, 0.4]) / punzi_denominator(9.0))
    # a negative background (a fluctuation of weighted MC) counts as none
    assert punzi_fom(0.5, -1.0) == pytest.approx(punzi_fom(0.5, 0.0))


def test_the_slope_of_the_bracket_is_its_derivative():
    background = np.array([1e-3, 0.5, 4.0, 250.0])
    step = 1e-6 * background
    numeric = (punzi_denominator(background + step) - punzi_denominator(background - step)) / (2 * step)
    np.testing.assert_allclose(punzi_denominator_slope(background), numeric, rtol=1e-6)
