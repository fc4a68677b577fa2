"""The darkscan command line: one JSON object per cross section, errors that name what is wrong."""

import json

import pytest

from darkscan.cli import main
from darkscan.physics.constants import ALPHA_EM, GEV2_TO_FB


def test_xsec_prints_one_json_object(repo_root, capsys):
    assert main(["xsec", "belle2", "mumu_zprime", "--mass", "2.0", "--coupling", "0.01", "--events", "50000"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"process", "experiment", "xsec_fb", "xsec_err_fb"} <= set(result)
    # sigma/g'^2 = 34.67 pb at 2 GeV (1M-event integration); g' = 0.01 -> 3.467 fb
    assert result["xsec_fb"] == pytest.approx(3.467, rel=0.02)
    assert result["xsec_err_fb"] < 0.01 * result["xsec_fb"]


def test_born_scale_sanity():
    """The constants used by every cross section: 4 pi alpha^2 / 3s at 10.58 GeV = 0.776 nb."""
    assert 4 * 3.141592653589793 * ALPHA_EM**2 / (3 * 10.58**2) * GEV2_TO_FB == pytest.approx(0.776e6, rel=2e-3)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["xsec", "belle3", "tautau"], "unknown experiment 'belle3'; known experiments"),
        (["xsec", "belle2", "nope"], "unknown process 'nope' (registered processes: "),
        (["xsec", "belle2", "mumu_zprime", "--mass", "12"], "outside the allowed range"),
        (["xsec", "belle2", "tautau", "--theta-min", "20"], "no --theta-min/--theta-max"),
    ],
)
def test_xsec_errors_name_what_is_wrong(repo_root, capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("experiment", "sqrt_s"), [("kloe", 1.0195), ("bes3", 3.773)])
def test_xsec_at_symmetric_machines_from_any_directory(tmp_path, monkeypatch, capsys, experiment, sqrt_s):
    """beams.sqrt_s applied (it crashed before); configs found next to the package outside the repo.
    Born mu mu: 4 pi alpha^2 / 3s = 86.85 nb / s[GeV^2]."""
    monkeypatch.chdir(tmp_path)
    assert main(["xsec", experiment, "mumu"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["sqrt_s"] == pytest.approx(sqrt_s, abs=1e-4)
    assert result["xsec_fb"] == pytest.approx(86.85e6 / sqrt_s**2, rel=2e-3)


def test_a_missing_mass_is_named_and_version_is_printed(repo_root, capsys):
    assert main(["xsec", "belle2", "gamma_alp"]) == 2
    assert "process 'gamma_alp' needs --mass (GeV)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out.startswith("darkscan ")


def test_xsec_says_whether_the_number_is_born_level(repo_root, capsys):
    """The Physics Book's mu mu(gamma) at 10.58 GeV is 1.148 nb; darkscan's closed form is the Born 0.776 nb."""
    assert main(["xsec", "belle2", "mumu"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["xsec_fb"] == pytest.approx(0.776e6, rel=5e-3)
    assert result["radiative_corrections"].startswith("none") and "Born" in result["description"]


def test_tau_pairs_answer_from_their_normalisation_without_generating(repo_root, capsys):
    """0.919 nb x BF(tau -> mu nu nu)^2 (0.1739^2) = 27.8 pb, the sum of the generators' weights."""
    for process in ("tautau", "tautau_qed"):
        assert main(["xsec", "belle2", process]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["method"] == "closed form" and result["xsec_fb"] == pytest.approx(27.8e3, rel=5e-3)
        assert "Physics Book" in result["radiative_corrections"]
