"""Toy CLs through the engine against the exact CLs of one-bin models."""

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from darkscan.stats import engine, toy_cls
from darkscan.stats.methods.window_sidebands.toy_limits import EngineToys, apply_toy_limits, needs_toys


def one_bin_spec(n: float, b: float) -> dict:
    """n ~ Pois(mu + b), b known: mu is the signal in events."""
    return {
        "version": "1.0.0",
        "channels": [
            {
                "name": "window",
                "samples": [
                    {
                        "name": "signal",
                        "data": [1.0],
                        "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
                    },
                    {"name": "background", "data": [b], "modifiers": []},
                ],
            }
        ],
        "observations": [{"name": "window", "data": [n]}],
        "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": [{"name": "mu", "bounds": [[0, 50]]}]}}],
    }


def exact_cls_limit(n, b, level=0.1):
    return optimize.brentq(lambda s: stats.poisson.cdf(n, s + b) / stats.poisson.cdf(n, b) - level, 1e-6, 60)


def test_engine_toys_reproduce_the_exact_cls_of_one_bin():
    cases = [(0, 0.8), (2, 1.5), (5, 4.0)]
    batch = engine.batch_from_specs([one_bin_spec(n, b) for n, b in cases])
    grid = toy_cls.mu_grid(np.full(3, 0.5), np.full(3, 20.0), points=40)
    limits = toy_cls.toy_cls_limits(EngineToys(batch), grid, level=0.1, n_toys=8000, rng=np.random.default_rng(5))
    assert limits.converged.all()
    np.testing.assert_allclose(limits.observed, [exact_cls_limit(n, b) for n, b in cases], rtol=0.05)
    # the median expected limit is the exact limit at the median count
    median = [exact_cls_limit(stats.poisson.median(b), b) for _, b in cases]
    np.testing.assert_allclose(limits.expected[2], median, rtol=0.06)


def _frame(specs):
    asym = engine.upper_limits(engine.batch_from_specs(specs), level=0.1)
    return pd.DataFrame(
        {
            "status": ["ok", "ok"],
            "background_window": [2.0, 400.0],
            "xsec_obs": asym.observed,
            **{f"xsec_{b}": asym.expected[i] for i, b in enumerate(("exp_m2", "exp_m1", "exp", "exp_p1", "exp_p2"))},
            "limit_method": ["cls_asymptotic_engine"] * 2,
        }
    )


def test_auto_selects_the_small_background_windows_and_records_the_method():
    specs = [one_bin_spec(3, 2.0), one_bin_spec(400, 400.0)]
    frame = _frame(specs)
    fit = {
        "limit": "auto",
        "limit_auto_below": 10.0,
        "limit_toys": 4000,
        "limit_signal_toys_fraction": 0.25,
        "limit_grid_points": 30,
    }
    assert needs_toys(frame, fit).tolist() == [True, False]
    apply_toy_limits(frame, specs, fit=fit, level=0.1, rng=np.random.default_rng(3))
    assert frame["limit_method"].tolist() == ["cls_toys", "cls_asymptotic_engine"]
    assert frame.at[0, "xsec_obs"] == pytest.approx(exact_cls_limit(3, 2.0), rel=0.06)
    assert frame.at[1, "xsec_obs"] == frame.at[1, "xsec_obs_asymptotic"]
    # the same seed gives the same limits
    again = _frame(specs)
    apply_toy_limits(again, specs, fit=fit, level=0.1, rng=np.random.default_rng(3))
    assert again.at[0, "xsec_obs"] == frame.at[0, "xsec_obs"]


def test_a_deficit_whose_cl_b_rests_on_too_few_toys_is_not_accepted():
    """n = 0 where 6 background events are expected: P(n = 0 | b) = 0.25% leaves ~1 of 400
    background-only toys beyond the data, too few for CL_b; n = 0 on 0.8 events (45%) is fine."""
    batch = engine.batch_from_specs([one_bin_spec(0, 6.0), one_bin_spec(0, 0.8)])
    grid = toy_cls.mu_grid(np.full(2, 0.5), np.full(2, 20.0), points=20)
    limits = toy_cls.toy_cls_limits(EngineToys(batch), grid, level=0.1, n_toys=400, rng=np.random.default_rng(9))
    assert limits.converged.tolist() == [False, True]
    assert limits.observed[1] == pytest.approx(2.303, rel=0.15)  # 400 toys


def test_toy_limits_of_pseudo_experiments_are_the_exact_cls_of_their_counts():
    """The calibration's toy-CLs injections: one workspace, other data per pseudo-experiment."""
    from darkscan.stats.methods.window_sidebands.toy_limits import toy_limits

    b, counts = 1.5, np.array([[0.0], [2.0], [4.0]])
    spec = one_bin_spec(9, b)  # its own observation (9) must not enter
    batch = engine.batch_from_specs([spec] * 3).with_data(counts)
    asym = engine.upper_limits(batch, level=0.1)
    bands = np.column_stack([asym.observed, asym.expected.T])
    fit = {"limit_toys": 4000, "limit_signal_toys_fraction": 0.25, "limit_grid_points": 30}
    limits = toy_limits([spec] * 3, bands, fit=fit, level=0.1, rng=np.random.default_rng(8), data=counts)
    assert limits.converged.all()
    np.testing.assert_allclose(limits.observed, [exact_cls_limit(n, b) for n in (0, 2, 4)], rtol=0.06)


def test_toy_injection_points_are_spread_over_the_toy_cls_rows():
    from darkscan.stats.methods.window_sidebands.calibration import toy_injection_rows

    methods = ["cls_asymptotic_engine"] * 3 + ["cls_toys"] * 7
    frame = pd.DataFrame({"status": "ok", "xsec_exp": 1.0, "limit_method": methods})
    assert toy_injection_rows(frame, count=1) == [6]  # the middle one of rows 3-9, not an end
    assert toy_injection_rows(frame, count=2) == [5, 7]
    assert toy_injection_rows(frame, count=0) == []
    assert toy_injection_rows(frame.assign(limit_method="cls_asymptotic_engine"), count=1) == []


def test_toy_limits_in_chunks_of_hypotheses_keep_their_rows(monkeypatch):
    """The scan's toy CLs run in chunks of hypotheses (memory): each row keeps its own limit."""
    from darkscan.stats.methods.window_sidebands import toy_limits as module

    monkeypatch.setattr(module, "CHUNK", 2)
    cases = [(3, 2.0), (0, 1.0), (6, 4.0), (1, 0.5), (2, 3.0)]
    specs = [one_bin_spec(n, b) for n, b in cases]
    asym = engine.upper_limits(engine.batch_from_specs(specs), level=0.1)
    frame = pd.DataFrame(
        {
            "status": "ok",
            "background_window": [b for _, b in cases],
            "xsec_obs": asym.observed,
            **{f"xsec_{b}": asym.expected[i] for i, b in enumerate(("exp_m2", "exp_m1", "exp", "exp_p1", "exp_p2"))},
            "limit_method": "cls_asymptotic_engine",
        }
    )
    fit = {"limit": "cls_toys", "limit_toys": 4000, "limit_signal_toys_fraction": 0.25, "limit_grid_points": 30}
    apply_toy_limits(frame, specs, fit=fit, level=0.1, rng=np.random.default_rng(4))
    assert (frame["limit_method"] == "cls_toys").all()
    np.testing.assert_allclose(frame["xsec_obs"], [exact_cls_limit(n, b) for n, b in cases], rtol=0.06)
