"""Trigger lines as a registry: built-ins, plugin lines, settings checked before any job."""

import numpy as np
import pytest

from darkscan import config as cfg
from darkscan.experiments import triggers
from darkscan.experiments.detector import simulate
from darkscan.generate.registry import get_process


def _reco(n_tracks, energy_sum):
    n_tracks, energy_sum = np.asarray(n_tracks), np.asarray(energy_sum, float)
    return triggers.Reconstructed(n_tracks, np.zeros_like(n_tracks), energy_sum, np.zeros(0), np.zeros(0))


def test_builtin_lines_in_order_with_their_branches():
    lines = triggers.triggers()
    assert [(t.name, t.branch) for t in lines[:2]] == [
        ("two_track", "trigger"),
        ("calorimeter_energy_sum", "trigger_ecl"),
    ]


def test_two_track_and_energy_sum_decisions():
    reco = _reco([0, 1, 2, 3, 2], [0.5, 1.5, 0.9, 2.0, 1.0])
    out = triggers.trigger_branches(reco, {}, np.random.default_rng(0))
    assert out["trigger"].tolist() == [False, False, True, True, True]
    assert out["trigger_ecl"].tolist() == [False, True, False, True, False]  # threshold 1 GeV, strict


def test_efficiency_thins_the_decision_binomially():
    n = 200_000
    reco = _reco(np.full(n, 2), np.full(n, 3.0))
    out = triggers.trigger_branches(
        reco, {"two_track_efficiency": 0.85, "calorimeter_efficiency": 0.6}, np.random.default_rng(1)
    )
    for branch, eff in (("trigger", 0.85), ("trigger_ecl", 0.6)):
        assert abs(out[branch].mean() - eff) < 4 * np.sqrt(eff * (1 - eff) / n)


def test_plugin_line_adds_a_branch_and_leaves_the_others_unchanged(monkeypatch, experiment):
    truth = get_process("mumu").generate(300, np.random.default_rng(1), sqrt_s=10.58, theta_min=40.0, theta_max=140.0)
    before = simulate(truth, experiment, np.random.default_rng(2))
    registry = triggers._TRIGGERS
    monkeypatch.setattr(registry, "_entries", dict(registry._entries))

    @triggers.register_trigger("one_track", branch="trigger_one_track", description="test line")
    def one_track(reco, settings, rng):
        return reco.n_tracks >= settings.get("one_track", {}).get("min_tracks", 1)

    after = simulate(truth, experiment, np.random.default_rng(2))
    assert after["trigger_one_track"].mean() >= after["trigger"].mean() > 0.5
    for branch in ("trigger", "trigger_ecl", "weight"):
        np.testing.assert_array_equal(before[branch], after[branch])
    with pytest.raises(ValueError, match="branch 'trigger' is written by another trigger"):
        triggers.register_trigger("again", branch="trigger", description="")(one_track)


def test_settings_of_an_unknown_line_fail_at_config_time(global_config):
    config = global_config
    config["experiments"]["belle2"]["trigger"] = {"two_trak": {"min_tracks": 2}}
    with pytest.raises(cfg.ConfigError, match=r"trigger\.two_trak.*did you mean 'two_track'"):
        cfg.experiment_config(config, "belle2")
