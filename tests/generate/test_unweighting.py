"""Pseudo-data are Poisson in every region: weighted generators unweighted, no truth event used twice.

For every background of every default channel, many independent pseudo-datasets are drawn
exactly as the workflow draws a data chunk (:class:`darkscan.generate.sample.ComponentDraw`,
one chunk index per dataset, one shared pilot run); the count in regions of a truth-level
variable (the momentum of the recoil against the muon pair; for three photons the softest photon's energy,
the soft-photon corner E* < 0.7 GeV included) must have variance / mean = 1. The previous
scheme (Poisson(w L / K) copies of each weighted event) gives 1 + E[p^2] / E[p]: about 1.5 for
mu mu gamma and ~100 for gamma gamma gamma.
"""

from __future__ import annotations

import numpy as np
import pytest

from darkscan import config as cfg
from darkscan.events import PDG_MUON, PDG_PHOTON
from darkscan.generate.sample import ComponentDraw, Unweighting, accept_unweighted, pilot_run, unweighting_oversample

SQRT_S = 10.58
#: (channel, background, datasets, expected events per dataset, regions). Few datasets with many
#: regions: a generator call costs ~0.2 s whatever its size; the dispersion averaged over R regions
#: of T datasets has a standard error sqrt(2 / ((T - 1) R)) ~ 0.033 (T = 40, R = 48).
CASES = [
    ("zprime_invisible", "mumu_gamma", 40, 1200, 48),
    ("zprime_invisible", "tautau", 40, 1200, 48),
    ("zprime_invisible", "eemumu", 40, 1200, 48),
    ("dark_higgsstrahlung", "mumu_gamma", 40, 1200, 48),
    ("dark_higgsstrahlung", "eemumu", 40, 1200, 48),
    ("alp_gammagamma", "gammagammagamma", 40, 600, 20),
]


def truth_variable(pdg: np.ndarray, p4: np.ndarray) -> np.ndarray:
    """The CM momentum of the muon pair (= of its recoil, GeV), or the softest photon's energy (GeV).

    (The recoil mass itself is a spike at zero for mu mu gamma: regions of equal weight would cut
    through it.)
    """
    muons = np.abs(pdg) == PDG_MUON
    if muons.any():
        pair = (p4 * muons[..., None]).sum(axis=1)
        return np.sqrt((pair[:, 1:] ** 2).sum(axis=1))
    energy = np.where(pdg == PDG_PHOTON, p4[..., 0], np.inf)
    return energy.min(axis=1)


def region_edges(process: str, options: dict, n_regions: int) -> np.ndarray:
    """Edges of ``n_regions`` regions of equal expected weight (weighted reference sample)."""
    from darkscan.generate.registry import get_process

    events = get_process(process).generate(200_000, np.random.default_rng(99), sqrt_s=SQRT_S, **options)
    x = truth_variable(events.pdg, events.p4)
    order = np.argsort(x)
    cumulative = np.cumsum(events.weight[order]) / events.weight.sum()
    inner = [x[order][np.searchsorted(cumulative, q)] for q in np.arange(1, n_regions) / n_regions]
    return np.array([-np.inf, *inner, np.inf])


def region_counts(case, global_config) -> tuple[np.ndarray, np.ndarray, ComponentDraw]:
    """Counts (datasets, regions) of independent pseudo-datasets of one background, and the edges."""
    channel_name, background, datasets, per_dataset, n_regions = case
    channel = cfg.channel_config(global_config, channel_name)
    entry = channel["backgrounds"][background]
    process, options = entry["process"], entry.get("options", {})
    unweighting = Unweighting.from_config(channel["data"])
    names = (channel_name, "data", background)
    pilot = pilot_run(
        process,
        options,
        sqrt_s=SQRT_S,
        seed=7,
        names=(*names, 0),
        pilot_events=unweighting.pilot_events,
        tolerance=unweighting.tolerance,
        min_oversample=unweighting.min_oversample,
        max_oversample=unweighting.max_oversample,
    )
    luminosity = datasets * per_dataset / pilot.xsec_fb  # each dataset (chunk) expects per_dataset events
    edges = region_edges(process, options, n_regions)
    counts = np.zeros((datasets, n_regions))
    draw = None
    for i in range(datasets):
        draw = ComponentDraw(
            process,
            options,
            luminosity_fb=luminosity,
            n_chunks=datasets,
            seed=7,
            names=(*names, i),
            sqrt_s=SQRT_S,
            unweighting=unweighting,
            pilot=pilot,
        )
        for _, events in draw.batches(1_000_000):
            counts[i] += np.histogram(truth_variable(events.pdg, events.p4), edges)[0]
    return counts, edges, draw


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_pseudo_data_counts_are_poisson_in_every_region(case, global_config):
    counts, edges, draw = region_counts(case, global_config)
    mean, variance = counts.mean(axis=0), counts.var(axis=0, ddof=1)
    assert np.all(mean >= 20), f"regions need >= 20 expected events, got {mean}"
    dispersion = variance / mean
    datasets = len(counts)
    # one region's dispersion index has a standard error sqrt(2 / (datasets - 1)) ~ 0.23: each region
    # within 4 of them, their mean within 0.1 (~4 standard errors)
    assert np.all(np.abs(dispersion - 1.0) < 4.0 * np.sqrt(2.0 / (datasets - 1))), (
        f"variance / mean per region {dispersion} (edges {edges})"
    )
    assert dispersion.mean() == pytest.approx(1.0, abs=0.1), f"variance / mean per region {dispersion}"
    # the counts' means follow the model (the pilot cross section): equal expected weight per region
    assert counts.sum(axis=1).mean() == pytest.approx(case[3], rel=4.0 / np.sqrt(case[3] * datasets))
    assert draw.record()["weight_fraction_above_bound"] < 5e-3


def test_the_soft_photon_corner_is_a_region_of_its_own(global_config):
    """The first gamma gamma gamma region holds the softest photons, E* just above the 0.5 GeV cut."""
    channel = cfg.channel_config(global_config, "alp_gammagamma")
    entry = channel["backgrounds"]["gammagammagamma"]
    edges = region_edges(entry["process"], entry["options"], CASES[-1][-1])
    assert entry["options"]["photon_energy_min"] < edges[1] < 0.7


def test_unweighting_bound_leaves_the_tolerated_weight_above_it():
    rng = np.random.default_rng(4)
    weights = rng.pareto(2.5, 400_000) + 1.0  # heavy tail: unbounded maximum
    oversample, above = unweighting_oversample(weights, tolerance=1e-3)
    r = weights / weights.mean()
    assert above == pytest.approx(1e-3, rel=1e-3)
    assert np.clip(r - oversample, 0, None).sum() / r.sum() == pytest.approx(1e-3, rel=1e-3)
    # bounded weights: the bound is their maximum once the tolerance is below the tail
    flat = rng.uniform(0.5, 1.5, 100_000)
    bound, above = unweighting_oversample(flat, tolerance=1e-12)
    assert bound == pytest.approx(flat.max() / flat.mean(), rel=1e-6) and above < 1e-9


def test_accept_reject_keeps_the_cross_section_and_the_shape():
    """Unweighted events reproduce the weighted spectrum (chi2) and its normalisation."""
    rng = np.random.default_rng(5)
    x = rng.uniform(0.0, 1.0, 2_000_000)
    weights = 3.0 * x**2 / len(x) * 1000.0  # sigma = 1000 fb, density 3 x^2 sampled flat
    luminosity = 0.3  # 300 expected events
    keep, lost = accept_unweighted(
        weights * len(x), luminosity_fb=luminosity, n_chunks=1, mean_generated=len(x), rng=rng
    )
    assert lost == 0.0
    n = keep.sum()
    assert n == pytest.approx(weights.sum() * luminosity, abs=5 * np.sqrt(weights.sum() * luminosity))
    edges = np.linspace(0, 1, 11)
    observed = np.histogram(x[keep], edges)[0]
    expected = np.histogram(x, edges, weights=weights * luminosity)[0]
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    assert chi2 < 30.0, f"chi2 {chi2:.1f} / 10 bins"
