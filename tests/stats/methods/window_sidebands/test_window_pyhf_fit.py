"""Tests of one hypothesis fitted with pyhf (darkscan.stats.methods.window_sidebands.pyhf_fit).

The limits and p0 are checked against an independent asymptotic calculation written here with
scipy: a one-bin counting experiment n ~ Pois(mu s + b) with b known, the qtilde and q0 test
statistics and their asymptotic distributions of Cowan, Cranmer, Gross, Vitells, EPJC 71 (2011)
1554 (CCGV). The background is made "known" in the pyhf model by sidebands with huge, exactly
background-like contents, which pin the free ``background_norm`` to 1 within ~0.2%.
"""

import json

import hist
import numpy as np
import pyhf
import pytest
from scipy import optimize, stats

from darkscan.stats.methods.window_sidebands import pyhf_fit
from darkscan.stats.methods.window_sidebands.model import WindowInputs, build_spec, signal_scale
from darkscan.stats.signal_model import Interpolated
from darkscan.systematics.table import Systematic

SIDEBAND = 1.0e5


# ---------------------------------------------------------------- independent asymptotics (CCGV)
def _nll(mu, n, s, b):
    lam = mu * s + b
    return lam - n * np.log(lam)


def _qtilde(mu, n, s, b):
    muhat = (n - b) / s
    if muhat > mu:
        return 0.0
    ref = muhat if muhat >= 0 else 0.0  # qtilde: L(mu)/L(0) when muhat < 0 (CCGV eq. 16)
    return 2.0 * (_nll(mu, n, s, b) - _nll(ref, n, s, b))


def _q_asimov(mu, s, b):
    # Asimov data set of the background-only hypothesis, n_A = b (CCGV eq. 24-30)
    return 2.0 * (mu * s - b * np.log1p(mu * s / b))


def _cls(mu, n, s, b):
    q, qa = _qtilde(mu, n, s, b), _q_asimov(mu, s, b)
    if q <= qa:  # CCGV eq. 65-66
        p_sb = stats.norm.sf(np.sqrt(q))
        cl_b = stats.norm.cdf(np.sqrt(qa) - np.sqrt(q))
    else:
        p_sb = stats.norm.sf((q + qa) / (2.0 * np.sqrt(qa)))
        cl_b = stats.norm.sf((q - qa) / (2.0 * np.sqrt(qa)))
    return p_sb / cl_b


def _observed_limit(n, s, b, alpha):
    return optimize.brentq(
        lambda mu: _cls(mu, n, s, b) - alpha, 1e-6 * (1 + np.sqrt(b)) / s, 1e3 * (1 + np.sqrt(b)) / s, xtol=1e-10
    )


def _expected_limit(s, b, alpha, n_sigma=0.0):
    """CCGV eq. 89 (with sigma from the Asimov data set at each mu): sqrt(q_mu,A(mu)) =
    Phi^-1(1 - alpha Phi(N)) + N."""
    target = stats.norm.ppf(1.0 - alpha * stats.norm.cdf(n_sigma)) + n_sigma
    return optimize.brentq(
        lambda mu: np.sqrt(_q_asimov(mu, s, b)) - target, 1e-9 / s, 1e4 * (1 + np.sqrt(b)) / s, xtol=1e-12
    )


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


def _workspace(inputs, systematics=()):
    return pyhf.Workspace(build_spec(inputs, list(systematics), scale_fb=signal_scale(inputs), background_floor=1e-3))


# ---------------------------------------------------------------- limits vs independent asymptotics
ALPHA = 0.10  # 90% CL, as in the zprime_invisible channel


@pytest.mark.parametrize("attempt", [0, 1, 2])  # fast asymptotics (default), pyhf root finding, pyhf grid
@pytest.mark.parametrize("n", [118.0, 87.0])  # excess (0 < muhat) and deficit (muhat < 0)
def test_observed_cls_limit_matches_independent_asymptotics(n, attempt):
    b, s = 100.0, 5.0
    ws = _workspace(_counting_inputs(n, b, s))
    expected = _observed_limit(n, s, b, ALPHA)
    obs, exp = pyhf_fit._upper_limit(ws, ALPHA, attempt)
    assert obs == pytest.approx(expected, rel=0.02)
    np.testing.assert_allclose(exp, [_expected_limit(s, b, ALPHA, k) for k in (-2, -1, 0, 1, 2)], rtol=0.02)
    # sanity of the reference: the n = 118 excess gives a weaker limit than the deficit
    assert _observed_limit(118.0, s, b, ALPHA) > _observed_limit(87.0, s, b, ALPHA)


@pytest.mark.parametrize("attempt", [0, 1])
def test_expected_limits_match_asimov_formula(attempt):
    b, s = 100.0, 5.0
    ws = _workspace(_counting_inputs(b, b, s))  # n = b: observed data are the Asimov data
    obs, exp = pyhf_fit._upper_limit(ws, ALPHA, attempt)
    median = _expected_limit(s, b, ALPHA)
    # by hand, Gaussian limit of the Asimov formula: sqrt(b) Phi^-1(1 - alpha/2) / s
    assert median == pytest.approx(np.sqrt(b) * stats.norm.ppf(1 - ALPHA / 2) / s, rel=0.06)
    assert exp[2] == pytest.approx(median, rel=0.02)
    assert obs == pytest.approx(median, rel=0.02)
    bands = [_expected_limit(s, b, ALPHA, k) for k in (-2, -1, 0, 1, 2)]
    np.testing.assert_allclose(exp, bands, rtol=0.02)
    assert np.all(np.diff(exp) > 0)


def test_local_p0_matches_counting_formula():
    b, s = 100.0, 5.0
    for n in (130.0, 145.0):
        p0, z = pyhf_fit.discovery_p0(_workspace(_counting_inputs(n, b, s)))
        z_ref = np.sqrt(2.0 * (n * np.log(n / b) - (n - b)))
        assert z == pytest.approx(z_ref, rel=0.02)
        assert p0 == pytest.approx(stats.norm.sf(z_ref), rel=0.1)
        assert p0 == pytest.approx(stats.norm.sf(z), rel=1e-6)
    # a deficit is no evidence: p0 = 0.5, Z = 0
    p0, z = pyhf_fit.discovery_p0(_workspace(_counting_inputs(85.0, b, s)))
    assert p0 == pytest.approx(0.5, abs=1e-4) and z == pytest.approx(0.0, abs=1e-3)


# ---------------------------------------------------------------- fit_mass
CHANNEL = {
    "luminosity_fb": 20.0,
    "cl": 0.90,
    "fit": {"window_sigmas": 6.0, "signal_sigmas": 2.0, "background_floor": 1e-3},
}
SYSTEMATICS = [
    Systematic("luminosity", "signal", "normsys", 0.007, ""),
    Systematic("muon_id", "signal", "normsys", 0.04, ""),
    Systematic("mass_resolution", "signal", "histosys", 0.1, ""),
    Systematic("background_mc_statistics", "background", "staterror", float("nan"), ""),
]


@pytest.fixture(scope="module")
def fit_inputs():
    rng = np.random.default_rng(7)
    nb = 500
    bkg = hist.Hist.new.Reg(nb, 0.0, 10.0).Weight()
    centres = bkg.axes[0].centers
    mean = 40.0 * np.exp(-centres / 8.0)
    bkg.view().value = mean
    bkg.view().variance = mean * 0.05  # MC with 20x the data luminosity
    data = hist.Hist.new.Reg(nb, 0.0, 10.0).Double()
    data.view()[...] = rng.poisson(mean).astype(float)
    vals = rng.normal(5.0, 0.08, 20000)
    signal = Interpolated(5.0, 0.25, 0.08, 3.0, vals, np.full(vals.size, 0.25 / vals.size))
    return signal, data, bkg


def test_fit_mass_ok_and_writes_workspace(fit_inputs, tmp_path):
    signal, data, bkg = fit_inputs
    path = tmp_path / "mass_5.0000.json"
    result = pyhf_fit.fit_mass(
        5.0, signal, data=data, background=bkg, channel=CHANNEL, systematics=SYSTEMATICS, workspace_path=path
    )
    assert result.status == "ok"
    limits = np.array([result.xsec_obs, *result.xsec_exp])
    assert np.all(np.isfinite(limits)) and np.all(limits > 0)
    assert np.all(np.diff(result.xsec_exp) > 0)
    assert np.isfinite(result.p0_local) and 0 < result.p0_local <= 0.5
    assert result.n_bins == 3
    assert (result.efficiency, result.resolution, result.signal_xsec_fb) == (0.25, 0.08, 3.0)
    # window 4.52..5.48 GeV -> fine edges; totals are those of the histograms in [4.52, 5.48)
    lo, hi = 226, 274
    assert result.background == pytest.approx(bkg.values()[lo:hi].sum())
    assert result.data == pytest.approx(data.values()[lo:hi].sum())
    spec = json.loads(path.read_text())
    pyhf.Workspace(spec)
    # the median expected limit is near the Gaussian estimate 1.645 sigma_b / s_window, with
    # sigma_b^2 = b (Poisson) + b^2 / B_sidebands (normalisation from the sidebands) + sumw2 (MC)
    ws_model = pyhf.Workspace(spec).model()
    b_all = np.array(spec["channels"][0]["samples"][1]["data"])
    b_win, s_win = b_all[1], spec["channels"][0]["samples"][0]["data"][1]
    sigma_b = np.sqrt(b_win + b_win**2 / (b_all[0] + b_all[2]) + 0.05 * b_win)
    assert (
        ws_model.config.npars == 6
    )  # mu, background_norm, signal_normalisation, background_mc_statistics (window, low, high)
    assert result.xsec_exp[2] == pytest.approx(sigma_b * stats.norm.ppf(0.95) / s_win, rel=0.1)


def test_fit_mass_retries_with_wide_grid(fit_inputs, monkeypatch):
    signal, data, bkg = fit_inputs
    original = pyhf_fit._upper_limit
    attempts = []

    def flaky(workspace, level, attempt):
        attempts.append(attempt)
        if attempt == 0:
            raise RuntimeError("forced failure")
        return original(workspace, level, attempt)

    monkeypatch.setattr(pyhf_fit, "_upper_limit", flaky)
    result = pyhf_fit.fit_mass(5.0, signal, data=data, background=bkg, channel=CHANNEL, systematics=SYSTEMATICS)
    assert attempts == [0, 1]
    assert result.status == "retried_pyhf_root_finding"
    assert np.all(np.isfinite([result.xsec_obs, *result.xsec_exp]))


def test_fit_mass_all_attempts_fail_keeps_row(fit_inputs, monkeypatch):
    signal, data, bkg = fit_inputs

    def broken(workspace, level, attempt):
        raise RuntimeError(f"forced failure {attempt}")

    monkeypatch.setattr(pyhf_fit, "_upper_limit", broken)
    monkeypatch.setattr(pyhf_fit, "discovery_p0", lambda ws: (_ for _ in ()).throw(RuntimeError("p0 broken")))
    result = pyhf_fit.fit_mass(5.0, signal, data=data, background=bkg, channel=CHANNEL, systematics=SYSTEMATICS)
    assert result.status == "failed+p0_failed"
    assert np.isnan(result.xsec_obs) and np.all(np.isnan(result.xsec_exp))
    assert np.isnan(result.p0_local) and np.isnan(result.z_local)
