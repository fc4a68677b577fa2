"""The darkphoton_invisible channel end to end on its tiny overlay (tests/configs/tiny_darkphoton_invisible.yaml)."""

import json

import pandas as pd
import pytest

from darkscan import rootio


@pytest.mark.workflow
def test_darkphoton_invisible_tiny(built_side_channels):
    repo = built_side_channels
    results = repo / "results" / "darkphoton_invisible"
    limits = pd.read_csv(results / "limits.csv")
    assert len(limits) >= 3 and (limits["status"] != "failed").all()
    assert limits["mass"].min() == pytest.approx(1.0) and limits["mass"].max() <= 7.0
    for column in ("xsec_obs", "xsec_exp", "coupling_obs", "coupling_exp"):
        assert (limits[column] > 0).all() and limits[column].notna().all()
    assert (limits["xsec_exp_m1"] <= limits["xsec_exp"]).all() and (limits["xsec_exp"] <= limits["xsec_exp_p1"]).all()
    # eps: BaBar reached ~1e-3 with 53 fb^-1; 0.3 fb^-1 is ~13x weaker in eps (L^(1/4) with
    # background, L^(1/2) without): loose bounds
    assert ((limits["coupling_exp"] > 3e-4) & (limits["coupling_exp"] < 5e-2)).all()
    for stem in ("limits_xsec", "limits_coupling", "local_significance"):
        assert (results / "plots" / f"{stem}.png").stat().st_size > 0
    assert (results / "validation.html").is_file()
    significance = json.loads((results / "significance.json").read_text())
    assert significance["z_local_max"] < 4.0 and significance["z_global"] <= significance["z_local_max"]
    calibration = json.loads((results / "calibration.json").read_text())
    assert calibration["failed_targets"] == []
    # every background was simulated at >= 3x the channel luminosity; the gamma gamma samples
    # with the second photon's escape imposed
    for sample in ("eegamma", "gammagamma_isr", "gammagamma_bulk"):
        meta = rootio.read_metadata(results / "samples" / f"{sample}.root")
        assert meta["equivalent_luminosity_fb"] >= 3 * 0.3 * 0.99
        assert meta["escapes"] == ([] if sample == "eegamma" else [1])
