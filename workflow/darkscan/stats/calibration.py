"""Calibration of a channel's scan on pseudo-experiments: ``calibration.json`` and its plot.

Every fit method provides two ensembles (its ``calibrate`` function, see
:mod:`darkscan.stats.methods`), each drawn from the channel's background model and put
through the same statistics as the data:

* **background only**: per pseudo-experiment the largest local significance of the whole scan,
  its global p-value (against the look-elsewhere toys of the method, which are independent of
  this ensemble), and, at a subset of hypotheses, the observed limit and its expected band;
* **signal injection** at a few hypotheses and strengths (around the expected limit and 3x it):
  the fitted signal, its pull and whether the upper limit covers the injected cross section.

This module turns them into the summary and checks it against the targets: the global p-values
uniform (Kolmogorov-Smirnov p-value above 0.01; the rule fails below 0.001), |bias| below 10%,
pull width within 1 +- 0.1, coverage at least the CL minus three standard errors of the toy
fraction. A channel that misses them fails the ``calibrate_scan`` rule with a message naming the
figure.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os

import numpy as np
from scipy import stats

from darkscan import rootio
from darkscan.stats.lookelsewhere import global_p_value

log = logging.getLogger(__name__)
QUANTILES = (0.05, 0.16, 0.5, 0.84, 0.95)
KS_PVALUE_MIN = 0.01  # the target: below it the calibration warns
KS_PVALUE_FAIL = 0.001  # below it the rule fails (a 1% false alarm per channel and build is too many)
BIAS_MAX = 0.10
PULL_WIDTH_TOLERANCE = 0.10


@dataclasses.dataclass(frozen=True)
class BackgroundEnsemble:
    """Background-only pseudo-experiments through the scan.

    Attributes:
        z_local_max: (toys,) largest local significance of each toy over all hypotheses.
        reference_maxima: (n,) the same statistic from the look-elsewhere toys (independent).
        observed: (toys, k) observed limits at k checked hypotheses (fb).
        expected: (toys, 5, k) each toy's expected limits (-2 .. +2 sigma) there (fb).
    """

    z_local_max: np.ndarray
    reference_maxima: np.ndarray
    observed: np.ndarray
    expected: np.ndarray


@dataclasses.dataclass(frozen=True)
class Injection:
    """Pseudo-experiments with a signal injected at one hypothesis.

    Attributes:
        mass: hypothesis mass (GeV); ``mass2`` the second mass of a 2D scan (else None).
        injected: injected cross section (fb).
        fitted: (toys,) fitted cross section (fb; the unbounded maximum-likelihood estimate).
        pulls: (toys,) likelihood-ratio pulls, sign(fitted - injected) sqrt(-2 ln lambda(injected)):
            the profile likelihood at the injected value, Gaussian to much lower counts than
            (fitted - injected) / error (whose error shrinks with downward fluctuations).
        upper_limit: (toys,) observed upper limit (fb).
        asymptotic: the hypothesis has enough background (the method's ``injection_background_min``)
            for the asymptotic regime; where it has not, bias and pull width are reported but
            only the coverage is a target (few-event estimators are biased and their
            likelihood-ratio pulls discrete; the limit is what the analysis uses).
        scan_limit: the scan's limit method at this hypothesis, when the toys' upper limits come
            from another one (asymptotic CLs where the scan used toy CLs: too slow for every toy);
            then the coverage is reported, not a target. None: the same method.
        limit_method: the toys' limit method where it is not the ensembles' default
            (``cls_toys``: toy CLs as in the scan's small-background windows), else None.
    """

    mass: float
    mass2: float | None
    injected: float
    fitted: np.ndarray
    pulls: np.ndarray
    upper_limit: np.ndarray
    asymptotic: bool = True
    scan_limit: str | None = None
    limit_method: str | None = None


def randomised_p_values(values: np.ndarray, reference: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """P(reference >= value) with ties broken at random: exactly uniform when both come from one
    distribution, also for a discrete statistic (counts of a few events give many equal maxima)."""
    reference = np.sort(np.asarray(reference, float))
    above = len(reference) - np.searchsorted(reference, values, side="right")
    ties = np.searchsorted(reference, values, side="right") - np.searchsorted(reference, values, side="left")
    return (above + rng.random(len(values)) * (ties + 1)) / (len(reference) + 1)


def summarise_background(ensemble: BackgroundEnsemble, *, rng: np.random.Generator) -> dict:
    """Quantiles of z_local_max, per-toy global p-values and their uniformity, band coverage.

    ``p_global`` is what each toy's ``significance.json`` would say (conservative with ties,
    never below the local p-value); ``p_global_randomised`` breaks ties at random (uniform for a
    discrete statistic too). Uniformity is tested by the two-sample Kolmogorov-Smirnov test of the
    toys' largest local Z against the look-elsewhere toys', which is the same statement.
    """
    z = np.asarray(ensemble.z_local_max, float)
    p_global = np.array([global_p_value(ensemble.reference_maxima, float(value))["p_global"] for value in z])
    p_random = randomised_p_values(z, ensemble.reference_maxima, rng)
    z_global = stats.norm.isf(np.clip(p_global, 1e-300, 0.5))
    obs, exp = np.asarray(ensemble.observed, float), np.asarray(ensemble.expected, float)
    ok = np.isfinite(obs) & np.all(np.isfinite(exp), axis=1)
    outside_1 = (obs < exp[:, 1]) | (obs > exp[:, 3])
    outside_2 = (obs < exp[:, 0]) | (obs > exp[:, 4])
    return {
        "toys": int(len(z)),
        "reference_toys": int(len(ensemble.reference_maxima)),
        "z_local_max": {f"q{round(100 * q):02d}": float(np.quantile(z, q)) for q in QUANTILES}
        | {"mean": float(z.mean())},
        "z_local_max_toys": [round(float(v), 4) for v in z],
        "p_global": [round(float(v), 6) for v in p_global],
        "p_global_randomised": [round(float(v), 6) for v in p_random],
        # uniformity of the toys' p-values against a finite reference: the two-sample test of their
        # statistics (a one-sample test of p_global would ignore the reference's own fluctuation)
        "p_global_ks_pvalue": float(stats.ks_2samp(z, ensemble.reference_maxima).pvalue),
        "fraction_z_global_above_2": float(np.mean(z_global > 2.0)),
        "fraction_z_global_above_3": float(np.mean(z_global > 3.0)),
        "band_checks": int(ok.sum()),
        "outside_1sigma": float(outside_1[ok].mean()) if ok.any() else math.nan,
        "outside_2sigma": float(outside_2[ok].mean()) if ok.any() else math.nan,
    }


def summarise_injection(injection: Injection, *, cl: float) -> dict:
    """Bias (with its toy-statistics error), pulls and coverage of one injection point."""
    fitted, pulls, limit = (np.asarray(a, float) for a in (injection.fitted, injection.pulls, injection.upper_limit))
    ok = np.isfinite(fitted) & np.isfinite(pulls) & np.isfinite(limit)
    toys = int(ok.sum())
    if toys < 2:
        raise ValueError(f"injection at {injection.mass} GeV: {toys} usable pseudo-experiments")
    fitted, pulls, limit = fitted[ok], pulls[ok], limit[ok]
    width = float(pulls.std(ddof=1))
    row = {
        "mass": float(injection.mass),
        "injected": float(injection.injected),
        "toys": toys,
        "fitted_mean": float(fitted.mean()),
        "bias": float(fitted.mean() / injection.injected - 1.0),
        "bias_error": float(fitted.std(ddof=1) / math.sqrt(toys) / injection.injected),
        "pull_mean": float(pulls.mean()),
        "pull_width": width,
        "pull_width_error": width / math.sqrt(2.0 * (toys - 1)),
        "coverage": float(np.mean(limit >= injection.injected)),
        "coverage_error": float(math.sqrt(cl * (1.0 - cl) / toys)),
        "asymptotic": bool(injection.asymptotic),
    }
    if injection.scan_limit is not None:
        row["coverage_of"] = "cls_asymptotic"
        row["scan_limit"] = injection.scan_limit
    if injection.limit_method is not None:
        row["limit_method"] = injection.limit_method
    if injection.mass2 is not None:
        row["mass2"] = float(injection.mass2)
    return row


def failed_targets(summary: dict, *, cl: float) -> list[str]:
    """Messages for every calibration figure that misses its target (empty: calibrated).

    Bias and pull width are measured on a finite number of toys: a figure misses its target when
    it lies beyond it by more than two of its standard errors (with 200 toys a 20% bias is found).
    The uniformity test fails below p = 0.001; between 0.001 and the target 0.01 it only warns
    (:func:`marginal_targets`): under the null hypothesis p < 0.01 happens in 1% of the
    calibrations, so three channels would fail a correct build 3% of the time.
    """
    failures = []
    ks = summary["background"]["p_global_ks_pvalue"]
    if not ks > KS_PVALUE_FAIL:
        failures.append(
            f"p_global_ks_pvalue = {ks:.3g} (global p-values of background-only toys not uniform; "
            f"target > {KS_PVALUE_MIN}, fails below {KS_PVALUE_FAIL})"
        )
    for row in summary["injection"]:
        where = (
            f"injection at {row['mass']:.4g} GeV"
            + (f", {row['mass2']:.4g} GeV" if "mass2" in row else "")
            + f", {row['injected']:.4g} fb"
        )
        if row.get("asymptotic", True):
            failures += _estimator_misses(row, where)
        if "scan_limit" not in row:
            failures += _coverage_misses(row, where, cl)
    return failures


def _coverage_misses(row: dict, where: str, cl: float) -> list[str]:
    floor = cl - 3.0 * row["coverage_error"]
    if row["coverage"] >= floor:
        return []
    return [f"{where}: coverage = {row['coverage']:.3f} (target >= CL - 3 standard errors = {floor:.3f})"]


def _estimator_misses(row: dict, where: str) -> list[str]:
    """Bias and pull-width messages of one injection row (empty: both on target)."""
    misses = []
    if not abs(row["bias"]) - 2.0 * row["bias_error"] < BIAS_MAX:
        misses.append(f"{where}: bias = {row['bias']:+.3f} +- {row['bias_error']:.3f} (target |bias| < {BIAS_MAX})")
    if not abs(row["pull_width"] - 1.0) - 2.0 * row["pull_width_error"] < PULL_WIDTH_TOLERANCE:
        misses.append(
            f"{where}: pull_width = {row['pull_width']:.3f} +- {row['pull_width_error']:.3f} "
            f"(target 1 +- {PULL_WIDTH_TOLERANCE})"
        )
    return misses


def marginal_targets(summary: dict, *, cl: float | None = None) -> list[str]:
    """Figures between their failure threshold and their target, and the estimator figures of
    injection points outside the asymptotic regime (logged as warnings)."""
    warnings = []
    ks = summary["background"]["p_global_ks_pvalue"]
    if KS_PVALUE_FAIL < ks <= KS_PVALUE_MIN:
        warnings.append(
            f"p_global_ks_pvalue = {ks:.3g} is below its target {KS_PVALUE_MIN} "
            f"(fails below {KS_PVALUE_FAIL}; p < 0.01 happens in 1% of correct calibrations)"
        )
    for row in summary.get("injection", []):
        if not row.get("asymptotic", True):
            where = f"injection at {row['mass']:.4g} GeV, {row['injected']:.4g} fb (few background events)"
            warnings += [f"{miss}: not a target here" for miss in _estimator_misses(row, where)]
        if "scan_limit" in row and cl is not None:
            where = f"injection at {row['mass']:.4g} GeV, {row['injected']:.4g} fb"
            note = f"coverage of asymptotic limits, the scan uses {row['scan_limit']} here: not a target"
            warnings += [f"{miss}: {note}" for miss in _coverage_misses(row, where, cl)]
    return warnings


class CalibrationError(RuntimeError):
    """The scan misses a calibration target (the message names each figure)."""


def write_calibration(
    out_json: str | os.PathLike,
    *,
    channel: dict,
    background: BackgroundEnsemble,
    injections: list[Injection],
    method: str,
    seed: int,
    rng: np.random.Generator,
    enforce: bool = True,
    limit_method: str = "cls_asymptotic",
) -> dict:
    """Summarise, write ``calibration.json`` and raise :class:`CalibrationError` on a missed target.

    ``limit_method``: the statistic whose limits the ensembles checked (the fit method knows it).
    Every figure is also logged (Snakemake removes the outputs of a failed job).
    """
    cl = float(channel["cl"])
    summary = {
        "channel": channel["name"],
        "cl": cl,
        "method": method,
        "limit_method": limit_method,
        "seed": int(seed),
        "background": summarise_background(background, rng=rng),
        "injection": [summarise_injection(i, cl=cl) for i in injections],
        "targets": {
            "p_global_ks_pvalue_min": KS_PVALUE_MIN,
            "p_global_ks_pvalue_fail": KS_PVALUE_FAIL,
            "bias_max": BIAS_MAX,
            "pull_width": [1.0 - PULL_WIDTH_TOLERANCE, 1.0 + PULL_WIDTH_TOLERANCE],
            "coverage_min": "cl - 3 standard errors",
        },
    }
    failures = failed_targets(summary, cl=cl)
    summary["failed_targets"] = failures
    summary["marginal_targets"] = marginal_targets(summary, cl=cl)
    for warning in summary["marginal_targets"]:
        log.warning("calibration: %s", warning)
    with rootio.atomic_path(out_json) as tmp:
        tmp.write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    background_summary = summary["background"]
    log.info(
        "%s: %d background-only toys, median z_local_max %.2f, KS p-value of p_global %.3g, "
        "outside +-1/2 sigma %.3f / %.3f",
        channel["name"],
        background_summary["toys"],
        background_summary["z_local_max"]["q50"],
        background_summary["p_global_ks_pvalue"],
        background_summary["outside_1sigma"],
        background_summary["outside_2sigma"],
    )
    for row in summary["injection"]:
        log.info(
            "injection %.4g GeV, %.4g fb: bias %+.3f +- %.3f, pull %.2f, width %.2f, coverage %.3f",
            row["mass"],
            row["injected"],
            row["bias"],
            row["bias_error"],
            row["pull_mean"],
            row["pull_width"],
            row["coverage"],
        )
    if failures and enforce:
        raise CalibrationError(
            f"channel {channel['name']}: calibration misses its targets (see {out_json}): " + "; ".join(failures)
        )
    for failure in failures:
        log.warning("calibration target missed (not enforced): %s", failure)
    return summary
