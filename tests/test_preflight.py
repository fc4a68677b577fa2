"""Checks against the registries before any job (darkscan.preflight), with suggestions."""

from __future__ import annotations

import copy

import pytest

from darkscan import preflight
from darkscan.config import ConfigError


def _changed(channel, **changes):
    changed = copy.deepcopy(channel)
    for path, value in changes.items():
        *head, last = path.split("__")
        node = changed
        for key in head:
            node = node[key]
        node[last] = value
    return changed


def test_the_default_channels_pass(global_config):
    from darkscan import config as cfg

    for name in cfg.enabled_channels(global_config):
        preflight.check_channel(cfg.channel_config(global_config, name), where=name)


def test_a_cut_on_an_unknown_column_names_the_cut_and_the_closest_column(channel):
    cuts = copy.deepcopy(channel["selection"]["cuts"])
    cuts[3]["expr"] = "(mu1_pt > 0.4) & (mu2_ptt > 0.4)"
    with pytest.raises(
        ConfigError, match=r"zp.yaml: selection.cuts\[3\] \(muon_pt\).*'mu2_ptt'.*did you mean 'mu2_pt'"
    ):
        preflight.check_channel(_changed(channel, selection__cuts=cuts), where="zp.yaml")


def test_a_cut_with_bad_syntax_is_refused(channel):
    cuts = copy.deepcopy(channel["selection"]["cuts"])
    cuts[0]["expr"] = "trigger == = 1"
    with pytest.raises(ConfigError, match=r"selection.cuts\[0\] \(trigger\).*not valid syntax"):
        preflight.check_channel(_changed(channel, selection__cuts=cuts), where="zp.yaml")


def test_unknown_variable_function_fit_variable_and_process(channel):
    with pytest.raises(ConfigError, match="unknown variable function.*'dimuon_recoill'; did you mean 'dimuon_recoil'"):
        preflight.check_channel(_changed(channel, selection__variables="dimuon_recoill"), where="zp.yaml")
    with pytest.raises(ConfigError, match=r"unknown fit.variable.*'recoil_mas'; did you mean 'recoil_mass'"):
        preflight.check_channel(_changed(channel, fit__variable="recoil_mas"), where="zp.yaml")
    with pytest.raises(ConfigError, match=r"backgrounds.tautau.process.*'tautau_qde'; did you mean 'tautau_qed'"):
        preflight.check_channel(_changed(channel, backgrounds__tautau__process="tautau_qde"), where="zp.yaml")


def test_a_generator_option_the_process_does_not_take_is_refused(channel):
    options = {**channel["backgrounds"]["mumu_gamma"]["options"], "photon_energy_mn": 1.0}
    with pytest.raises(
        ConfigError,
        match=(
            "backgrounds.mumu_gamma.options: process 'mumu_gamma' has no option 'photon_energy_mn'; "
            "did you mean 'photon_energy_min'"
        ),
    ):
        preflight.check_channel(_changed(channel, backgrounds__mumu_gamma__options=options), where="zp.yaml")


def test_a_missing_data_file_is_named(channel, tmp_path):
    present = tmp_path / "run1.root"
    present.write_bytes(b"")
    data = {**channel["data"], "source": "files", "files": [str(present), str(tmp_path / "run2.root")]}
    with pytest.raises(ConfigError, match=r"data.files: 1 file\(s\) do not exist: .*run2.root"):
        preflight.check_data_files(_changed(channel, data=data), where="zp.yaml")


def test_a_passed_check_is_remembered_but_data_files_are_checked_every_time(channel, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(preflight, "check_channel", lambda channel, *, where, sqrt_s=None: calls.append(where))
    preflight.check_channels_cached({"zp": channel}, where={"zp": "zp.yaml"}, cache_dir=tmp_path)
    preflight.check_channels_cached({"zp": channel}, where={"zp": "zp.yaml"}, cache_dir=tmp_path)
    assert calls == ["zp.yaml"]
    where = {"zp": "zp.yaml"}
    preflight.check_channels_cached({"zp": _changed(channel, luminosity_fb=1.0)}, where=where, cache_dir=tmp_path)
    assert calls == ["zp.yaml"]  # not a key these checks read
    changed = _changed(channel, fit__variable="recoil_mass_squared")
    preflight.check_channels_cached({"zp": changed}, where=where, cache_dir=tmp_path)
    assert calls == ["zp.yaml", "zp.yaml"]
    data = {**channel["data"], "source": "files", "files": [str(tmp_path / "gone.root")]}
    with pytest.raises(ConfigError, match="gone.root"):
        preflight.check_channels_cached(
            {"zp": _changed(channel, data=data)}, where={"zp": "zp.yaml"}, cache_dir=tmp_path
        )


def test_stale_temporaries_of_killed_jobs_are_removed(tmp_path):
    samples = tmp_path / "zp" / "samples" / "data"
    samples.mkdir(parents=True)
    kept = [samples / "chunk0.root", tmp_path / "zp" / "limits.csv"]
    stale = [samples / ".chunk0.root.tmp-4242", tmp_path / ".darkscan-zp-abc.tar.gz.77.tmp"]
    for path in kept + stale:
        path.write_text("x")
    assert preflight.remove_stale_temporaries(tmp_path) == sorted(stale)
    assert all(p.exists() for p in kept) and not any(p.exists() for p in stale)
    assert preflight.remove_stale_temporaries(tmp_path / "absent") == []


def test_signal_masses_are_checked_against_the_process_not_a_muon_mass_cap(channel):
    preflight.check_signal_masses(channel, sqrt_s=10.58, where="zp.yaml")
    with pytest.raises(ConfigError, match=r"signal.masses: 10.5 GeV is above what 'mumu_zprime' can produce.*10.3687"):
        preflight.check_signal_masses(_changed(channel, signal__masses=[1.0, 10.5]), sqrt_s=10.58, where="zp.yaml")
    # KLOE: e+e- -> gamma A' reaches sqrt(s) (the old cap sqrt(s) - 2 m_mu stopped at 0.808 GeV)
    photon = _changed(channel, signal__process="gamma_darkphoton", signal__masses=[0.5, 0.9], signal__options={})
    preflight.check_signal_masses(photon, sqrt_s=1.0195, where="kloe.yaml")


def test_an_unknown_derived_systematic_method_is_named(channel):
    systematics = copy.deepcopy(channel["systematics"])
    systematics[5]["method"] = "resolution_scal"
    with pytest.raises(
        ConfigError, match=r"systematics\[5\] \(mass_resolution\).*'resolution_scal'; did you mean 'resolution_scale'"
    ):
        preflight.check_channel(_changed(channel, systematics=systematics), where="zp.yaml")
