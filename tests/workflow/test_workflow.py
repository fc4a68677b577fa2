"""The whole DAG on the tiny overlay config: outputs, determinism, incremental reruns, errors.

The tiny run takes about a minute on 2 cores; the session builds it once with --cores 2 and once
with --cores 1 (in separate copies of the repository, the latter in the background from the start
of the session, see conftest.py) and compares the results.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pyhf
import pytest
import yaml

from workflow_helpers import ROOT, TINY
from workflow_helpers import run_snakemake as run

pytestmark = pytest.mark.workflow


def test_outputs_exist_and_limits_are_sane(built):
    results = built / "results" / "zprime_invisible"
    for name in (
        "limits.csv",
        "cutflow.csv",
        "systematics.csv",
        "systematics.tex",
        "validation.html",
        "validation.ipynb",
        "histograms.root",
    ):
        assert (results / name).stat().st_size > 0, name
    for stem in ("limits_xsec", "limits_coupling", "local_significance"):
        assert (results / "plots" / f"{stem}.png").stat().st_size > 10_000
        assert (results / "plots" / f"{stem}.pdf").stat().st_size > 5_000
    limits = pd.read_csv(results / "limits.csv")
    contract = [
        "mass",
        "status",
        "xsec_obs",
        "xsec_exp_m2",
        "xsec_exp_m1",
        "xsec_exp",
        "xsec_exp_p1",
        "xsec_exp_p2",
        "coupling_obs",
        "coupling_exp_m2",
        "coupling_exp_m1",
        "coupling_exp",
        "coupling_exp_p1",
        "coupling_exp_p2",
        "p0_local",
        "z_local",
    ]
    assert list(limits.columns[: len(contract)]) == contract
    assert limits["mass"].is_monotonic_increasing and limits["mass"].iloc[0] == pytest.approx(1.0)
    assert (limits["status"] != "failed").all()
    ordered = limits[["xsec_exp_m2", "xsec_exp_m1", "xsec_exp", "xsec_exp_p1", "xsec_exp_p2"]].to_numpy()
    toys = (limits["limit_method"] == "cls_toys").to_numpy()
    assert (ordered[~toys, 1:] > ordered[~toys, :-1]).all()
    assert (ordered[toys, 1:] >= ordered[toys, :-1]).all()  # toy bands of a few events can coincide
    # fit.limit = auto: toy CLs only where the signal window expects fewer than 10 background
    # events; there all but strong deficits (too few of the 300 background-only toys beyond the
    # data for CL_b: they keep the asymptotic limits; none in the present tiny build, the guard's
    # own test is tests/stats/methods/window_sidebands/test_window_toy_limits.py)
    low = (limits["background_window"] < 10).to_numpy()
    assert not (toys & ~low).any() and (low & ~toys).sum() <= 1 and toys.sum() >= 5
    ratio = limits.loc[toys, "xsec_obs"] / limits.loc[toys, "xsec_obs_asymptotic"]
    assert 0.85 < ratio.median() < 1.3 and ratio.between(0.5, 2.0).all()
    # coupling limit: g = sqrt(sigma_lim / (sigma(g=1) BF_inv)); BF_inv = 1/2 above 2 m_mu below 2 m_tau
    row = limits.iloc[0]
    assert row["coupling_fully_invisible_exp"] == pytest.approx(
        (row["xsec_exp"] / row["signal_xsec_fb"]) ** 0.5, rel=1e-6
    )
    assert row["coupling_exp"] == pytest.approx(row["coupling_fully_invisible_exp"] * 2**0.5, rel=1e-3)
    # 0.3 fb^-1: the expected cross-section limit sits at tens to hundreds of fb
    assert 10 < limits["xsec_exp"].median() < 1000


def test_scan_engine_agrees_with_pyhf_and_calibration_meets_its_targets(built):
    """The engine's limits on the channel's own workspaces against pyhf's root finding (every 25th
    hypothesis), look-elsewhere consistent with the local significance, calibration targets met."""
    results = built / "results" / "zprime_invisible"
    limits = pd.read_csv(results / "limits.csv")
    checked = limits[limits["pyhf_check_obs"].notna()]
    assert len(checked) >= 1 and (checked["pyhf_check_obs"] < 0.01).all() and (checked["pyhf_check_exp"] < 0.01).all()
    assert limits["limit_method"].isin(["cls_asymptotic_engine", "cls_toys"]).all()
    assert limits["n_eff_background"].ge(0).all()  # 0: no MC event left in the window (MVA)
    significance = json.loads((results / "significance.json").read_text())
    assert (
        significance["z_global"] <= significance["z_local_max"]
        and len(significance["toy_z_local_max"]) == significance["toys"]
    )
    calibration = json.loads((results / "calibration.json").read_text())
    assert calibration["failed_targets"] == [] and calibration["background"]["toys"] == 200
    assert len(calibration["injection"]) == 8 and {
        round(r["injected"] / r["fitted_mean"]) for r in calibration["injection"]
    } == {1}
    # 3 points x 2 strengths with asymptotic limits, and 1 point x 2 strengths among the toy-CLs
    # hypotheses with toy-CLs limits: their coverage is the scan's statistic's
    toy_rows = [r for r in calibration["injection"] if r.get("limit_method") == "cls_toys"]
    assert len(toy_rows) == 2 and all("scan_limit" not in r and r["coverage"] >= 0.9 - 3 * 0.042 for r in toy_rows)
    # with the MVA the tiny windows hold ~0.3 background events: a background-only toy has n = 0 in
    # most windows and its limit is the median expected one, so the bands are rarely left
    assert calibration["background"]["outside_1sigma"] < 0.5 and calibration["background"]["outside_2sigma"] < 0.15
    assert (results / "plots" / "calibration.png").stat().st_size > 20_000


def test_workspaces_are_valid_pyhf(built):
    files = sorted((built / "results" / "zprime_invisible" / "workspaces").glob("part*/mass_*.json"))
    limits = pd.read_csv(built / "results" / "zprime_invisible" / "limits.csv")
    assert len(files) == len(limits)
    workspace = pyhf.Workspace(json.loads(files[0].read_text()))
    assert workspace.model().config.poi_name == "mu"


def test_data_matches_background_expectation(built):
    flow = pd.read_csv(built / "results" / "zprime_invisible" / "cutflow.csv")
    first = flow[flow["cut"] == "all"].set_index("sample")["yield"]
    expected = sum(first[name] for name in ("mumu_gamma", "tautau", "eemumu"))
    assert abs(first["data"] - expected) < 5 * expected**0.5 + 0.02 * expected


def test_bit_identical_with_one_and_two_cores(built, built_single_core):
    for rel in (
        "results/zprime_invisible/limits.csv",
        "results/zprime_invisible/cutflow.csv",
        "results/zprime_invisible/systematics.csv",
        "results/zprime_invisible/calibration.json",
        "results/zprime_invisible/significance.json",
    ):
        assert (built / rel).read_bytes() == (built_single_core / rel).read_bytes(), rel


def test_nothing_to_do_after_a_build(built):
    result = run(built, "-n", "--configfile", str(TINY))
    assert "Nothing to be done" in result.stdout + result.stderr


def test_bad_config_fails_before_any_job(built, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"channels": {"zprime_invisible": {"luminosity_fb": -5.0}}}))
    result = run(built, "-n", "--configfile", str(TINY), str(path), check=False)
    assert result.returncode != 0
    assert "luminosity_fb" in result.stdout + result.stderr


def test_lint_is_clean():
    result = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0
    assert "Congratulations" in result.stdout + result.stderr


def test_limits_match_the_regression_reference(built):
    """The tiny overlay's limits.csv against tests/workflow/reference/tiny_limits.csv, to 1e-6
    relative (the build is deterministic: same inputs, same numbers). Regenerated, after a
    deliberate change, with tests/workflow/update_reference.py (its docstring has the commands)."""
    from update_reference import COLUMNS, REFERENCE

    reference = pd.read_csv(REFERENCE)
    limits = pd.read_csv(built / "results" / "zprime_invisible" / "limits.csv")[COLUMNS]
    pd.testing.assert_frame_equal(limits, reference, check_exact=False, rtol=1e-6, atol=1e-12)


def test_the_control_sample_ratio_is_one_on_pseudo_data(built):
    """Pseudo-data drawn from the background model: the data/MC MVA efficiency of the reversed
    photon veto is one within its error, and its systematic enters the fit's table."""
    control = json.loads((built / "results/zprime_invisible/mva/control_samples.json").read_text())["photon_seen"]
    assert control["data"]["events"] > 300 and control["mc"]["events"] > 1000  # 717 and 3378 (2026-12-02)
    assert abs(control["ratio"] - 1.0) < 3.0 * control["ratio_error"] + 0.02
    systematics = pd.read_csv(built / "results/zprime_invisible/systematics.csv")
    row = systematics[systematics["name"] == "mva_efficiency"]
    assert len(row) == 1 and float(row["value"].iloc[0]) == pytest.approx(control["systematic"], rel=1e-5)
