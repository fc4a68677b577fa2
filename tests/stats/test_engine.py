"""The vectorised likelihood engine (darkscan.stats.engine) against pyhf on realistic scan models.

The specs come from the workflow's own model builder (``window_inputs`` + ``build_spec``) on a
falling background spectrum: windows from ~1e4 down to ~0.5 background events, 3 bins in the
bulk and 2 at the histogram edges, and every combination of modifiers the systematics table can
produce; plus hand-made one- and two-bin windows. The data are Poisson fluctuations (excesses
and deficits) with two injected signals.
"""

from __future__ import annotations

import copy
import warnings

import hist
import numpy as np
import pyhf
import pytest
from scipy import stats

from darkscan.stats import engine
from darkscan.stats.model import WindowInputs, build_spec, signal_scale, window_inputs
from darkscan.stats.signal_model import Interpolated
from darkscan.systematics.table import Systematic

LEVEL = 0.10  # 90% CL, as the zprime_invisible and dark_higgsstrahlung channels
FINE = np.linspace(0.0, 10.0, 1001)  # 10 MeV bins
LUMINOSITY_FB = 50.0
SIGNAL = [Systematic("luminosity", "signal", "normsys", 0.02, ""), Systematic("muon_id", "signal", "normsys", 0.04, "")]
RESOLUTION = [Systematic("mass_resolution", "signal", "histosys", 0.10, "")]
MC_STAT = [Systematic("background_mc_statistics", "background", "staterror", float("nan"), "")]
BKG_NORM = [
    Systematic("background_xsec", "background", "normsys", 0.05, ""),
    Systematic("trigger", "background", "normsys", 0.10, ""),
]
SYSTEMATICS = {
    "full": SIGNAL + RESOLUTION + MC_STAT + BKG_NORM[:1],
    "none": [],
    "signal": SIGNAL + RESOLUTION,
    "mc_stat": MC_STAT,
    "background": BKG_NORM,
}
# (mass GeV, systematics set, injected signal events in the window); low masses: ~1e4 events
CASES = [
    (0.03, "full", 0.0),  # low sideband outside the histogram: 2 bins
    (0.45, "full", 0.0),
    (0.90, "none", 0.0),
    (1.60, "mc_stat", 300.0),  # excess
    (2.50, "signal", 0.0),
    (3.40, "background", 0.0),
    (4.30, "full", 40.0),
    (5.50, "mc_stat", 0.0),
    (6.60, "signal", 0.0),
    (7.70, "full", 6.0),
    (8.80, "none", 0.0),
    (9.70, "full", 0.0),  # ~0.5 background events, high sideband cut at the edge
    (9.93, "signal", 0.0),  # high sideband outside: 2 bins
]


def _resolution(mass: float) -> float:
    return 0.02 + 0.008 * mass


def _hist(values: np.ndarray, variances: np.ndarray) -> hist.Hist:
    h = hist.Hist(hist.axis.Variable(FINE), storage=hist.storage.Weight())
    h.view().value = values
    h.view().variance = variances
    return h


def _signal(mass: float, rng: np.random.Generator) -> Interpolated:
    values = mass + _resolution(mass) * rng.standard_normal(4000)
    return Interpolated(mass, 0.3, _resolution(mass), 1.0, values, np.full(values.size, 0.3 / values.size))


def scan_specs(cases=CASES, *, seed: int = 7) -> list[dict]:
    """Specs of a scan on a falling spectrum (MC weight 0.3: sumw2 = 0.3 x content)."""
    rng = np.random.default_rng(seed)
    centres = 0.5 * (FINE[1:] + FINE[:-1])
    background = 2500.0 * np.exp(-1.25 * centres)
    truth = background.copy()
    for mass, _, injected in cases:
        if injected:
            window = np.abs(centres - mass) < 2 * _resolution(mass)
            truth[window] += injected / window.sum()
    data = _hist(rng.poisson(truth).astype(float), np.zeros_like(truth))
    mc = _hist(background, 0.3 * background)
    specs = []
    for mass, systematics, _ in cases:
        syst = SYSTEMATICS[systematics]
        inputs = window_inputs(
            mass,
            _signal(mass, rng),
            data=data,
            background=mc,
            luminosity_fb=LUMINOSITY_FB,
            window_sigmas=6.0,
            signal_sigmas=2.0,
            resolution_scale=0.10,
        )
        specs.append(build_spec(inputs, syst, scale_fb=signal_scale(inputs), background_floor=1e-3))
    return specs


def direct_specs() -> list[dict]:
    """Hand-made windows: one bin with a deficit and with an excess, two bins with few events."""
    cases = [
        (np.array([0.0]), np.array([0.5]), np.array([1.5]), SIGNAL),
        (np.array([9.0]), np.array([3.2]), np.array([2.0]), SIGNAL + BKG_NORM[:1]),
        (np.array([40.0, 3.0]), np.array([38.0, 1.2]), np.array([0.4, 6.0]), SIGNAL + RESOLUTION + MC_STAT),
    ]
    specs = []
    for data, background, signal, syst in cases:
        inputs = WindowInputs(
            edges=np.arange(data.size + 1.0),
            data=data,
            background=background,
            background_sumw2=0.3 * background,
            signal=signal,
            signal_up=signal * 0.97,
            signal_down=signal * 1.02,
        )
        specs.append(build_spec(inputs, syst, scale_fb=signal_scale(inputs), background_floor=1e-3))
    return specs


@pytest.fixture(scope="module")
def specs() -> list[dict]:
    return scan_specs() + direct_specs()


@pytest.fixture(scope="module")
def batch(specs) -> engine.WindowBatch:
    return engine.batch_from_specs(specs)


@pytest.fixture(scope="module")
def limits(batch) -> engine.BatchLimits:
    return engine.upper_limits(batch, level=LEVEL)


def _pyhf(spec: dict, **model_kwargs):
    workspace = pyhf.Workspace(spec)
    model = workspace.model(**model_kwargs)
    return model, workspace.data(model)


def _order(model, batch) -> list[int]:
    """Indices into the engine's parameters in pyhf's parameter order."""
    return [batch.parameters.index(name) for name in model.config.par_order]


def test_specs_cover_the_scan(specs, batch):
    windows = [np.asarray(s["channels"][0]["samples"][1]["data"]) for s in specs]
    centre = [w[int(np.argmax(s["channels"][0]["samples"][0]["data"]))] for w, s in zip(windows, specs, strict=False)]
    assert max(centre) > 5e3 and min(centre) < 1.0
    assert {w.size for w in windows} == {1, 2, 3}
    assert set(batch.parameters) == {
        "mu",
        "background_norm",
        "signal_normalisation",
        "background_mc_statistics",
        "background_mc_statistics_low",
        "background_mc_statistics_high",
        "background_xsec",
        "trigger",
    }


def test_expected_counts_equal_pyhf(specs, batch):
    """Same expected counts at random parameter points, inside and outside |alpha| < 1."""
    rng = np.random.default_rng(3)
    n_p = len(batch.parameters)
    for h in (0, 1, 3, 6, len(specs) - 3, len(specs) - 2, len(specs) - 1):
        model, _ = _pyhf(specs[h])
        pars = batch.init.copy()
        pars[h, 0] *= rng.uniform(0.2, 3.0)
        pars[h, 1:] = np.where(
            batch.constrained[h, 1:], rng.uniform(-2.5, 2.5, n_p - 1), rng.uniform(0.5, 1.5, n_p - 1)
        )
        ours = engine.expected_data(batch, pars)[h, : model.config.nmaindata]
        theirs = model.expected_actualdata(pars[h, _order(model, batch)])
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_free_fit_matches_pyhf(specs, batch):
    fit = engine.fit_free(batch)
    assert fit.converged.all()
    for h, spec in enumerate(specs):
        model, data = _pyhf(spec)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pars, twice_nll = pyhf.infer.mle.fit(data, model, return_fitted_val=True)
        if model.config.nmaindata > 1:  # one bin: mu and background_norm are degenerate, mu_hat is arbitrary
            assert fit.poi[h] == pytest.approx(pars[model.config.poi_index], abs=2e-3 * batch.init[h, 0]), h
        # the engine's minimum is pyhf's, never above it
        # pyhf's minimiser stops early with more nuisances (up to 5e-4 above the engine's minimum)
        assert fit.twice_nll[h] == pytest.approx(float(twice_nll), abs=1e-3)
        assert fit.twice_nll[h] <= float(twice_nll) + 1e-7


def test_conditional_fit_matches_pyhf(specs, batch):
    mu = 1.7 * batch.init[:, 0]
    fit = engine.fit_fixed_poi(batch, mu)
    assert fit.converged.all()
    np.testing.assert_array_equal(fit.poi, mu)
    for h, spec in enumerate(specs):
        model, data = _pyhf(spec)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, twice_nll = pyhf.infer.mle.fixed_poi_fit(mu[h], data, model, return_fitted_val=True)
        assert fit.twice_nll[h] == pytest.approx(float(twice_nll), abs=2e-5)


def test_discovery_p0_matches_pyhf(specs, batch):
    p0, z = engine.discovery_p0(batch)
    assert np.all((p0 > 0) & (p0 <= 0.5))
    assert z.max() > 2.5 and np.sum(z == 0) >= 2  # the test sees large excesses and deficits
    for h, spec in enumerate(specs):
        model, data = _pyhf(spec)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p0_pyhf = min(float(pyhf.infer.hypotest(0.0, data, model, test_stat="q0")), 0.5)
        z_pyhf = stats.norm.isf(p0_pyhf)
        assert z[h] == pytest.approx(float(z_pyhf), abs=0.01)
        assert p0[h] == pytest.approx(p0_pyhf, rel=0.02, abs=1e-4)


def test_limits_match_pyhf_root_finding(specs, limits):
    """pyhf's TOMS 748 roots (bracketed tightly around the engine's limits to save fits)."""
    assert limits.converged.all()
    assert np.all(np.diff(limits.expected, axis=0) > 0)
    worst = 0.0
    for h in (9, 12):
        model, data = _pyhf(specs[h])
        bounds = model.config.suggested_bounds()
        bounds[model.config.poi_index] = (0.0, 1000.0 * model.config.suggested_init()[model.config.poi_index])
        ours = np.array([limits.observed[h], *limits.expected[:, h]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obs, exp = pyhf.infer.intervals.upper_limits.toms748_scan(
                data,
                model,
                0.97 * ours.min(),
                1.03 * ours.max(),
                level=LEVEL,
                rtol=1e-4,
                test_stat="qtilde",
                par_bounds=bounds,
            )
        theirs = np.array([float(obs), *map(float, exp)])
        worst = max(worst, float(np.max(np.abs(ours / theirs - 1))))
        np.testing.assert_allclose(ours, theirs, rtol=2e-3)
    assert worst < 2e-3


def test_pyhf_cls_at_the_engine_limits(specs, limits):
    """At every engine limit pyhf's own CLs (obs and the five expected) is the CL level.

    |d log CLs / d log mu| > 2 near the limit, so |log(CLs / level)| < 0.005 means the limits
    agree to better than 0.25%.
    """
    for h, spec in enumerate(specs):
        model, data = _pyhf(spec)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cls_obs, _ = pyhf.infer.hypotest(
                limits.observed[h], data, model, test_stat="qtilde", return_expected_set=True
            )
            cls_exp = [
                pyhf.infer.hypotest(mu, data, model, test_stat="qtilde", return_expected_set=True)[1][i]
                for i, mu in enumerate(limits.expected[:, h])
            ]
        assert np.log(float(cls_obs) / LEVEL) == pytest.approx(0.0, abs=0.005), (h, "observed")
        np.testing.assert_allclose(
            np.log(np.array(cls_exp, dtype=float) / LEVEL), 0.0, atol=0.005, err_msg=f"hypothesis {h}"
        )


def test_pyhf_reference_agrees(specs, limits):
    """The workflow's cross-check function itself, on one three-bin window with all modifiers."""
    h = 6
    reference = engine.pyhf_reference(specs[h], LEVEL)
    assert reference.observed == pytest.approx(limits.observed[h], rel=2e-3)
    np.testing.assert_allclose(reference.expected, limits.expected[:, h], rtol=2e-3)
    assert reference.z == pytest.approx(engine.discovery_p0(engine.batch_from_specs([specs[h]]))[1][0], abs=0.01)


def test_kinked_interpolation_codes_match_pyhf(specs):
    """The modifier classes' own codes (normsys code1, histosys code0) with an asymmetric histosys."""
    spec = copy.deepcopy(specs[6])
    background = spec["channels"][0]["samples"][1]
    histosys = next(m for m in background["modifiers"] if m["name"] == "background_mc_statistics")
    histosys["data"]["lo_data"][1] = 0.5 * (histosys["data"]["lo_data"][1] + background["data"][1])  # down shift halved
    batch = engine.batch_from_specs([spec], normsys_code="code1", histosys_code="code0")
    settings = {"normsys": {"interpcode": "code1"}, "histosys": {"interpcode": "code0"}}
    model, data = _pyhf(spec, modifier_settings=settings)
    ours = engine.upper_limits(batch, level=LEVEL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, twice_nll = pyhf.infer.mle.fit(data, model, return_fitted_val=True)
        cls_obs, _ = pyhf.infer.hypotest(ours.observed[0], data, model, test_stat="qtilde", return_expected_set=True)
        cls_exp = [
            pyhf.infer.hypotest(mu, data, model, test_stat="qtilde", return_expected_set=True)[1][i]
            for i, mu in enumerate(ours.expected[:, 0])
        ]
    assert engine.fit_free(batch).twice_nll[0] == pytest.approx(float(twice_nll), abs=2e-5)
    np.testing.assert_allclose(np.log(np.array([cls_obs, *cls_exp], dtype=float) / LEVEL), 0.0, atol=0.005)
    # and the codes matter: the default (code4/code4p) limits differ
    default = engine.upper_limits(engine.batch_from_specs([spec]), level=LEVEL)
    assert abs(default.expected[2, 0] / ours.expected[2, 0] - 1) > 1e-3


def test_many_datasets_at_once_equal_one_by_one(batch):
    """Toys as a leading axis give the same fits as separate batches."""
    toys = engine.sample_toys(batch, 3, rng=np.random.default_rng(11))
    assert toys.data.shape == (3,) + batch.data.shape and toys.aux.shape == (3,) + batch.aux.shape
    p0, z = engine.discovery_p0(toys)
    together = engine.upper_limits(toys, level=LEVEL)
    assert together.observed.shape == (3, batch.n_hypotheses) and together.expected.shape == (5, 3, batch.n_hypotheses)
    for t in (0, 2):
        single = toys.with_data(toys.data[t], toys.aux[t])
        np.testing.assert_allclose(engine.discovery_p0(single)[1], z[t], atol=1e-6)
        alone = engine.upper_limits(single, level=LEVEL)
        np.testing.assert_allclose(alone.observed, together.observed[t], rtol=1e-4)
        np.testing.assert_allclose(alone.expected, together.expected[:, t], rtol=1e-4)


def test_asimov_data_recover_the_expected_limit(batch, limits):
    """On its own Asimov dataset (background-only fit, aux at the fitted values) the observed
    limit is the median expected one."""
    bkg = engine.fit_fixed_poi(batch, 0.0)
    asimov = batch.with_data(
        engine.expected_data(batch, bkg.parameters), np.where(batch.constrained, bkg.parameters, 0.0)
    )
    own = engine.upper_limits(asimov, level=LEVEL)
    np.testing.assert_allclose(own.observed, limits.expected[2], rtol=1e-3)


@pytest.mark.parametrize(("kind", "data"), [("shapesys", {"hi_data": [1.0]}), ("staterror", [1.0]), ("lumi", None)])
def test_unsupported_modifier_is_named(specs, kind, data):
    spec = copy.deepcopy(specs[-3])
    spec["channels"][0]["samples"][1]["modifiers"].append({"name": "weird_one", "type": kind, "data": data})
    with pytest.raises(ValueError, match="weird_one"):
        engine.batch_from_specs([spec])
