"""Background MC carries mc_luminosity_factor x the data luminosity (equivalent luminosity)."""

from __future__ import annotations

import pytest

from darkscan import rootio
from darkscan.generate.sample import equivalent_luminosity_fb, produce_sample, sized_events


def _background_only(channel, name, *, events, luminosity_fb, factor):
    entry = {**channel["backgrounds"][name], "events": events}
    return {**channel, "luminosity_fb": luminosity_fb, "mc_luminosity_factor": factor, "backgrounds": {name: entry}}


@pytest.mark.parametrize("name", ["mumu_gamma", "tautau"])
def test_background_samples_carry_the_factor_times_the_luminosity(name, channel, experiment, tmp_path):
    """Weighted (mu mu gamma, effective fraction ~0.68) and unweighted (tau tau) generators alike."""
    small = _background_only(channel, name, events=1000, luminosity_fb=0.05, factor=3.0)
    meta = produce_sample(
        tmp_path / f"{name}.root",
        channel=small,
        experiment=experiment,
        sample=name,
        seed=4,
        chunk_events=50_000,
        progress=False,
    )
    assert meta["configured_events"] == 1000 and meta["generated_events"] > 2000
    assert meta["equivalent_luminosity_fb"] == pytest.approx(meta["luminosity_ratio"] * 0.05)
    # sized for 1.05 (unweighted) or 1.15 (weighted) x 3 x 0.05 fb^-1 from the pilot, times
    # every / (every - 1) for the MVA's training split; the sample's own weights confirm it
    every = small["mva"]["training_every"] if "mva" in small else None
    split = every / (every - 1) if every else 1.0
    assert 3.0 * split <= meta["luminosity_ratio"] < 3.7 * split
    with rootio.open_checked(tmp_path / f"{name}.root") as f:
        w = f[rootio.TREE]["weight"].array(library="np")
    assert equivalent_luminosity_fb(float(w.sum()), float((w**2).sum())) == pytest.approx(
        meta["equivalent_luminosity_fb"], rel=1e-9
    )


def test_configured_events_are_a_lower_bound_and_factor_zero_keeps_them(channel):
    kwargs = dict(luminosity_fb=0.01, sqrt_s=10.58, seed=1, names=("zprime_invisible", "tautau"), pilot_events=1000)
    assert sized_events("tautau_qed", {}, events=50_000, factor=3.0, **kwargs)[0] == 50_000
    assert sized_events("tautau_qed", {}, events=10, factor=0.0, **kwargs)[0] == 10
    n, luminosity = sized_events("tautau_qed", {}, events=10, factor=3.0, **kwargs)
    # unweighted: N = 1.05 x 3 x 0.01 fb^-1 x 27.79 pb (0.919 nb x BF(tau -> mu nu nu)^2)
    assert n == pytest.approx(1.05 * 3.0 * 0.01 * 27_792, rel=1e-3) and luminosity == pytest.approx(0.0315, rel=1e-3)
