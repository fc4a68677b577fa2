"""Two-mass channels (dark_higgsstrahlung): [m1, m2] signal points, names, options, kinematic checks."""

from __future__ import annotations

import copy

import pytest

from darkscan import config as cfg


def test_two_mass_sample_names_and_options(global_config):
    channel = cfg.channel_config(global_config, "dark_higgsstrahlung")
    assert cfg.signal_sample_name([2.475, 0.8]) == "signal_m2p475_m0p800"
    assert cfg.signal_sample_name(1.5) == "signal_m1p500"  # one-mass names unchanged
    names = cfg.sample_names(channel)
    assert len(names) == len(channel["signal"]["masses"]) + len(channel["backgrounds"])
    entry = cfg.sample_config(channel, "signal_m2p475_m0p800")
    assert entry["options"] == {"coupling": 1.0, "mass": 2.475, "mass2": 0.8}
    assert (entry["mass"], entry["mass2"]) == (2.475, 0.8)
    assert channel["fit"]["method"] == "ellipse_counting"
    assert channel["luminosity_fb"] == 8.34


def _with(global_config, **override):
    merged = copy.deepcopy(global_config)
    merged["channels"]["dark_higgsstrahlung"] = copy.deepcopy(merged["channels"]["dark_higgsstrahlung"])
    merged["channels"]["dark_higgsstrahlung"].update(override)
    return merged


@pytest.mark.parametrize(
    "override, message",
    [
        ({"signal": {"masses": [[0.3, 0.0], [6.0, 5.0], [1.0, 1.0]]}}, r"\[6.0, 5.0\].*m1 \+ m2 < sqrt\(s\)"),
        ({"signal": {"masses": [[0.1, 0.0], [6.0, 1.0], [1.0, 1.0]]}}, "outside the kinematic range"),
        ({"signal": {"masses": [[0.3, 0.0], 2.0, [1.0, 1.0]]}}, "mix of single masses"),
        ({"masses": [1.0, 2.0]}, "needs a range"),
        ({"masses": {"min": 0.3, "max": 9.5, "min2": 0.0, "max2": 8.0}}, "outside the generated signal masses"),
        (
            {"masses": {"min": 4.0, "max": 8.9, "min2": 0.0, "max2": 4.35, "sum_max": 11.0}},
            "sum_max must be below sqrt",
        ),
    ],
)
def test_two_mass_semantic_errors(global_config, override, message):
    merged = _with(global_config, **override)
    with pytest.raises(cfg.ConfigError, match=message):
        cfg.channel_config(merged, "dark_higgsstrahlung")
