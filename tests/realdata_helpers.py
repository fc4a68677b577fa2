"""Foreign ntuples standing in for a channel's real data (tests of ``data.source: files``)."""

from __future__ import annotations

import pathlib

import numpy as np
import uproot

# darkscan variable of the zprime_invisible selection -> branch of a foreign ntuple
REAL_DATA_MAPPING = {
    "trigger": "trg",
    "n_tracks": "nTracks",
    "n_muons": "nMuons",
    "charge_sum": "qSum",
    "mu1_pt": "pt1",
    "mu2_pt": "pt2",
    "recoil_theta_lab": "thetaRec",
    "n_photons_near_recoil": "nGammaRec",
    "n_klm_near_recoil": "nKlmRec",
    "extra_energy": "Eextra",
    "pt_mumu_cm": "ptMuMu",
    "recoil_mu_angle_min": "angRecMu",
    "recoil_mass": "Mrecoil",
}


def write_real_ntuple(path: pathlib.Path, *, n: int, seed: int) -> dict[str, np.ndarray]:
    """A foreign ntuple (TTree ``tree``) with the branches of :data:`REAL_DATA_MAPPING` and one more."""
    rng = np.random.default_rng(seed)
    branches = {
        "trg": np.ones(n, dtype=np.int64),
        "nTracks": np.full(n, 2),
        "nMuons": np.full(n, 2),
        "qSum": np.zeros(n, dtype=np.int64),
        "pt1": rng.uniform(0.2, 4.0, n),
        "pt2": rng.uniform(0.2, 4.0, n),
        "thetaRec": rng.uniform(20, 140, n),
        "nGammaRec": np.zeros(n, dtype=np.int64),
        "nKlmRec": np.zeros(n, dtype=np.int64),
        "Eextra": rng.uniform(0, 0.6, n),
        "ptMuMu": rng.uniform(0.5, 3.0, n),
        "angRecMu": rng.uniform(0, 90, n),
        "Mrecoil": rng.uniform(0, 8, n),
        "other": np.zeros(n),
    }
    with uproot.recreate(path) as f:
        f.mktree("tree", branches)
    return branches


def passes_zprime_cuts(branches: dict[str, np.ndarray]) -> np.ndarray:
    """The zprime_invisible cuts written out by hand on the foreign branches (an independent count)."""
    return (
        (branches["pt1"] > 0.4)
        & (branches["pt2"] > 0.4)
        & (branches["thetaRec"] > 33)
        & (branches["thetaRec"] < 125)
        & (branches["Eextra"] < 0.4)
        & (branches["ptMuMu"] > 1.0)
    )
