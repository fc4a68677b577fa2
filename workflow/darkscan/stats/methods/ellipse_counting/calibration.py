"""Calibration of the two-mass ellipse-counting scan (fit method ``ellipse_counting``).

Pseudo-experiments are drawn from the background model as the look-elsewhere toys are: per toy
a true background resampled from the selected MC (every event's weight times Poisson(1)), then
Poisson(w k L) data events per MC event, counted in every ellipse at once
(:func:`darkscan.stats.methods.ellipse_counting.events.membership`). Each toy goes through the
statistics of the scan: the local significance of every ellipse (the ``z_local`` of
``limits.csv``) and the limits of the scan's ``fit.limit`` (closed-form CLs, or Bayesian,
:func:`darkscan.stats.methods.ellipse_counting.counting.counting_limits`) at every
``limit_every``-th hypothesis with a measured background. Injected signal adds Poisson(sigma s)
events to the ellipse of the hypothesis (s: selected signal events per fb inside it; the true
normalisation of each toy drawn within the signal-normalisation systematic, as a frequentist toy
draws the global observable); the fitted cross section is the unbounded maximum-likelihood
estimate (n - b0) / s, the pull the signed square root of the profile-likelihood ratio at the
injected value.
"""

from __future__ import annotations

import json
import logging
import pathlib

import numpy as np
import pandas as pd
from scipy import sparse

from darkscan.progress import progress
from darkscan.seeds import rng_for
from darkscan.stats.calibration import BackgroundEnsemble, Injection, write_calibration
from darkscan.stats.lookelsewhere import counting_significance
from darkscan.stats.methods.ellipse_counting.counting import (
    _nll,
    _signal_norm,
    counting_limits,
    normsys_factor,
    profiled_nll,
)
from darkscan.stats.methods.ellipse_counting.events import Events, background_events, membership
from darkscan.stats.methods.ellipse_counting.significance import global_significance_2d

log = logging.getLogger(__name__)
NAME = "ellipse_counting"


def _toy_counts(member: sparse.csr_matrix, weights: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """(hypotheses, toys) counts of background-only toys (MC resampled, then Poisson)."""
    truth = weights[:, None] * rng.poisson(1.0, (len(weights), size))
    return np.asarray(member @ rng.poisson(truth).astype(float))


def background_ensemble(
    member,
    bkg: Events,
    b0,
    sigma_b,
    s,
    *,
    checked: np.ndarray,
    level: float,
    signal_norm: float,
    toys: int,
    reference,
    rng: np.random.Generator,
    fit: dict | None = None,
    batch: int = 50,
) -> BackgroundEnsemble:
    """Background-only toys: largest local Z per toy, limits and bands at the ``checked`` hypotheses.

    ``reference`` holds the look-elsewhere toys' largest local Z (``toy_z_local_max`` of
    ``significance.json``), or is a number of such toys to draw here.
    """
    z_max, observed, expected = [], [], []
    for start in progress(range(0, toys, batch), desc="calibration toys", unit=f"x{batch} toys"):
        n = _toy_counts(member, bkg.w, min(batch, toys - start), rng)
        z_max.append(counting_significance(n, b0[:, None], (sigma_b**2)[:, None]).max(axis=0))
        sub = n[checked]  # (k, toys)
        limits, _ = counting_limits(
            sub,
            s[checked][:, None],
            b0[checked][:, None],
            sigma_b[checked][:, None],
            level=level,
            signal_norm=signal_norm,
            fit=fit or {},
        )
        observed.append(np.where(limits.converged, limits.observed, np.nan).T)
        expected.append(np.moveaxis(limits.expected, 2, 0))  # (toys, 5, k)
    if np.isscalar(reference):
        reference = global_significance_2d(np.inf, member, bkg, b0, sigma_b, n_toys=int(reference), rng=rng)["maxima"]
    return BackgroundEnsemble(np.concatenate(z_max), reference, np.concatenate(observed), np.concatenate(expected))


def likelihood_pulls(n, s, b0, sigma_b, injected, *, signal_norm: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Unbounded fitted cross section (n - b0) / s and the signed likelihood-ratio pull at ``injected``.

    n ~ Pois(mu s theta(alpha) + b), b0 ~ Gauss(b, sigma_b), alpha ~ Gauss(0, 1) with theta the
    signal normalisation (pyhf normsys of relative size ``signal_norm``): the free fit has b = b0,
    alpha = 0 and mu s = n - b0; -2 ln lambda(mu) is the conditional fit (profiled over b and
    alpha) minus it. Without alpha the pulls of toys whose true normalisation is drawn within its
    systematic are too wide where the signal dominates (1.5 at 3x the expected limit).
    """
    n = np.asarray(n, float)
    fitted = (n - b0) / s
    nll_free = _nll(fitted, n, s, np.full_like(n, b0), b0, sigma_b)
    nll_injected = profiled_nll(injected, n, s, b0, sigma_b, signal_norm)
    return fitted, np.sign(fitted - injected) * np.sqrt(np.maximum(nll_injected - nll_free, 0.0))


def injection_ensemble(
    row: int,
    member,
    bkg: Events,
    b0,
    sigma_b,
    s,
    *,
    injected: float,
    level: float,
    signal_norm: float,
    toys: int,
    rng: np.random.Generator,
    mass: float,
    mass2: float,
    fit: dict | None = None,
    asymptotic: bool = True,
) -> Injection:
    """Toys with ``injected`` fb of signal in the ellipse of hypothesis ``row``."""
    scale = normsys_factor(rng.standard_normal(toys), signal_norm) if signal_norm > 0 else np.ones(toys)
    n = _toy_counts(member[row], bkg.w, toys, rng)[0] + rng.poisson(injected * scale * s[row])
    fitted, pulls = likelihood_pulls(n, s[row], b0[row], sigma_b[row], injected, signal_norm=signal_norm)
    limits, _ = counting_limits(n, s[row], b0[row], sigma_b[row], level=level, signal_norm=signal_norm, fit=fit or {})
    upper = np.where(limits.converged, limits.observed, np.nan)
    return Injection(mass, mass2, injected, fitted, pulls, upper, asymptotic=asymptotic)


def injection_rows(frame: pd.DataFrame, *, count: int, background_min: float) -> list[int]:
    """Hypotheses to inject at: spread over the scan (quantiles of m1), with a measured background
    of at least ``background_min`` events where there are such hypotheses (asymptotic regime)."""
    measured = frame.index[(frame["background"] >= frame["background_err"]) & frame["xsec_exp"].notna()]
    preferred = [i for i in measured if frame.at[i, "background"] >= background_min]
    pool = preferred if len(preferred) >= count else list(measured)
    if not pool:
        raise ValueError("no hypothesis with a measured background to inject a signal at")
    order = sorted(pool, key=lambda i: (frame.at[i, "mass"], frame.at[i, "mass2"]))
    picks = np.unique(np.round(np.linspace(0, len(order) - 1, count)).astype(int))
    return [order[i] for i in picks]


def calibrate(
    *,
    channel: dict,
    seed: int,
    limits_csv,
    histograms_path,
    systematics_path,
    significance_json,
    workspace_dirs=(),
    out_json,
) -> dict:
    """Build both ensembles for a 2D channel and write ``calibration.json``.

    The limits.csv rows hold the interpolated signal of every hypothesis; the 2D scan's statistic
    is closed-form (no workspaces needed).
    """
    del workspace_dirs
    settings = channel["calibration"]
    frame = pd.read_csv(limits_csv)
    frame = frame[frame["z_local"].notna()].reset_index(drop=True)
    fit = channel["fit"]
    centres = frame[["mass", "mass2"]].to_numpy()
    axes = fit["signal_sigmas"] * frame[["resolution", "resolution2"]].to_numpy()
    bkg = background_events(histograms_path, channel)
    member = membership(bkg, centres, axes)
    b0, sigma_b = frame["background"].to_numpy(), frame["background_err"].to_numpy()
    s = channel["luminosity_fb"] * (frame["efficiency"] * frame["containment"]).to_numpy()
    level, signal_norm = 1.0 - channel["cl"], _signal_norm(systematics_path)
    measured = np.flatnonzero(b0 >= sigma_b)
    checked = (
        measured[:: int(settings["limit_every"])]
        if len(measured)
        else np.arange(len(frame))[:: int(settings["limit_every"])]
    )
    rng = rng_for(seed, channel["name"], "calibration")
    background = background_ensemble(
        member,
        bkg,
        b0,
        sigma_b,
        s,
        checked=checked,
        level=level,
        signal_norm=signal_norm,
        toys=int(settings["toys"]),
        reference=np.asarray(json.loads(pathlib.Path(significance_json).read_text())["toy_z_local_max"]),
        rng=rng,
        fit=fit,
    )
    injections = []
    background_min = float(settings["injection_background_min"])
    for row in injection_rows(frame, count=int(settings["injection_points"]), background_min=background_min):
        for strength in settings["strengths"]:
            injected = float(strength) * float(frame.at[row, "xsec_exp"])
            injections.append(
                injection_ensemble(
                    row,
                    member,
                    bkg,
                    b0,
                    sigma_b,
                    s,
                    injected=injected,
                    level=level,
                    signal_norm=signal_norm,
                    toys=int(settings["injection_toys"]),
                    rng=rng,
                    mass=float(frame.at[row, "mass"]),
                    mass2=float(frame.at[row, "mass2"]),
                    fit=fit,
                    asymptotic=bool(frame.at[row, "background"] >= background_min),
                )
            )
    return write_calibration(
        out_json,
        channel=channel,
        background=background,
        injections=injections,
        method=NAME,
        seed=seed,
        rng=rng,
        enforce=bool(settings["enforce"]),
        limit_method=fit.get("limit", "cls_asymptotic"),  # the ensembles use the scan's own statistic
    )
