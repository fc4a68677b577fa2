"""What each stage reads (darkscan.stage_inputs): slices, undeclared reads, declarations."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from darkscan import stage_inputs as si


def test_every_declaration_names_keys_of_the_schemas():
    assert {stage: si.unknown_paths(stage) for stage in si.stage_names()} == {stage: [] for stage in si.stage_names()}


def test_a_slice_holds_only_the_declared_keys(channel, experiment):
    params = si.stage_params("select_sample", channel, experiment)
    assert sorted(params["channel"]) == ["luminosity_fb", "name", "selection"]
    assert sorted(params["experiment"]) == ["beams", "name"]
    assert params["channel"]["selection"] == channel["selection"]
    json.dumps(params)  # plain data: Snakemake stores params to compare them


def test_reading_an_undeclared_key_raises_naming_stage_and_key(channel, experiment):
    view, _ = si.declared_configs(si.stage_params("select_sample", channel, experiment))
    assert view["luminosity_fb"] == channel["luminosity_fb"]
    with pytest.raises(si.UndeclaredConfigError, match=r"stage select_sample.*'fit'"):
        view["fit"]
    with pytest.raises(si.UndeclaredConfigError, match="'plots'"):
        view.get("plots", {})  # a default does not hide an undeclared read
    assert "fit" not in view


def test_partly_declared_sections_raise_below_too(channel, experiment):
    params = si.stage_params("fill_histograms", channel, experiment)
    assert sorted(params["channel"]["fit"]) == sorted(
        k for k in ("variable", "columns", "histogram", "label", "unit") if k in channel["fit"]
    )
    view, _ = si.declared_configs(params)
    assert view["fit"]["histogram"] == channel["fit"]["histogram"]
    with pytest.raises(si.UndeclaredConfigError, match=r"\.fit: key 'signal_sigmas'"):
        view["fit"]["signal_sigmas"]
    view, _ = si.declared_configs(si.stage_params("scan_part", channel, experiment))
    assert sorted(view["backgrounds"]) == sorted(channel["backgrounds"])  # names: the wildcard level
    with pytest.raises(si.UndeclaredConfigError, match="'events'"):
        view["backgrounds"]["tautau"]["events"]


def test_views_copy_and_pickle_as_plain_dicts(channel, experiment):
    view, _ = si.declared_configs(si.stage_params("plot_limits", channel, experiment))
    for copied in (copy.deepcopy(view), pickle.loads(pickle.dumps(view))):
        assert type(copied) is dict and copied == dict(view)
    assert json.loads(json.dumps(view))["cl"] == channel["cl"]


def test_a_signal_sample_depends_on_its_own_mass_only(channel, experiment):
    first = si.stage_params("generate_sample", channel, experiment, sample="signal_m1p000")
    assert first["channel"]["signal"]["masses"] == [1.0] and first["channel"]["backgrounds"] == {}
    more = copy.deepcopy(channel)
    more["signal"]["masses"].append(7.5)
    more["luminosity_fb"] *= 2  # signal samples are not sized to the luminosity
    more["backgrounds"]["tautau"]["events"] += 1
    assert si.stage_params("generate_sample", more, experiment, sample="signal_m1p000") == first


def test_a_background_sample_depends_on_its_own_entry_and_the_luminosity(channel, experiment):
    tautau = si.stage_params("generate_sample", channel, experiment, sample="tautau")
    assert list(tautau["channel"]["backgrounds"]) == ["tautau"]
    assert tautau["channel"]["backgrounds"]["tautau"]["events"] == channel["backgrounds"]["tautau"]["events"]
    other = copy.deepcopy(channel)
    other["backgrounds"]["eemumu"]["events"] += 1
    other["signal"]["events"] += 1
    assert si.stage_params("generate_sample", other, experiment, sample="tautau") == tautau
    other["luminosity_fb"] *= 2
    assert si.stage_params("generate_sample", other, experiment, sample="tautau") != tautau
    view, _ = si.declared_configs(tautau)
    assert "tautau" in view["backgrounds"] and view["signal"]["masses"] == []


def test_pseudo_data_do_not_depend_on_mc_sizes_or_labels(channel, experiment):
    data = si.stage_params("pseudo_data_chunk", channel, experiment)
    other = copy.deepcopy(channel)
    other["backgrounds"]["tautau"]["events"] += 1
    other["backgrounds"]["tautau"]["label"] = "tau pairs"
    assert si.stage_params("pseudo_data_chunk", other, experiment) == data
    other["backgrounds"]["tautau"]["options"] = {"tau_decays": "mumu"}
    assert si.stage_params("pseudo_data_chunk", other, experiment) != data


def test_unknown_stages_and_conflicting_registrations_fail():
    with pytest.raises(KeyError, match="no stage 'scna_part'"):
        si.stage_inputs("scna_part")
    si.register_stage("scan_part", si.stage_inputs("scan_part"))  # the same again is fine
    with pytest.raises(ValueError, match="already registered"):
        si.register_stage("scan_part", si.StageInputs(channel=("name",)))
