"""Config loading: recursive overlays, schema defaults, semantic errors naming the key."""

from __future__ import annotations

import copy

import pytest
import yaml

from darkscan import config as cfg


def test_deep_merge_is_recursive_and_does_not_mutate():
    base = {"a": {"b": 1, "c": 2}, "d": [1, 2]}
    merged = cfg.deep_merge(base, {"a": {"c": 3}, "d": [5]})
    assert merged == {"a": {"b": 1, "c": 3}, "d": [5]}
    assert base == {"a": {"b": 1, "c": 2}, "d": [1, 2]}


def test_overlay_changes_one_key_of_one_channel(repo_root, tmp_path):
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(yaml.safe_dump({"channels": {"zprime_invisible": {"luminosity_fb": 0.276}}}))
    merged = cfg.load_global(overlays=[str(overlay)])
    channel = cfg.channel_config(merged, "zprime_invisible")
    assert channel["luminosity_fb"] == 0.276
    assert channel["cl"] == 0.90  # untouched keys survive
    assert channel["experiment"] == "belle2"


def test_schema_fills_defaults(channel):
    assert channel["data"]["oversample"] == 1.0 and channel["data"]["unweighting_tolerance"] == 1e-3
    assert channel["fit"]["background_floor"] == 0.001


def _with(global_config, **override):
    merged = copy.deepcopy(global_config)
    merged["channels"]["zprime_invisible"].update(override)
    return merged


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"luminosity_fb": -1.0}, "luminosity_fb"),
        ({"luminosity_fb": 0.0}, "luminosity_fb"),
        ({"cl": 0.5}, "cl"),
        ({"signal": {"masses": [1.0, 11.0]}}, "outside the kinematic range"),
        ({"masses": {"min": 0.1, "max": 8.0}}, "outside the generated signal masses"),
        (
            {
                "selection": {
                    "variables": "dimuon_recoil",
                    "cuts": [{"name": "a", "expr": "x > 1"}, {"name": "a", "expr": "x > 2"}],
                }
            },
            "duplicate cut names",
        ),
        ({"experiment": "nonexistent"}, "experiment 'nonexistent'"),
        (
            {"data": {"source": "pseudo", "inject_signal": {"mass": 2.5, "coupling": 0.01}}},
            "inject_signal.mass 2.5 must be one of",
        ),
    ],
)
def test_bad_channel_config_names_the_key(global_config, override, message):
    with pytest.raises(cfg.ConfigError, match=message):
        cfg.channel_config(_with(global_config, **override), "zprime_invisible")


def test_missing_channel_file_is_named(global_config):
    broken = copy.deepcopy(global_config)
    broken["channels"]["zprime_invisible"]["config"] = "config/channels/nope.yaml"
    with pytest.raises(cfg.ConfigError, match="nope.yaml does not exist"):
        cfg.channel_config(broken, "zprime_invisible")


def test_unknown_channel_lists_defined_ones(global_config):
    with pytest.raises(cfg.ConfigError, match=r"defined: \[.*'zprime_invisible'.*\]"):
        cfg.channel_config(global_config, "alp")


def test_sample_names_and_signal_config(channel):
    names = cfg.sample_names(channel)
    assert names[0] == "signal_m0p200" and names[-3:] == ["mumu_gamma", "tautau", "eemumu"]
    entry = cfg.sample_config(channel, "signal_m1p500")
    assert entry["options"]["mass"] == 1.5 and entry["process"] == "mumu_zprime"
    with pytest.raises(cfg.ConfigError, match="no sample 'bhabha'"):
        cfg.sample_config(channel, "bhabha")


def test_belle2_sqrt_s(experiment):
    # 2 sqrt(E1 E2) cos(alpha/2) with E1 = 7.004, E2 = 4.002 GeV, alpha = 83 mrad (basf2 Y4S)
    assert cfg.Beams(**experiment["beams"]).sqrt_s == pytest.approx(10.5796, abs=1e-4)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"channels": {"zprime_invisible": {"luminosty_fb": 10}}},
            r"unknown key 'luminosty_fb'; did you mean 'luminosity_fb'",
        ),
        (
            {"channels": {"zprime_invisible": {"fit": {"signal_sigma": 3}}}},
            r"unknown key 'fit.signal_sigma'; did you mean 'signal_sigmas'",
        ),
        (
            {"channels": {"zprime_invisible": {"backgrounds": {"tautau": {"event": 3}}}}},
            r"unknown key 'backgrounds.tautau.event'; did you mean 'events'",
        ),
        (
            {"channels": {"zprime_invisible": {"calibration": {"toy": 300}}}},
            r"unknown key 'calibration.toy'; did you mean 'toys'",
        ),
        (
            {"experiments": {"belle2": {"tracking": {"pt_resolutin_a": 0.001}}}},
            r"belle2.yaml \(experiment belle2\): unknown key 'tracking.pt_resolutin_a'; did you mean 'pt_resolution_a'",
        ),
    ],
)
def test_unknown_keys_are_errors_naming_file_key_and_the_closest_key(global_config, override, message):
    merged = cfg.deep_merge(global_config, override)
    with pytest.raises(cfg.ConfigError, match=message):
        cfg.channel_config(merged, "zprime_invisible")


def test_unknown_global_keys_are_errors(global_config):
    with pytest.raises(cfg.ConfigError, match="unknown key 'sede'; did you mean 'seed'"):
        cfg.validate({**global_config, "sede": 1}, "config", where="config.yaml")


def test_every_schema_key_is_described():
    def undescribed(node, path):
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                if "description" not in sub and "$ref" not in sub:
                    yield f"{path}.{name}"
            for key, sub in node.items():
                yield from undescribed(sub, f"{path}.{key}" if key not in ("properties",) else path)
        elif isinstance(node, list):
            for item in node:
                yield from undescribed(item, path)

    for method in cfg.fit_method_names():
        schema = cfg.load_yaml(cfg.FIT_METHOD_SCHEMAS / f"{method}.schema.yaml")
        assert sorted(set(undescribed(schema, method))) == [], method
    missing = {
        name: sorted(set(undescribed(cfg.load_yaml(cfg.SCHEMA_DIR / f"{name}.schema.yaml"), name)))
        for name in ("config", "channel", "experiment")
    }
    assert missing == {"config": [], "channel": [], "experiment": []}


def test_a_fit_methods_own_keys_live_in_its_own_schema(global_config):
    """pyhf_check_every belongs to window_sidebands, pyhf_every and variable2 to ellipse_counting."""
    zprime = cfg.channel_config(global_config, "zprime_invisible")
    assert zprime["fit"]["pyhf_check_every"] == 25 and "pyhf_every" not in zprime["fit"]
    dark_higgs = cfg.channel_config(global_config, "dark_higgsstrahlung")
    assert dark_higgs["fit"]["variable2"] == "recoil_mass" and "pyhf_check_every" not in dark_higgs["fit"]
    wrong = cfg.deep_merge(global_config, {"channels": {"zprime_invisible": {"fit": {"pyhf_every": 3}}}})
    with pytest.raises(cfg.ConfigError, match="unknown key 'fit.pyhf_every'; did you mean 'pyhf_check_every'"):
        cfg.channel_config(wrong, "zprime_invisible")
    unknown = cfg.deep_merge(global_config, {"channels": {"zprime_invisible": {"fit": {"method": "window_sideband"}}}})
    with pytest.raises(
        cfg.ConfigError, match=r"zprime_invisible.yaml.*unknown fit.method 'window_sideband'; did you mean"
    ):
        cfg.channel_config(unknown, "zprime_invisible")


def test_pseudo_data_jobs_grow_with_luminosity_up_to_the_cap():
    config = {"data_chunk_luminosity_fb": 20.0, "data_chunks_max": 64}
    assert [cfg.data_chunks(config, {"luminosity_fb": lumi}) for lumi in (0.445, 20.0, 20.1, 79.7, 1280.0, 7970.0)] == [
        1,
        1,
        2,
        4,
        64,
        64,
    ]
