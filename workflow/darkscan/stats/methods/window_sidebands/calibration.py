"""Calibration of the 1D window + sidebands scan (fit method ``window_sidebands``).

Pseudo-experiments are the look-elsewhere toys of :mod:`darkscan.stats.methods.window_sidebands.toys`
(a true background per fine bin drawn within the MC uncertainty, Poisson counts, summed into the
bins of every hypothesis' workspace) put through the scan engine with each hypothesis' own pyhf model:
q0 at every hypothesis (largest local Z per toy), and CLs limits with their expected bands at
every ``limit_every``-th hypothesis. Injected signal adds Poisson(sigma x signal per fb) events
in the bins of one hypothesis (its workspace's signal template, its normalisation drawn within
the signal-normalisation systematic); the fitted cross section is the
free fit's (bounded at zero, as in the scan) and the pull the signed square root of the profile
likelihood ratio at the injected value.
"""

from __future__ import annotations

import json
import logging
import pathlib

import numpy as np
import pandas as pd

from darkscan.progress import progress
from darkscan.seeds import rng_for
from darkscan.stats import engine
from darkscan.stats.calibration import BackgroundEnsemble, Injection, write_calibration
from darkscan.stats.methods.window_sidebands.significance import scan_toy_model
from darkscan.stats.methods.window_sidebands.toy_limits import toy_limits
from darkscan.stats.methods.window_sidebands.toys import background_toys, rebin, toy_significances

log = logging.getLogger(__name__)
NAME = "window_sidebands"


def subset(specs: list[dict], rows) -> engine.WindowBatch:
    return engine.batch_from_specs([specs[i] for i in rows])


def background_ensemble(
    specs, batch, index, model, variance, *, checked, level: float, toys: int, reference, rng, batch_size: int = 50
) -> BackgroundEnsemble:
    """Largest local Z of every toy over the scan; limits and bands of the toys at ``checked``."""
    checked_batch = subset(specs, checked)
    z_max, observed, expected = [], [], []
    for start in progress(range(0, toys, batch_size), desc="calibration toys", unit=f"x{batch_size} toys"):
        counts = background_toys(model, variance, min(batch_size, toys - start), rng)
        z_max.append(toy_significances(batch, counts, index).max(axis=1))
        limits = engine.upper_limits(checked_batch.with_data(rebin(counts, index[checked])), level=level)
        observed.append(np.where(limits.converged, limits.observed, np.nan))
        expected.append(np.moveaxis(limits.expected, 0, 1))  # (toys, 5, k)
    return BackgroundEnsemble(
        np.concatenate(z_max), np.asarray(reference, float), np.concatenate(observed), np.concatenate(expected)
    )


def true_signal_scale(sample: dict, alpha: np.ndarray) -> np.ndarray:
    """The true signal normalisation of each toy: the ``signal_normalisation`` normsys at a drawn
    alpha ~ N(0, 1) (hi^alpha above zero, lo^-alpha below), 1 where the signal has none.

    Fluctuating the truth within the systematic, as the pseudo-experiments of a frequentist
    calibration fluctuate its global observable, makes the pulls of unit width where the
    systematic matters (a strong injected signal).
    """
    normsys = next((m["data"] for m in sample["modifiers"] if m["type"] == "normsys"), None)
    if normsys is None:
        return np.ones_like(alpha)
    return np.where(alpha >= 0, normsys["hi"] ** alpha, normsys["lo"] ** (-alpha))


def injection_ensemble(
    spec: dict,
    index_row: np.ndarray,
    model,
    variance,
    *,
    injected: float,
    level: float,
    toys: int,
    rng,
    mass: float,
    asymptotic: bool = True,
    scan_limit: str | None = None,
    toy_limits_of: dict | None = None,
) -> Injection:
    """Toys with ``injected`` fb of signal in the bins of one hypothesis. Their upper limits are
    asymptotic (``scan_limit`` names the scan's method where that is another one), or toy CLs as
    in the scan with ``toy_limits_of`` = {"fit": the channel's fit section, "toys": toys per
    tested value}."""
    one = engine.batch_from_specs([spec])
    sample = next(s for s in spec["channels"][0]["samples"] if s["name"] == "signal")
    signal = np.zeros(one.data.shape[-1])
    signal[: len(sample["data"])] = sample["data"]
    background = rebin(background_toys(model, variance, toys, rng), index_row[None, :])  # (toys, 1, B)
    scale = true_signal_scale(sample, rng.standard_normal(toys))
    counts = background + rng.poisson(injected * scale[:, None, None] * signal, background.shape)
    counts = np.where(one.bin_mask, counts, 0.0)
    toy_batch = one.with_data(counts)
    free = engine.fit_free(toy_batch)
    fixed = engine.fit_fixed_poi(toy_batch, injected)
    fitted = free.poi[:, 0]
    pulls = np.sign(fitted - injected) * np.sqrt(np.maximum(fixed.twice_nll[:, 0] - free.twice_nll[:, 0], 0.0))
    ok = free.converged[:, 0] & fixed.converged[:, 0]
    limits = engine.upper_limits(toy_batch, level=level)
    upper = np.where(limits.converged[:, 0], limits.observed[:, 0], np.nan)
    if toy_limits_of is not None:
        upper = _toy_upper_limits(spec, counts[:, 0, :], limits, level=level, rng=rng, **toy_limits_of)
    fitted, pulls = np.where(ok, fitted, np.nan), np.where(ok, pulls, np.nan)
    method = "cls_toys" if toy_limits_of is not None else None
    return Injection(
        mass, None, injected, fitted, pulls, upper, asymptotic=asymptotic, scan_limit=scan_limit, limit_method=method
    )


def _toy_upper_limits(spec: dict, counts: np.ndarray, asymptotic, *, level: float, rng, fit: dict, toys: int):
    """Toy CLs upper limits (as the scan's, :func:`toy_limits`) of pseudo-experiments
    ``counts`` (N, B) of one workspace, around their asymptotic limits; NaN where not bracketed."""
    usable = asymptotic.converged[:, 0]
    bands = np.column_stack([asymptotic.observed[:, 0], asymptotic.expected[:, :, 0].T])  # (N, 6)
    rows = np.flatnonzero(usable & np.all(np.isfinite(bands) & (bands > 0), axis=1))
    upper = np.full(len(counts), np.nan)
    if len(rows):
        found = toy_limits(
            [spec] * len(rows), bands[rows], fit=fit, level=level, rng=rng, data=counts[rows], n_toys=toys
        )
        upper[rows] = np.where(found.converged, found.observed, np.nan)
    return upper


def toy_injection_rows(limits: pd.DataFrame, *, count: int) -> list[int]:
    """``count`` hypotheses whose scan limits are toy CLs, spread over them (none at the ends)."""
    ok = limits["status"].eq("ok") & limits["xsec_exp"].notna()
    pool = list(limits.index[ok & limits["limit_method"].astype(str).eq("cls_toys")])
    if not pool or count < 1:
        return []
    picks = np.unique(np.round(np.linspace(0, len(pool) - 1, count + 2)[1:-1]).astype(int))
    return [pool[i] for i in picks]


def _other_limit_method(limits: pd.DataFrame, row: int) -> str | None:
    """The scan's limit method at ``row`` when it is not asymptotic CLs (toy CLs), else None."""
    method = str(limits.at[row, "limit_method"])  # every scan row names its method
    return None if method.startswith("cls_asymptotic") else method


def asymptotic_rows(limits: pd.DataFrame, *, background_min: float) -> pd.Series:
    """Hypotheses with at least ``background_min`` background events per bin and enough MC."""
    per_bin = limits["background"] / limits["n_bins"]
    return (per_bin >= background_min) & ~limits["low_mc_statistics"].astype(bool)


def injection_rows(limits: pd.DataFrame, *, count: int, background_min: float) -> list[int]:
    """Hypotheses spread over the scan, preferring windows with at least ``background_min``
    background events per bin and enough MC (the asymptotic regime of the limits)."""
    ok = limits["xsec_exp"].notna() & (limits["status"] == "ok")
    preferred = limits.index[ok & asymptotic_rows(limits, background_min=background_min)]
    pool = list(preferred) if len(preferred) >= count else list(limits.index[ok])
    if not pool:
        raise ValueError("no hypothesis with a converged limit to inject a signal at")
    picks = np.unique(np.round(np.linspace(0, len(pool) - 1, count)).astype(int))
    return [pool[i] for i in picks]


def calibrate(
    *,
    channel: dict,
    seed: int,
    limits_csv,
    histograms_path,
    systematics_path,
    significance_json,
    workspace_dirs,
    out_json,
) -> dict:
    """Build both ensembles for a 1D channel and write ``calibration.json``."""
    del systematics_path  # the workspaces carry the systematics
    settings = channel["calibration"]
    limits = pd.read_csv(limits_csv)
    limits = limits[limits["z_local"].notna()].reset_index(drop=True)
    batch, index, model, variance, specs = scan_toy_model(limits, histograms_path, workspace_dirs, channel=channel)
    level = 1.0 - channel["cl"]
    rng = rng_for(seed, channel["name"], "calibration")
    checked = np.arange(len(limits))[:: int(settings["limit_every"])]
    reference = json.loads(pathlib.Path(significance_json).read_text())["toy_z_local_max"]
    background = background_ensemble(
        specs,
        batch,
        index,
        model,
        variance,
        checked=checked,
        level=level,
        toys=int(settings["toys"]),
        reference=reference,
        rng=rng,
    )
    background_min = float(settings["injection_background_min"])
    asymptotic = asymptotic_rows(limits, background_min=background_min)

    def inject(rows: list[int], *, toys: int, options) -> list[Injection]:
        """Both strengths at each of ``rows``; ``options(row)``: the limit method's arguments."""
        return [
            injection_ensemble(
                specs[row],
                index[row],
                model,
                variance,
                injected=float(strength) * float(limits.at[row, "xsec_exp"]),
                level=level,
                toys=toys,
                rng=rng,
                mass=float(limits.at[row, "mass"]),
                asymptotic=bool(asymptotic.at[row]),
                **options(row),
            )
            for row in rows
            for strength in settings["strengths"]
        ]

    toy_settings = {"fit": channel["fit"], "toys": int(settings["toy_limit_toys"])}
    injections = inject(
        injection_rows(limits, count=int(settings["injection_points"]), background_min=background_min),
        toys=int(settings["injection_toys"]),
        options=lambda row: {"scan_limit": _other_limit_method(limits, row)},
    ) + inject(
        toy_injection_rows(limits, count=int(settings["toy_injection_points"])),
        toys=int(settings["toy_injection_toys"]),
        options=lambda row: {"toy_limits_of": toy_settings},
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
        # the background ensemble and the asymptotic-regime injections use the engine's asymptotic
        # limits (toy CLs for every pseudo-experiment at every hypothesis would cost hours); the
        # toy_injection_points use toy CLs as the scan does there (limit_method of each row)
        limit_method="cls_asymptotic"
        if channel["fit"].get("limit", "cls_asymptotic") == "cls_asymptotic"
        else "cls_asymptotic; injections marked limit_method cls_toys: toy CLs as in the scan",
    )
