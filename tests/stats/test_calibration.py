"""Calibration on pseudo-experiments (darkscan.stats.calibration): known answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from darkscan.stats import calibration as cal


def test_randomised_p_values_are_uniform_for_a_discrete_statistic():
    """Maxima of a few counts tie often; conservative p-values then pile up, randomised ones do not."""
    rng = np.random.default_rng(1)
    reference = rng.poisson(2.0, 5000).astype(float)
    values = rng.poisson(2.0, 2000).astype(float)
    p = cal.randomised_p_values(values, reference, rng)
    assert stats.kstest(p, "uniform").pvalue > 0.01
    conservative = np.array([(np.count_nonzero(reference >= v) + 1) / 5001 for v in values])
    assert stats.kstest(conservative, "uniform").pvalue < 1e-6


def test_injection_summary_of_gaussian_toys():
    rng = np.random.default_rng(2)
    fitted = rng.normal(10.0, 2.0, 4000)
    injection = cal.Injection(1.0, None, 10.0, fitted, (fitted - 10.0) / 2.0, fitted + 1.2816 * 2.0)
    row = cal.summarise_injection(injection, cl=0.9)
    assert row["bias"] == pytest.approx(0.0, abs=3 * row["bias_error"]) and row["bias_error"] == pytest.approx(
        0.2 / np.sqrt(4000), rel=0.05
    )
    assert row["pull_width"] == pytest.approx(1.0, abs=0.05) and row["coverage"] == pytest.approx(0.9, abs=0.015)
    assert cal.failed_targets({"background": {"p_global_ks_pvalue": 0.5}, "injection": [row]}, cl=0.9) == []
    biased = cal.summarise_injection(cal.Injection(1.0, None, 10.0, fitted + 2.0, (fitted - 8.0) / 2.0, fitted), cl=0.9)
    failures = cal.failed_targets({"background": {"p_global_ks_pvalue": 0.0005}, "injection": [biased]}, cl=0.9)
    assert cal.marginal_targets({"background": {"p_global_ks_pvalue": 0.005}}) and not cal.failed_targets(
        {"background": {"p_global_ks_pvalue": 0.005}, "injection": []}, cl=0.9
    )
    assert any("p_global_ks_pvalue" in f for f in failures) and any(
        "bias = +0.19" in f or "bias = +0.20" in f for f in failures
    )
    assert any("coverage" in f for f in failures)


def test_coverage_of_another_limit_method_is_reported_not_enforced():
    """Where the scan used toy CLs the injection toys' limits are asymptotic: their undercoverage
    is a warning naming both methods, not a failed target."""
    rng = np.random.default_rng(4)
    fitted = rng.normal(10.0, 2.0, 2000)
    low = fitted + 0.5 * 2.0  # an upper limit that covers 69%, not 90%
    summary = {"background": {"p_global_ks_pvalue": 0.5}}
    own = cal.summarise_injection(cal.Injection(1.0, None, 10.0, fitted, (fitted - 10.0) / 2.0, low), cl=0.9)
    assert any("coverage = 0.69" in f for f in cal.failed_targets({**summary, "injection": [own]}, cl=0.9))
    other = cal.Injection(1.0, None, 10.0, fitted, (fitted - 10.0) / 2.0, low, scan_limit="cls_toys")
    row = cal.summarise_injection(other, cl=0.9)
    assert row["scan_limit"] == "cls_toys" and row["coverage_of"] == "cls_asymptotic"
    assert cal.failed_targets({**summary, "injection": [row]}, cl=0.9) == []
    (warning,) = cal.marginal_targets({**summary, "injection": [row]}, cl=0.9)
    assert "coverage = 0.69" in warning and "cls_toys" in warning
