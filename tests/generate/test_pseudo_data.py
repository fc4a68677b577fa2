"""Pseudo-data: Poisson counts whatever the chunking, unweighted and weighted generators alike."""

import awkward as ak
import numpy as np
import pytest
import uproot

from darkscan.generate.sample import (
    Unweighting,
    chunk_sizes,
    data_chunk_events,
    data_component,
    pilot_xsec_fb,
    produce_data_chunk,
)


def test_chunk_sizes_cover_all_events():
    assert chunk_sizes(10, 4) == [4, 3, 3]
    assert sum(chunk_sizes(1_000_001, 500_000)) == 1_000_001
    assert chunk_sizes(5, 100) == [5]


def test_unweighted_chunks_add_up_to_a_poisson_count():
    """Sum of K Poisson(sigma L / K) draws: mean and variance sigma L."""
    rng = np.random.default_rng(1)
    totals = np.array(
        [
            sum(
                data_chunk_events(xsec_fb=50.0, luminosity_fb=2.0, n_chunks=4, unweighted=True, oversample=2.0, rng=rng)
                for _ in range(4)
            )
            for _ in range(4000)
        ]
    )
    assert totals.mean() == pytest.approx(100.0, rel=0.01)
    assert totals.var() == pytest.approx(100.0, rel=0.07)


def test_weighted_generators_generate_a_poisson_number_of_trials():
    """N ~ Poisson(oversample x sigma L / K): thinning a Poisson process keeps it Poisson."""
    rng = np.random.default_rng(3)
    n = np.array(
        [
            data_chunk_events(xsec_fb=100.0, luminosity_fb=1.0, n_chunks=4, unweighted=False, oversample=2.0, rng=rng)
            for _ in range(4000)
        ]
    )
    assert n.mean() == pytest.approx(50.0, rel=0.01)
    assert n.var() == pytest.approx(50.0, rel=0.07)


def test_components_are_generated_like_their_samples(channel):
    injected = {**channel, "data": {**channel["data"], "inject_signal": {"mass": 2.0, "coupling": 0.01}}}
    tautau = channel["backgrounds"]["tautau"]
    assert data_component(injected, "tautau") == ("tautau", tautau["process"], tautau.get("options", {}))
    name, process, options = data_component(injected, "signal_m2p000")
    assert (name, process) == ("injected_signal", channel["signal"]["process"])
    assert options["mass"] == 2.0 and options["coupling"] == 0.01
    with pytest.raises(ValueError, match="signal_m3p000.*not a pseudo-data component"):
        data_component(injected, "signal_m3p000")


def test_pilot_cross_section_of_the_injected_signal_scales_with_the_model_power(channel):
    """L_mu - L_tau Z': sigma ~ g'^2; the same stream at g' = 1 and 0.01 differs by exactly 1e-4."""
    injected = {**channel, "data": {**channel["data"], "inject_signal": {"mass": 2.0, "coupling": 0.01}}}
    _, process, options = data_component(injected, "signal_m2p000")
    kwargs = dict(sqrt_s=10.58, seed=5, names=("zprime_invisible", "data", "injected_signal", 0), pilot_events=2000)
    small = pilot_xsec_fb(process, options, **kwargs)
    unit = pilot_xsec_fb(process, {**options, "coupling": 1.0}, **kwargs)
    assert small == pytest.approx(1e-4 * unit, rel=1e-9)
    # the MC sample's cross section at g' = 1, 2 GeV is ~35 pb (darkscan xsec belle2 mumu_zprime --mass 2)
    assert 2.0e4 < unit < 5.0e4


def test_data_chunk_is_normalised_by_its_own_events(channel, experiment, tmp_path):
    """Weighted generator: the chunk's cross section is its events' weight sum, close to the pilot's."""
    small = {**channel, "luminosity_fb": 0.2, "backgrounds": {"mumu_gamma": channel["backgrounds"]["mumu_gamma"]}}
    kwargs = dict(
        channel=small,
        experiment=experiment,
        components=["mumu_gamma"],
        n_chunks=2,
        seed=3,
        unweighting=Unweighting(pilot_events=20_000),
        chunk_events=50_000,
    )
    meta = produce_data_chunk(tmp_path / "a.root", chunk=0, **kwargs)
    (part,) = meta["components"]
    assert part["xsec_fb"] == pytest.approx(part["pilot_xsec_fb"], rel=0.02)
    assert part["events"] == meta["events"] == pytest.approx(part["expected"], abs=5 * part["expected"] ** 0.5)
    # mu mu gamma weights are bounded (max / mean ~ 3.1): the pilot asks for ~2.6x oversampling
    assert 2.2 < part["oversample"] < 3.2 and part["weight_fraction_above_bound"] < 3e-3
    expected_trials = part["oversample"] * part["pilot_xsec_fb"] * 0.1
    assert part["generated_events"] == pytest.approx(expected_trials, abs=5 * expected_trials**0.5)
    again = produce_data_chunk(tmp_path / "b.root", chunk=0, **kwargs)
    other = produce_data_chunk(tmp_path / "c.root", chunk=1, **kwargs)
    assert again["events"] == meta["events"] and other["components"][0]["xsec_fb"] != part["xsec_fb"]
    first, repeat = (uproot.open(tmp_path / name)["events"].arrays() for name in ("a.root", "b.root"))
    assert len(first) == meta["events"] and ak.array_equal(first, repeat)


def test_chunk_holds_every_component_each_on_its_own_stream(channel, experiment, tmp_path):
    """A chunk is a slice of the luminosity with all processes: each component's events are those it
    draws alone (own random streams), so adding a process changes no other process's events."""
    small = {**channel, "luminosity_fb": 0.3}
    kwargs = dict(
        channel=small,
        experiment=experiment,
        chunk=1,
        n_chunks=2,
        seed=8,
        unweighting=Unweighting(pilot_events=5_000),
        chunk_events=50_000,
    )
    both = produce_data_chunk(tmp_path / "both.root", components=["tautau", "mumu_gamma"], **kwargs)
    alone = [produce_data_chunk(tmp_path / f"{c}.root", components=[c], **kwargs) for c in ("tautau", "mumu_gamma")]
    assert [p["component"] for p in both["components"]] == ["tautau", "mumu_gamma"]
    assert both["components"] == [a["components"][0] for a in alone]
    assert both["events"] == sum(a["events"] for a in alone) and min(a["events"] for a in alone) > 10
    assert both["expected"] == pytest.approx(sum(p["expected"] for p in both["components"]))
    together = uproot.open(tmp_path / "both.root")["events"].arrays()
    separate = ak.concatenate(
        [uproot.open(tmp_path / f"{c}.root")["events"].arrays() for c in ("tautau", "mumu_gamma")]
    )
    assert ak.array_equal(together, separate)
