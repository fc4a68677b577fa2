"""The lfv_zprime channel end to end on its tiny overlay (tests/configs/tiny_lfv_zprime.yaml)."""

import json

import pandas as pd
import pytest

from darkscan import rootio


@pytest.mark.workflow
def test_lfv_zprime_tiny(built_side_channels):
    results = built_side_channels / "results" / "lfv_zprime"
    limits = pd.read_csv(results / "limits.csv")
    assert len(limits) >= 3 and (limits["status"] != "failed").all()
    assert limits["mass"].min() == pytest.approx(1.0) and limits["mass"].max() <= 7.0
    for column in ("xsec_obs", "xsec_exp", "coupling_invisible_obs", "coupling_invisible_exp", "efficiency"):
        assert (limits[column] > 0).all() and limits[column].notna().all(), column
    assert (limits["xsec_exp_m1"] <= limits["xsec_exp"]).all() and (limits["xsec_exp"] <= limits["xsec_exp_p1"]).all()
    # efficiency x sigma (what limits_xsec shows): N_limit / L, near the background-free 2.30 events
    # / 0.276 fb^-1 = 8.3 fb (a little below it where the profiled signal uncertainty helps a zero count)
    visible = limits["xsec_exp"] * limits["efficiency"]
    assert ((visible > 0.8 * 2.3 / 0.276) & (visible < 2000.0)).all()
    assert 0.85 < visible.median() / (2.3 / 0.276) < 2.0
    for stem in ("limits_xsec", "limits_coupling", "local_significance"):
        assert (results / "plots" / f"{stem}.png").stat().st_size > 0
    assert (results / "validation.html").is_file()
    significance = json.loads((results / "significance.json").read_text())
    assert significance["z_local_max"] < 4.0 and significance["z_global"] <= significance["z_local_max"]
    assert json.loads((results / "calibration.json").read_text())["failed_targets"] == []
    meta = rootio.read_metadata(results / "samples" / "tautau.root")
    assert meta["equivalent_luminosity_fb"] >= 3 * 0.276 * 0.99
    assert meta["process"] == "tautau_qed_emu"
