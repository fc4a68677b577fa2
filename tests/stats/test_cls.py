"""Asymptotic CLs (darkscan.stats.cls): the shared formulas against pyhf's, and FastAsymptoticCLs against
pyhf's own toms748_scan on a realistic three-bin window model."""

import warnings

import numpy as np
import pyhf
import pytest
from pyhf.infer.calculators import AsymptoticTestStatDistribution
from scipy import stats

from darkscan.stats.cls import BAND_SIGMAS, FastAsymptoticCLs, expected_limits, log_cls_expected, log_cls_observed
from darkscan.stats.methods.window_sidebands.model import WindowInputs, build_spec, signal_scale
from darkscan.systematics.table import Systematic

SYSTEMATICS = [
    Systematic("luminosity", "signal", "normsys", 0.007, ""),
    Systematic("muon_id", "signal", "normsys", 0.04, ""),
    Systematic("mass_resolution", "signal", "histosys", 0.10, ""),
    Systematic("background_mc_statistics", "background", "staterror", float("nan"), ""),
]


def _workspace(data_window: float) -> pyhf.Workspace:
    inputs = WindowInputs(
        edges=np.array([0.0, 1.0, 2.0, 3.0]),
        data=np.array([1465.0, data_window, 2480.0]),
        background=np.array([1470.8, 2122.7, 2444.4]),
        background_sumw2=np.array([900.0, 1400.0, 1600.0]),
        signal=np.array([1.2, 25.5, 1.0]),
        signal_up=np.array([1.9, 24.1, 1.6]),
        signal_down=np.array([0.7, 26.4, 0.6]),
    )
    return pyhf.Workspace(build_spec(inputs, SYSTEMATICS, scale_fb=signal_scale(inputs), background_floor=1e-3))


@pytest.mark.parametrize("data_window", [2080.0, 2185.0, 2300.0])  # deficit, small and large excess
def test_fast_limits_agree_with_pyhf(data_window):
    workspace = _workspace(data_window)
    model = workspace.model()
    data = workspace.data(model)
    scale = model.config.suggested_init()[model.config.poi_index]
    fast = FastAsymptoticCLs(model, data).upper_limits(0.10, scale=scale)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obs, exp = pyhf.infer.intervals.upper_limits.toms748_scan(
            data, model, 0.1 * scale, 10 * scale, level=0.10, rtol=1e-4
        )
    assert fast.observed == pytest.approx(float(obs), rel=0.01)
    np.testing.assert_allclose(fast.expected, [float(e) for e in exp], rtol=0.015)


def test_expected_band_is_ordered_and_positive():
    workspace = _workspace(2122.7)
    model = workspace.model()
    limits = FastAsymptoticCLs(model, workspace.data(model)).upper_limits(0.05, scale=5.0)
    assert np.all(np.diff(limits.expected) > 0) and limits.expected[0] > 0


def test_expected_limit_scales_as_one_over_sqrt_luminosity():
    """Background-dominated window, no MC-statistics term: 10x luminosity -> limit / sqrt(10)."""
    medians = []
    for k in (1.0, 10.0):
        inputs = WindowInputs(
            edges=np.array([0.0, 1.0, 2.0, 3.0]),
            data=np.array([1470.0, 2120.0, 2440.0]) * k,
            background=np.array([1470.0, 2120.0, 2440.0]) * k,
            background_sumw2=np.zeros(3),
            signal=np.array([1.2, 25.5, 1.0]) * k,
            signal_up=np.array([1.2, 25.5, 1.0]) * k,
            signal_down=np.array([1.2, 25.5, 1.0]) * k,
        )
        workspace = pyhf.Workspace(build_spec(inputs, [], scale_fb=signal_scale(inputs), background_floor=1e-3))
        model = workspace.model()
        medians.append(
            FastAsymptoticCLs(model, workspace.data(model)).upper_limits(0.10, scale=signal_scale(inputs)).expected[2]
        )
    assert medians[1] / medians[0] == pytest.approx(10**-0.5, rel=0.02)


def test_log_cls_formulas_equal_pyhf_asymptotic_distributions():
    """log CLs of qtilde (both branches, sqrt(q) below and above sqrt(q_A)) and of the expected
    band, against pyhf's AsymptoticTestStatDistribution as FastAsymptoticCLs uses it."""
    for q, q_a in [(0.0, 1.0), (0.5, 2.0), (2.0, 2.0), (6.0, 1.5), (12.0, 4.0)]:
        sqrt_q, sqrt_qa = np.sqrt(q), np.sqrt(q_a)
        t = sqrt_q - sqrt_qa if sqrt_q <= sqrt_qa else (q - q_a) / (2 * sqrt_qa)
        cls = AsymptoticTestStatDistribution(-sqrt_qa).pvalue(t) / AsymptoticTestStatDistribution(0.0).pvalue(t)
        assert np.exp(log_cls_observed(np.array(q), np.array(q_a))) == pytest.approx(float(cls), rel=1e-10)
    # at the expected limits the band's CLs is the level (CCGV eq. 89: sqrt(q_A) = mu_N / sigma_A)
    sigma_a, level = 0.7, 0.1
    mu_n = expected_limits(sigma_a, level)
    np.testing.assert_allclose(np.exp(log_cls_expected((mu_n / sigma_a) ** 2, BAND_SIGMAS)), level, rtol=1e-10)
    assert mu_n[2] == pytest.approx(sigma_a * stats.norm.isf(level / 2), rel=1e-12)
    assert expected_limits(np.full((3, 2), sigma_a), level).shape == (5, 3, 2)
