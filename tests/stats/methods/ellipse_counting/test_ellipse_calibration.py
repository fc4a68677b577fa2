"""Calibration of the two-mass scan (darkscan.stats.methods.ellipse_counting.calibration) on
pseudo-experiments: the targets are met, and a biased background model is caught."""

import json

import numpy as np
import pytest

from darkscan.stats import calibration as cal
from darkscan.stats.methods.ellipse_counting.calibration import (
    background_ensemble,
    injection_ensemble,
    likelihood_pulls,
)
from darkscan.stats.methods.ellipse_counting.counting import counting_cls_limits, normsys_factor
from darkscan.stats.methods.ellipse_counting.events import Events, ellipse_background, membership


def _toy_scan(n_events: int = 6000, weight: float = 0.05, seed: int = 3):
    """A 2D scan over a flat MC background: ellipses with ~25 expected events each."""
    rng = np.random.default_rng(seed)
    bkg = Events(
        rng.uniform(0, 4, n_events), rng.uniform(0, 4, n_events), np.full(n_events, weight), np.zeros(n_events, int)
    )
    centres = np.array([[a, b] for a in np.arange(0.5, 3.6, 0.5) for b in np.arange(0.5, 3.6, 0.5)])
    axes = np.full_like(centres, 0.4)
    member = membership(bkg, centres, axes)
    b0, sigma_b = ellipse_background(bkg, member, floor=1e-3)
    s = np.full(len(centres), 2.0)  # 2 events per fb in every ellipse
    return bkg, centres, member, b0, sigma_b, s


def _calibrate(bkg_truth: Events, bkg_model, member, b0, sigma_b, s, *, rng):
    """Ensembles drawn from ``bkg_truth``, fitted with the model b0 +- sigma_b of ``bkg_model``."""
    del bkg_model
    checked = np.arange(len(b0))[::4]
    background = background_ensemble(
        member,
        bkg_truth,
        b0,
        sigma_b,
        s,
        checked=checked,
        level=0.1,
        signal_norm=0.0,
        toys=300,
        reference=1000,
        rng=rng,
    )
    injections = []
    for row in (3, 24, 45):
        limits = counting_cls_limits(b0[row], s[row], b0[row], sigma_b[row], level=0.1)
        for strength in (1.0, 3.0):
            injections.append(
                injection_ensemble(
                    row,
                    member,
                    bkg_truth,
                    b0,
                    sigma_b,
                    s,
                    injected=strength * float(limits.expected[2]),
                    level=0.1,
                    signal_norm=0.0,
                    toys=300,
                    rng=rng,
                    mass=1.0,
                    mass2=2.0,
                )
            )
    return background, injections


def test_two_mass_calibration_meets_its_targets(tmp_path):
    bkg, _, member, b0, sigma_b, s = _toy_scan()
    rng = np.random.default_rng(204)
    background, injections = _calibrate(bkg, bkg, member, b0, sigma_b, s, rng=rng)
    channel = {"name": "toy", "cl": 0.9}
    summary = cal.write_calibration(
        tmp_path / "c.json",
        channel=channel,
        background=background,
        injections=injections,
        method="ellipse_counting",
        seed=1,
        rng=rng,
    )
    assert summary["failed_targets"] == []
    assert json.loads((tmp_path / "c.json").read_text())["background"]["toys"] == 300
    assert summary["background"]["p_global_ks_pvalue"] > 0.01
    # background-only: the observed limit is outside the +-1 (2) sigma band about 32% (5%) of the time
    # (less where CLs protects downward fluctuations: only the upper side counts there)
    assert 0.10 < summary["background"]["outside_1sigma"] < 0.40 and summary["background"]["outside_2sigma"] < 0.10
    for row in summary["injection"]:
        assert abs(row["bias"]) < 3 * row["bias_error"] + 0.02 and row["coverage"] >= 0.85


def test_a_biased_background_model_fails_the_calibration(tmp_path):
    """Toys drawn from a background 40% above the model: fitted signals are biased, the rule fails."""
    bkg, _, member, b0, sigma_b, s = _toy_scan()
    truth = Events(bkg.x, bkg.y, bkg.w * 1.4, bkg.sample)
    rng = np.random.default_rng(5)
    background, injections = _calibrate(truth, bkg, member, b0, sigma_b, s, rng=rng)
    with pytest.raises(cal.CalibrationError, match="bias"):
        cal.write_calibration(
            tmp_path / "c.json",
            channel={"name": "toy", "cl": 0.9},
            background=background,
            injections=injections,
            method="ellipse_counting",
            seed=1,
            rng=rng,
        )


def test_ellipse_pulls_include_the_signal_normalisation_systematic():
    """Toys whose true signal normalisation is drawn within its 20% systematic: the likelihood-ratio
    pulls have unit width only when the pull's likelihood profiles that nuisance."""
    rng = np.random.default_rng(7)
    toys, s, b0, sigma_b, injected, norm = 4000, 100.0, 50.0, 2.0, 3.0, 0.2
    theta = normsys_factor(rng.standard_normal(toys), norm)
    n = rng.poisson(injected * s * theta + rng.normal(b0, sigma_b, toys).clip(0))
    _, with_norm = likelihood_pulls(n, s, b0, sigma_b, injected, signal_norm=norm)
    _, without = likelihood_pulls(n, s, b0, sigma_b, injected)
    assert abs(np.std(with_norm) - 1.0) < 0.05  # standard error of the width ~ 0.011
    assert np.std(without) > 2.5  # sqrt(350 + 60^2) / sqrt(350) = 3.4 for a symmetric spread
