"""Pseudo-data: Poisson counts whatever the chunking, unweighted and weighted generators alike."""

import numpy as np
import pytest

from darkscan.generate.sample import chunk_sizes, data_chunk_events, poisson_copies


def test_chunk_sizes_cover_all_events():
    assert chunk_sizes(10, 4) == [4, 3, 3]
    assert sum(chunk_sizes(1_000_001, 500_000)) == 1_000_001
    assert chunk_sizes(5, 100) == [5]


def test_unweighted_chunks_add_up_to_a_poisson_count():
    """Sum of K Poisson(sigma L / K) draws: mean and variance sigma L."""
    rng = np.random.default_rng(1)
    totals = np.array([sum(data_chunk_events(xsec_fb=50.0, luminosity_fb=2.0, n_chunks=4, unweighted=True, oversample=2.0, rng=rng) for _ in range(4)) for _ in range(4000)])
    assert totals.mean() == pytest.approx(100.0, rel=0.01)
    assert totals.var() == pytest.approx(100.0, rel=0.07)


def test_poisson_thinning_of_weighted_events_is_unbiased():
    """k_i ~ Poisson(w_i L / K): expected total sigma L / K for weights summing to sigma."""
    rng = np.random.default_rng(2)
    weights = rng.exponential(size=200_000)
    weights *= 1000.0 / weights.sum()  # sigma = 1000 fb
    copies = poisson_copies(weights, luminosity_fb=0.5, n_chunks=2, rng=rng)
    assert copies.sum() == pytest.approx(250.0, abs=5 * 250**0.5)
    # a region's count follows its share of the weights
    region = weights > np.median(weights)
    assert copies[region].sum() == pytest.approx(weights[region].sum() * 0.25, abs=5 * (weights[region].sum() * 0.25) ** 0.5)


def test_weighted_generators_oversample():
    rng = np.random.default_rng(3)
    assert data_chunk_events(xsec_fb=100.0, luminosity_fb=1.0, n_chunks=4, unweighted=False, oversample=2.0, rng=rng) == 50


def test_injected_signal_component_scales_with_the_model_power(channel):
    from darkscan.generate.sample import data_component

    injected = {**channel, "data": {**channel["data"], "inject_signal": {"mass": 2.0, "coupling": 0.01}}}
    assert data_component(injected, "tautau", 27.8e3) == ("tautau", 27.8e3)
    # L_mu - L_tau Z': sigma ~ g'^2, MC generated at g' = 1
    name, xsec = data_component(injected, "signal_m2p000", 34670.0)
    assert name == "injected_signal" and xsec == pytest.approx(3.467)
