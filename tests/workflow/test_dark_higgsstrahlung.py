"""The dark_higgsstrahlung channel end to end on a tiny overlay: 2D limits, significance, maps."""

import json

import numpy as np
import pandas as pd
import pytest


@pytest.mark.workflow
def test_dark_higgsstrahlung_tiny(built_side_channels):
    """tests/configs/tiny_dark_higgs.yaml, built together with the ALP channel (conftest.py)."""
    repo = built_side_channels
    results = repo / "results" / "dark_higgsstrahlung"
    limits = pd.read_csv(results / "limits.csv")
    contract = [
        "mass",
        "mass2",
        "status",
        "xsec_obs",
        "xsec_exp_m2",
        "xsec_exp_m1",
        "xsec_exp",
        "xsec_exp_p1",
        "xsec_exp_p2",
        "coupling_obs",
        "coupling_exp",
        "p0_local",
        "z_local",
    ]
    assert set(contract) <= set(limits.columns)
    assert len(limits) > 20 and len(limits[["mass", "mass2"]].drop_duplicates()) == len(limits)
    assert np.all(limits["mass"] + limits["mass2"] <= 8.5 + 1e-9)
    assert (limits["status"] == "ok").mean() > 0.95
    ok = limits[limits["status"] == "ok"]
    for column in ("xsec_obs", "xsec_exp", "coupling_obs", "coupling_exp"):
        assert np.all(np.isfinite(ok[column])) and np.all(ok[column] > 0), column
    bands = ok[["xsec_exp_m2", "xsec_exp_m1", "xsec_exp", "xsec_exp_p1", "xsec_exp_p2"]].to_numpy()
    assert np.all(np.diff(bands, axis=1) >= -1e-9 * bands[:, 1:])
    # sane scale: a limit of a few events over L x efficiency (0.3 fb^-1, efficiency ~ 0.4)
    assert 1.0 < ok["xsec_exp"].median() < 1e3
    # eps^2 alpha_D = sigma_lim / (sigma(1) BF): coupling limits well below one
    assert ok["coupling_exp"].median() < 1e-3
    assert ok["xsec_obs_pyhf"].notna().any()
    checked = ok[ok["xsec_obs_pyhf"].notna()]  # closed-form counting limits against pyhf on the same one-bin models
    assert np.allclose(checked["xsec_obs_asymptotic"], checked["xsec_obs_pyhf"], rtol=0.01)
    significance = json.loads((results / "significance.json").read_text())
    for key in ("z_local_max", "mass_at_max", "mass2_at_max", "z_global", "p_global", "method"):
        assert key in significance
    assert 0.0 < significance["p_global"] <= 1.0
    assert significance["z_global"] <= significance["z_local_max"]
    calibration = json.loads((results / "calibration.json").read_text())
    assert calibration["failed_targets"] == [] and len(calibration["injection"]) == 6
    assert all("mass2" in row for row in calibration["injection"])
    for stem in ("limits_xsec", "limits_coupling", "local_significance"):
        for ext in ("png", "pdf"):
            assert (results / "plots" / f"{stem}.{ext}").stat().st_size > 1000
    assert sorted((results / "workspaces").glob("part*/mass_*_mass2_*.json"))
