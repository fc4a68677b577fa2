"""Tests of the per-hypothesis pyhf model (darkscan.stats.methods.window_sidebands.model)."""

import dataclasses

import hist
import numpy as np
import pyhf
import pytest

from darkscan.stats.methods.window_sidebands.model import (
    POI,
    WindowInputs,
    build_spec,
    rebin,
    signal_scale,
    window_edges,
    window_inputs,
)
from darkscan.stats.signal_model import Interpolated
from darkscan.systematics.table import Systematic

FINE = np.linspace(-1.0, 9.0, 5001)  # 2 MeV bins, as in the zprime_invisible channel
SIDEBAND = 1.0e5


def _counting_inputs(n, b, s):
    """Three bins, [sideband | window | sideband]: signal only in the window; sidebands pin b."""
    return WindowInputs(
        edges=np.array([0.0, 1.0, 2.0, 3.0]),
        data=np.array([SIDEBAND, n, SIDEBAND]),
        background=np.array([SIDEBAND, b, SIDEBAND]),
        background_sumw2=np.array([1.0, 1.0, 1.0]),
        signal=np.array([0.0, s, 0.0]),
        signal_up=np.array([0.0, s, 0.0]),
        signal_down=np.array([0.0, s, 0.0]),
    )


# ---------------------------------------------------------------- window_edges and rebin
def _snap(x):
    return FINE[0] + np.round((x - FINE[0]) / 0.002) * 0.002


def test_window_edges_snap_to_fine_edges():
    mass, res = 2.0031, 0.0517
    edges = window_edges(FINE, mass, res, window_sigmas=6.0, signal_sigmas=2.0)
    expected = _snap(mass + res * np.array([-6.0, -2.0, 2.0, 6.0]))
    np.testing.assert_allclose(edges, expected, atol=1e-12)
    assert np.all(np.isin(edges, FINE))  # exactly fine edges, not approximations
    assert len(edges) == 4  # low sideband | window | high sideband
    # the window is the middle bin and is centred on the mass within one fine bin
    assert edges[1] < mass < edges[2]
    assert abs(0.5 * (edges[1] + edges[2]) - mass) <= 0.002
    assert edges[2] - edges[1] == pytest.approx(4 * res, abs=0.004)
    assert edges[3] - edges[2] == pytest.approx(4 * res, abs=0.004)


def test_window_edges_at_histogram_boundary():
    # low sideband would start at -1.3 < -1: it is cut at the histogram edge
    edges = window_edges(FINE, -0.9, 0.05, window_sigmas=6.0, signal_sigmas=1.0)
    np.testing.assert_allclose(edges, [-1.0, -0.95, -0.85, -0.6], atol=1e-12)
    # low sideband entirely outside: dropped, leaving [window | high sideband]
    edges = window_edges(FINE, -0.95, 0.05, window_sigmas=6.0, signal_sigmas=1.0)
    np.testing.assert_allclose(edges, [-1.0, -0.9, -0.65], atol=1e-12)
    with pytest.raises(ValueError, match="mass 20"):
        window_edges(FINE, 20.0, 0.05, window_sigmas=6.0, signal_sigmas=2.0)


def test_rebin_weighted_histogram_matches_manual_sums():
    rng = np.random.default_rng(1)
    h = hist.Hist.new.Reg(100, 0.0, 10.0).Weight()
    x = rng.uniform(-1.0, 11.0, 5000)  # includes under/overflow, which must not be counted
    w = rng.exponential(2.0, 5000)
    h.fill(x, weight=w)
    fine = h.axes[0].edges
    coarse = fine[[3, 10, 11, 57, 100]]
    values, variances = rebin(h, coarse)
    for k in range(4):
        sel = (x >= coarse[k]) & (x < coarse[k + 1])
        assert values[k] == pytest.approx(w[sel].sum(), rel=1e-12)
        assert variances[k] == pytest.approx((w[sel] ** 2).sum(), rel=1e-12)
    # and against the histogram's own bin contents
    assert values[0] == pytest.approx(h.values()[3:10].sum(), rel=1e-12)
    assert variances[2] == pytest.approx(h.variances()[11:57].sum(), rel=1e-12)


def test_rebin_unweighted_histogram_uses_counts_as_variance():
    h = hist.Hist.new.Reg(10, 0.0, 10.0).Double()
    h.fill([0.5, 1.5, 1.5, 2.5, 2.5, 2.5, 9.5], weight=[1.0, 2.0, 2.0, 1.0, 1.0, 1.0, 4.0])  # variances() is None
    values, variances = rebin(h, np.array([0.0, 2.0, 10.0]))
    np.testing.assert_allclose(values, [5.0, 7.0])
    np.testing.assert_allclose(variances, [5.0, 7.0])


def test_window_inputs_collects_histograms_and_signal():
    rng = np.random.default_rng(2)
    bkg = hist.Hist.new.Reg(500, 0.0, 10.0).Weight()
    bkg.fill(rng.uniform(0, 10, 20000), weight=np.full(20000, 0.5))
    data = hist.Hist.new.Reg(500, 0.0, 10.0).Int64()
    data.fill(rng.uniform(0, 10, 10000))
    vals = rng.normal(5.0, 0.1, 4000)
    sig = Interpolated(5.0, 0.3, 0.1, 1.0, vals, np.full(4000, 0.3 / 4000))
    inp = window_inputs(
        5.0,
        sig,
        data=data,
        background=bkg,
        luminosity_fb=10.0,
        window_sigmas=6.0,
        signal_sigmas=2.0,
        resolution_scale=0.1,
    )
    np.testing.assert_allclose(inp.edges, [4.4, 4.8, 5.2, 5.6], atol=1e-12)
    # fine bins 220..280 (0.02 GeV each), 20 per coarse bin
    np.testing.assert_allclose(inp.background, bkg.values()[220:280].reshape(3, 20).sum(axis=1))
    np.testing.assert_allclose(inp.background_sumw2, bkg.variances()[220:280].reshape(3, 20).sum(axis=1))
    np.testing.assert_allclose(inp.data, data.values()[220:280].reshape(3, 20).sum(axis=1))
    in_bins = [
        ((vals >= lo) & (vals < hi)).sum() * 0.3 / 4000 * 10.0
        for lo, hi in zip(inp.edges[:-1], inp.edges[1:], strict=False)
    ]
    np.testing.assert_allclose(inp.signal, in_bins)
    # a wider (narrower) signal puts less (more) into the +-2 sigma window
    assert inp.signal_up[1] < inp.signal[1] < inp.signal_down[1]
    # Gaussian: +-2 sigma window holds ~95.4% of 3 events
    assert inp.signal[1] == pytest.approx(3.0 * 0.9545, rel=0.02)


# ---------------------------------------------------------------- build_spec
def test_build_spec_is_valid_workspace_with_expected_modifiers():
    inputs = WindowInputs(
        edges=np.array([0.0, 1.0, 2.0, 3.0]),
        data=np.array([40.0, 12.0, 35.0]),
        background=np.array([38.0, 0.0, 36.0]),  # empty window bin: floored
        background_sumw2=np.array([4.0, 0.0, 3.0]),
        signal=np.array([0.1, 2.0, 0.2]),
        signal_up=np.array([0.2, 1.8, 0.3]),
        signal_down=np.array([0.05, 2.1, 0.1]),
    )
    systematics = [
        Systematic("lumi", "signal", "normsys", 0.03, ""),
        Systematic("trk", "signal", "normsys", 0.04, ""),
        Systematic("mass_resolution", "signal", "histosys", 0.1, ""),
        Systematic("bkg_mc", "background", "staterror", float("nan"), ""),
        Systematic("bkg_xsec", "background", "normsys", 0.2, ""),
    ]
    spec = build_spec(inputs, systematics, scale_fb=0.5, background_floor=1e-3)
    ws = pyhf.Workspace(spec)  # validates against the pyhf schema
    model = ws.model()
    assert model.config.poi_name == POI
    assert set(model.config.parameters) == {
        "mu",
        "background_norm",
        "signal_normalisation",
        "background_mc_statistics",
        "background_mc_statistics_low",
        "background_mc_statistics_high",
        "bkg_xsec",
    }
    assert ws.data(model, include_auxdata=False) == [40.0, 12.0, 35.0]
    samples = {s["name"]: s for s in spec["channels"][0]["samples"]}
    assert samples["background"]["data"] == [38.0, 1e-3, 36.0]
    mods = {m["name"]: m for m in samples["signal"]["modifiers"]}
    total = np.sqrt(0.03**2 + 0.04**2 + (0.2 / 2.0) ** 2)  # resolution effect: |1.8 - 2| / 2
    assert mods["signal_normalisation"]["data"]["hi"] == pytest.approx(1 + total)
    assert mods["signal_normalisation"]["data"]["lo"] == pytest.approx(1 - total)
    bmods = {m["name"]: m for m in samples["background"]["modifiers"]}
    # window bin empty in MC: moved by the floor only
    assert bmods["background_mc_statistics"]["data"]["hi_data"] == pytest.approx([38.0, 2e-3, 36.0])
    assert bmods["background_mc_statistics"]["data"]["lo_data"] == pytest.approx([38.0, 1e-3, 36.0])
    assert bmods["bkg_xsec"]["data"] == {"hi": 1.2, "lo": 0.8}
    par = {p["name"]: p for p in spec["measurements"][0]["config"]["parameters"]}
    assert par["mu"]["bounds"] == [[0.0, 25.0]] and par["mu"]["inits"] == [0.5]
    # expected counts at mu = 1, nominal nuisances: signal + background
    pars = model.config.suggested_init()
    pars[model.config.poi_index] = 1.0
    np.testing.assert_allclose(model.expected_actualdata(pars), [38.1, 2.001, 36.2])


def test_build_spec_mc_statistics_histosys_moves_window_by_sqrt_sumw2():
    inputs = _counting_inputs(110.0, 100.0, 5.0)
    inputs = WindowInputs(**{**inputs.__dict__, "background_sumw2": np.array([1.0, 16.0, 1.0])})
    spec = build_spec(
        inputs, [Systematic("b", "background", "staterror", float("nan"), "")], scale_fb=1.0, background_floor=1e-3
    )
    mods = {m["name"]: m for m in spec["channels"][0]["samples"][1]["modifiers"]}
    mod = mods["background_mc_statistics"]
    assert mod["data"]["hi_data"] == [SIDEBAND, 104.0, SIDEBAND]
    assert mod["data"]["lo_data"] == [SIDEBAND, 96.0, SIDEBAND]
    # each sideband moved by its own MC error, sqrt(1) = 1 event
    assert mods["background_mc_statistics_low"]["data"]["hi_data"] == [SIDEBAND + 1.0, 100.0, SIDEBAND]
    assert mods["background_mc_statistics_high"]["data"]["lo_data"] == [SIDEBAND, 100.0, SIDEBAND - 1.0]
    # no signal systematics: no signal_normalisation modifier at all
    assert [m["name"] for m in spec["channels"][0]["samples"][0]["modifiers"]] == [POI]


def test_signal_scale_formula():
    inputs = _counting_inputs(100.0, 99.0, 4.0)
    # Poisson (b + 1) + MC statistics (sumw2 = 1) + sideband extrapolation (b^2 / 2 SIDEBAND)
    variance = 99.0 + 1.0 + 1.0 + 99.0**2 / (2 * SIDEBAND)
    assert signal_scale(inputs) == pytest.approx((2 * np.sqrt(variance) + 3) / 4.0)
    with pytest.raises(ValueError, match="no signal"):
        signal_scale(WindowInputs(**{**inputs.__dict__, "signal": np.zeros(3)}))


def test_mc_statistics_bounds_keep_expected_counts_non_negative_in_an_empty_window():
    """A window of a few MC events and no data: without bounds the engine's fits pulled the
    MC-statistics alphas to -2.2 (the linear histosys extrapolation below -1 makes the expected
    counts negative, which empty data bins reward) and gave expected limits of 1e-221 fb (seen in
    the tiny build with the MVA). Bounded at the floor, engine and pyhf agree."""
    from darkscan.stats import engine
    from darkscan.stats.engine.likelihood import _expected_counts, _rows, _to_internal
    from darkscan.stats.engine.minimise import _fit, _initial

    weight = 0.3175  # one MC event's weight: sqrt(sumw2) / content = 1 / sqrt(N_eff)
    counts = np.array([5.0, 5.0, 2.0])
    inputs = WindowInputs(
        edges=np.arange(4.0),
        data=np.zeros(3),
        background=weight * counts,
        background_sumw2=weight**2 * counts,
        signal=np.array([0.003, 0.068, 0.002]),
        signal_up=np.array([0.003, 0.066, 0.002]),
        signal_down=np.array([0.003, 0.070, 0.002]),
    )
    mc_stat = [Systematic("background_mc_statistics", "background", "staterror", float("nan"), "")]
    spec = build_spec(inputs, mc_stat, scale_fb=signal_scale(inputs), background_floor=1e-3)
    bounds = {p["name"]: p["bounds"][0] for p in spec["measurements"][0]["config"]["parameters"]}
    # the bin reaches the floor (1e-3) at the lower bound: -(b - floor) / (b - lo), lo = b - sigma
    assert bounds["background_mc_statistics"][0] == pytest.approx(-(1.5875 - 1e-3) / (weight * np.sqrt(5)), rel=1e-9)
    batch = engine.batch_from_specs([spec])
    rows, scale = _rows(batch)
    _, theta, converged = _fit(rows, _to_internal(_initial(batch, scale.size), scale), poi=np.zeros(1))
    assert converged.all() and (_expected_counts(rows, theta) >= 0).all()
    ours = engine.upper_limits(batch, level=0.1)
    reference = engine.pyhf_reference(spec, 0.1, rtol=1e-4)
    assert ours.observed[0] == pytest.approx(reference.observed, rel=1e-3)
    np.testing.assert_allclose(ours.expected[:, 0], reference.expected, rtol=1e-3)
    # with no data the expected limits equal the observed one (Asimov data = the fit to zero counts)
    assert ours.expected[2, 0] == pytest.approx(ours.observed[0], rel=1e-3)


def _empty_sideband_inputs():
    """The tiny Z' build's window at 4.59 GeV after the MVA: one MC event in the window, none in
    the sidebands."""
    signal = np.array([0.0023, 0.0601, 0.0017])
    return WindowInputs(
        edges=np.arange(4.0),
        data=np.array([0.0, 0.0, 1.0]),
        background=np.array([0.0, 0.3175, 0.0]),
        background_sumw2=np.array([0.0, 0.3175**2, 0.0]),
        signal=signal,
        signal_up=signal,
        signal_down=signal,
    )


def test_empty_sidebands_fix_the_background_to_the_simulation_and_do_not_absorb_a_signal():
    from darkscan.stats import engine

    inputs = _empty_sideband_inputs()
    mc_stat = [Systematic("background_mc_statistics", "background", "staterror", float("nan"), "")]
    injected, toys = 37.0, 400
    rng = np.random.default_rng(3)
    counts = rng.poisson(inputs.background + injected * inputs.signal, (toys, 1, 3)).astype(float)
    fitted = {}
    for name, u in (("free", None), ("fixed", 0.2)):
        spec = build_spec(
            inputs, mc_stat, scale_fb=signal_scale(inputs), background_floor=1e-3, mc_background_uncertainty=u
        )
        norm = next(p for p in spec["measurements"][0]["config"]["parameters"] if p["name"] == "background_norm")
        assert norm.get("fixed", False) == (name == "fixed")
        fit = engine.fit_free(engine.batch_from_specs([spec]).with_data(counts))
        assert fit.converged.all()
        fitted[name] = fit.poi[:, 0].mean()
    # one toy's signal estimate has an error of ~sqrt(2.7) / 0.064 = 26 fb: the mean's is 1.3 fb
    assert fitted["fixed"] == pytest.approx(injected, abs=3 * 26 / np.sqrt(toys))
    assert fitted["free"] < 0.5 * injected  # the free normalisation (0-10x) takes the signal
    # 1 / u^2 = 25 expected sideband events decide: 30 events measure the norm better than 20%
    rich = dataclasses.replace(inputs, background=np.array([15.0, 0.3175, 15.0]))
    spec = build_spec(rich, mc_stat, scale_fb=signal_scale(rich), background_floor=1e-3, mc_background_uncertainty=0.2)
    assert "fixed" not in spec["measurements"][0]["config"]["parameters"][1]
    modifiers = [m["name"] for m in spec["channels"][0]["samples"][1]["modifiers"]]
    assert "background_normalisation" not in modifiers
