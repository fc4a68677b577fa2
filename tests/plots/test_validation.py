"""Which N-1 plots the validation notebook draws (darkscan.plots.validation)."""

from __future__ import annotations

import copy

from darkscan.plots.validation import validation_variables


def test_default_n_minus_1_plots_follow_the_channels_own_cuts(channel):
    channel = copy.deepcopy(channel)
    channel["mva"] = {
        "features": ["pt_mumu_cm", "pt_thrust_max", "pl_max_wrt_min_cm"],
        "range_edges": [-1.0, 9.0],
    }
    chosen = validation_variables(channel)
    # every variable a cut after the preselection uses, with that cut left out; the fit variable with all
    assert chosen["recoil_theta_lab"] == "recoil_barrel" and chosen["pt_mumu_cm"] == "dimuon_pt"
    assert chosen["extra_energy"] == chosen["n_photons_near_recoil"] == "photon_veto"
    assert chosen["recoil_mass"] is None
    assert "n_tracks" not in chosen  # preselection cuts (two_tracks) are not N-1 plots
    # the MVA's inputs before its cut (a feature that a cut uses keeps that cut), and its score
    assert chosen["pt_thrust_max"] == chosen["pl_max_wrt_min_cm"] == chosen["mva_score"] == "mva"
    other = copy.deepcopy(channel)
    other["selection"]["cuts"][-1]["expr"] = "recoil_p_cm > 1.0"
    assert validation_variables(other)["recoil_p_cm"] == "dimuon_pt"
    del other["mva"]
    assert "mva_score" not in validation_variables(other)


def test_configured_n_minus_1_plots_win(channel):
    configured = copy.deepcopy(channel)
    configured["plots"]["validation_variables"] = {"mu1_pt": "muon_pt"}
    assert validation_variables(configured) == {"mu1_pt": "muon_pt"}
