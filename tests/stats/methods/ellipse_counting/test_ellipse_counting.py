"""The closed-form counting CLs limits (darkscan.stats.methods.ellipse_counting.counting) against pyhf."""

import numpy as np
import pyhf
import pytest

from darkscan.stats.methods.ellipse_counting.counting import counting_cls_limits, pyhf_limits, pyhf_spec


def _spec(n, s, b0, sigma):
    return pyhf_spec(n=n, s=s, b0=b0, sigma_b=sigma, signal_norm=0.0, scale=(2 * np.sqrt(b0 + 1) + 3) / s)


CASES = [(12, 3.0, 10.0, 1.0), (3, 0.5, 4.0, 0.6), (40, 8.0, 45.0, 5.0), (130, 10.0, 120.0, 3.0)]


@pytest.mark.parametrize("n, s, b0, sigma", CASES)
def test_closed_form_cls_matches_pyhf_fits(n, s, b0, sigma):
    """Same model and conventions fitted numerically by pyhf (FastAsymptoticCLs): 0.1% agreement."""
    limits = counting_cls_limits(np.array([n]), np.array([s]), np.array([b0]), np.array([sigma]), level=0.1)
    assert limits.converged.all()
    obs, exp = pyhf_limits(_spec(n, s, b0, sigma), 0.1)
    np.testing.assert_allclose(limits.observed[0], obs, rtol=2e-3)
    np.testing.assert_allclose(limits.expected[:, 0], exp, rtol=2e-3)


@pytest.mark.parametrize("n, s, b0, sigma", CASES[:3])
def test_closed_form_with_signal_normalisation_matches_pyhf(n, s, b0, sigma):
    """Signal normsys of 25% profiled (golden section) vs the full pyhf model with that normsys."""
    spec = pyhf_spec(n=n, s=s, b0=b0, sigma_b=sigma, signal_norm=0.25, scale=(2 * np.sqrt(b0 + 1) + 3) / s)
    obs, exp = pyhf_limits(spec, 0.1)
    limits = counting_cls_limits(
        np.array([n]), np.array([s]), np.array([b0]), np.array([sigma]), level=0.1, signal_norm=0.25
    )
    np.testing.assert_allclose(limits.observed[0], obs, rtol=5e-3)
    np.testing.assert_allclose(limits.expected[:, 0], exp, rtol=1e-2)  # pyhf's fits: ~0.5% at small mu
    without = counting_cls_limits(np.array([n]), np.array([s]), np.array([b0]), np.array([sigma]), level=0.1)
    assert limits.observed[0] > without.observed[0]


@pytest.mark.parametrize("n, s, b0, sigma", CASES[:2])
def test_closed_form_cls_matches_pyhf_hypotest_scan(n, s, b0, sigma):
    """Independent calculation: pyhf's own hypotest on a fine POI grid (its Asimov bands per POI)."""
    workspace = pyhf.Workspace(_spec(n, s, b0, sigma))
    model = workspace.model()
    scale = model.config.suggested_init()[model.config.poi_index]
    obs, exp = pyhf.infer.intervals.upper_limits.upper_limit(
        workspace.data(model), model, scan=np.geomspace(0.05, 20, 150) * scale, level=0.1, test_stat="qtilde"
    )
    limits = counting_cls_limits(np.array([n]), np.array([s]), np.array([b0]), np.array([sigma]), level=0.1)
    np.testing.assert_allclose(limits.observed[0], float(obs), rtol=0.03)
    np.testing.assert_allclose(limits.expected[1:4, 0], [float(e) for e in exp[1:4]], rtol=0.03)


def test_closed_form_cls_known_background_limit():
    """No background uncertainty, n = b (Asimov): the asymptotic median limit of a Poisson count.

    With sigma_b -> 0, q_mu,A = 2 [ (mu s + b) ln((mu s + b)/b) ... ] reduces to the known-b profile
    likelihood; for large b, sigma_A -> sqrt(b)/s and the median 90% CL limit -> 1.64 sqrt(b)/s x
    (Phi^-1(1 - 0.1/2) / 1.64), i.e. mu_med = sqrt(b)/s * Phi^-1(0.95) = 1.645 sqrt(b)/s.
    """
    b = 1.0e4
    limits = counting_cls_limits(np.array([b]), np.array([1.0]), np.array([b]), np.array([1e-6]), level=0.1)
    np.testing.assert_allclose(limits.expected[2, 0], 1.6449 * np.sqrt(b), rtol=0.01)
    np.testing.assert_allclose(limits.observed[0], limits.expected[2, 0], rtol=0.01)
    assert np.all(np.diff(limits.expected[:, 0]) > 0)


def test_closed_form_vectorised_equals_one_by_one():
    n, s, b0, sigma = (
        np.array([0, 5, 20]),
        np.array([2.0, 1.0, 4.0]),
        np.array([1e-3, 4.0, 25.0]),
        np.array([0.5, 1.0, 2.0]),
    )
    together = counting_cls_limits(n, s, b0, sigma, level=0.1)
    for i in range(3):
        alone = counting_cls_limits(n[i : i + 1], s[i : i + 1], b0[i : i + 1], sigma[i : i + 1], level=0.1)
        np.testing.assert_allclose(together.observed[i], alone.observed[0], rtol=1e-9)
    # more signal per fb, lower limit; zero events over tiny background: about 2.3 events / s
    assert 1.0 < together.observed[0] * s[0] < 3.0


def test_fit_limit_chooses_bayesian_limits_where_asked():
    from darkscan.stats import bayesian
    from darkscan.stats.methods.ellipse_counting.counting import counting_limits

    n, s, b0, sigma = np.array([0.0, 3.0, 400.0]), np.ones(3), np.array([0.4, 2.5, 390.0]), np.array([0.2, 0.5, 5.0])
    asymptotic, methods = counting_limits(n, s, b0, sigma, level=0.1, signal_norm=0.05, fit={})
    assert set(methods) == {"cls_asymptotic_closed_form"}
    auto, methods = counting_limits(n, s, b0, sigma, level=0.1, signal_norm=0.05, fit={"limit": "auto"})
    assert methods.tolist() == ["bayesian", "bayesian", "cls_asymptotic_closed_form"]
    direct = bayesian.counting_upper_limits(n[:2], s[:2], b0[:2], sigma[:2], cl=0.9, signal_norm=0.05)
    np.testing.assert_array_equal(auto.observed[:2], direct.observed)
    np.testing.assert_array_equal(auto.expected[:, :2], direct.expected)
    assert auto.observed[2] == asymptotic.observed[2]
    # n = 0: the credible limit is -ln(0.1) events (times ~1 for a 5% normalisation systematic)
    assert auto.observed[0] == pytest.approx(2.303, rel=0.01)
