"""Archive for publication: HEPData submission, deterministic checksummed tarball, verify, overwrite guard.

Fast unit tests on a synthetic results tree (no Snakemake run); the end-to-end archive and the
rebuild from it are in tests/workflow/test_archive_workflow.py.
"""

from __future__ import annotations

import io
import json
import pathlib
import tarfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import pytest
import yaml

from darkscan.archive import provenance
from darkscan.archive.hepdata import build_submission, validate_submission
from darkscan.archive.tarball import ArchiveExistsError, archive_bytes, overwrite_allowed, write_archive
from darkscan.archive.tarfiles import TarEntry, write_tar
from darkscan.archive.verify import verify_archive

CHANNEL = "zprime_invisible"
MASSES = [1.0, 2.0, 3.0]


def _limits(channel: dict) -> pd.DataFrame:
    rows = []
    for i, mass in enumerate(MASSES):
        failed = i == 1
        row = {"mass": mass, "status": "failed" if failed else "ok"}
        for prefix in ["xsec", "coupling", *(f"coupling_{s}" for s in channel["coupling"]["scenarios"])]:
            scale = 100.0 if prefix == "xsec" else 0.01
            values = [0.5, 0.7, 1.0, 1.4, 2.0]
            row[f"{prefix}_obs"] = float("nan") if failed else 1.1 * scale
            for suffix, v in zip(("exp_m2", "exp_m1", "exp", "exp_p1", "exp_p2"), values, strict=False):
                row[f"{prefix}_{suffix}"] = float("nan") if failed else v * scale
        for s in channel["coupling"]["scenarios"]:
            row[f"bf_{s}"] = 0.5
        row["p0_local"], row["z_local"] = (float("nan"), float("nan")) if failed else (0.3, 0.52)
        row["limit_method"] = "cls_toys" if i == 2 else "cls_asymptotic_engine"
        rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture
def results(tmp_path, channel) -> pathlib.Path:
    """A small but complete results/<channel> tree, with one failed fit point."""
    base = tmp_path / "results" / CHANNEL
    (base / "plots").mkdir(parents=True)
    _limits(channel).to_csv(base / "limits.csv", index=False)
    pd.DataFrame(
        [
            {
                "sample": s,
                "cut": c,
                "label": lab,
                "events": n,
                "yield": n * 1.5,
                "yield_err": n**0.5,
                "efficiency": n / 100,
            }
            for s in ("signal_m1p000", "data")
            for c, lab, n in (
                ("all", "all", 100),
                ("trigger", "two-track trigger", 80),
                ("muon_pt", "muon $p_T > 0.4$ GeV", 50),
            )
        ]
    ).to_csv(base / "cutflow.csv", index=False)
    (base / "systematics.csv").write_text(
        "name,applies_to,modifier,value,derivation\n"
        "luminosity,signal,normsys,0.007,experiment belle2\n"
        'background_mc_statistics,background,staterror,,"per-bin MC statistics, Barlow-Beeston lite"\n'
    )
    (base / "significance.json").write_text(
        json.dumps({"z_local_max": 0.52, "mass_at_max": 1.0, "p_global": 0.81, "z_global": 0.0, "toys": 200})
    )
    (base / "systematics.tex").write_text("\\begin{tabular}{lr}\\end{tabular}\n")
    (base / "validation.html").write_text("<html><body>validation</body></html>\n")
    for stem in ("limits_xsec", "limits_coupling", "local_significance"):
        fig, ax = plt.subplots(figsize=(2, 2))
        ax.plot([1, 2], [1, 2])
        fig.savefig(base / "plots" / f"{stem}.png")
        plt.close(fig)
        (base / "plots" / f"{stem}.pdf").write_bytes(b"%PDF-1.4 placeholder\n")
    for i, mass in enumerate(MASSES):
        part = base / "workspaces" / f"part{i % 2}"
        part.mkdir(parents=True, exist_ok=True)
        (part / f"mass_{mass:.4f}.json").write_text(json.dumps({"channels": [], "mass": mass}))
    return tmp_path / "results"


@pytest.fixture
def source(tmp_path) -> pathlib.Path:
    """A source tree without git, with outputs and an environment that must stay out of source.tar."""
    root = tmp_path / "src"
    (root / "workflow" / "darkscan").mkdir(parents=True)
    (root / "Snakefile").write_text("rule all:\n    input: []\n")
    (root / "workflow" / "darkscan" / "__init__.py").write_text("")
    (root / ".gitignore").write_text("results/\nlogs/\n*.egg-info/\n/build/\n")
    for ignored in (
        "results/x/limits.csv",
        ".venv/bin/python",
        "logs/a.log",
        "workflow/darkscan.egg-info/PKG-INFO",
        "build/lib/x.py",
        ".snakemake/log/x",
    ):
        (root / ignored).parent.mkdir(parents=True, exist_ok=True)
        (root / ignored).write_text("ignored")
    (root / "workflow" / "schemas").symlink_to("darkscan")
    return root


def _channels(global_config):
    from darkscan import config as cfg

    ch = cfg.channel_config(global_config, CHANNEL)
    return {CHANNEL: (ch, cfg.experiment_config(global_config, ch["experiment"]))}


def test_hepdata_submission_validates_and_keeps_failed_points(results, global_config, tmp_path):
    out = build_submission(
        tmp_path / "hepdata" / "submission.tar.gz", channels=_channels(global_config), results_dir=results
    )
    assert validate_submission(out) == []
    assert sorted(p.name for p in (tmp_path / "hepdata").iterdir()) == [
        "submission.tar.gz"
    ]  # nothing left in cwd or beside it
    with tarfile.open(out) as tar:
        names = tar.getnames()
        docs = list(yaml.safe_load_all(tar.extractfile("submission.yaml")))
        xsec = yaml.safe_load(tar.extractfile("cross-section_limits_(z'_to_invisible).yaml"))
        excess = yaml.safe_load(tar.extractfile("global_significance_(z'_to_invisible).yaml"))
        workspace_tar = tarfile.open(fileobj=io.BytesIO(tar.extractfile("zprime_invisible_workspaces.tar.gz").read()))
    tables = {d["name"]: d for d in docs if "name" in d}
    assert set(tables) == {
        "Cross-section limits (Z' to invisible)",
        "Coupling limits, BF from widths (Z' to invisible)",
        "Coupling limits, BF = 1 (Z' to invisible)",
        "Local significance (Z' to invisible)",
        "Global significance (Z' to invisible)",
        "Cut flow (Z' to invisible)",
        "Systematic uncertainties (Z' to invisible)",
    }
    table = tables["Cross-section limits (Z' to invisible)"]
    assert "failed" in table["description"] and "2 GeV" in table["description"]
    assert "90%" in table["description"] and "fb$^{-1}$" in table["description"]
    assert "background-only pseudo-data" in table["description"]  # the default channel has no recorded data
    assert "CLs, asymptotic formulae (2 hypotheses); CLs from pseudo-experiments (1 hypothesis)" in table["description"]
    assert xsec["dependent_variables"][0]["header"]["name"].startswith("Observed (pseudo-data) 90% CL upper limit")
    keywords = {k["name"]: k["values"] for k in table["keywords"]}
    assert keywords["phrases"].count("Upper limit") == 1  # the channel's phrases and the table's, once each
    assert [v["values"][0]["value"] for v in excess["dependent_variables"]] == [0.52, 0.81, 0.0, 200]
    assert (
        keywords["reactions"] == ["E+ E- --> MU+ MU- Z'"]
        and keywords["cmenergies"] == [pytest.approx(10.58, abs=0.01)]
        and keywords["observables"]
    )
    locations = [r["location"] for r in table["additional_resources"]]
    assert {
        "zprime_invisible_limits_xsec.png",
        "thumb_zprime_invisible_limits_xsec.png",
        "zprime_invisible_limits_xsec.pdf",
    } <= set(locations)
    # failed point: kept, limits '-' with no error entry, status column present
    observed, expected, status = xsec["dependent_variables"]
    assert [v["value"] for v in observed["values"]][1] == "-"
    assert "errors" not in expected["values"][1] and len(expected["values"][0]["errors"]) == 2
    assert expected["values"][0]["errors"][0]["asymerror"] == {
        "minus": pytest.approx(-30.0),
        "plus": pytest.approx(40.0),
    }
    assert [v["value"] for v in status["values"]] == ["ok", "failed", "ok"]
    workspaces = [r for r in docs[0]["additional_resources"] if r.get("type") == "HistFactory"]
    assert [r["location"] for r in workspaces] == ["zprime_invisible_workspaces.tar.gz"]  # one archive per channel
    assert (
        "3 files, one per mass hypothesis" in workspaces[0]["description"] and "in fb" in workspaces[0]["description"]
    )
    assert "zprime_invisible_workspaces.tar.gz" in names
    members = workspace_tar.getnames()
    assert members == [
        "zprime_invisible/index.json",
        *(f"zprime_invisible/mass_{m:.4f}.json" for m in MASSES),
    ]
    index = json.load(workspace_tar.extractfile("zprime_invisible/index.json"))
    assert index["poi"] == "mu" and index["poi_unit"] == "fb"
    assert [w["mass"] for w in index["workspaces"]] == MASSES


def test_invalid_submission_reports_validator_messages(tmp_path):
    bad = tmp_path / "bad.tar.gz"
    with bad.open("wb") as stream:
        write_tar(
            stream,
            [
                TarEntry(
                    "submission.yaml",
                    b"---\ncomment: x\nadditional_resources:\n- {description: w, location: missing.json}\n",
                )
            ],
            compress=True,
        )
    messages = validate_submission(bad)
    assert messages and all(m.startswith("submission.yaml: error:") for m in messages)


def _archive(results, source, global_config, tmp_path, name="darkscan-zprime_invisible-nogit.tar.gz") -> bytes:
    hepdata = build_submission(
        tmp_path / "hd" / "submission.tar.gz", channels=_channels(global_config), results_dir=results
    )
    report = tmp_path / "report.zip"
    report.write_bytes(b"PK placeholder of the zipped report")
    return archive_bytes(
        name=name,
        channels=[CHANNEL],
        config=global_config,
        root=source,
        results_dir=results,
        hepdata=hepdata,
        report=report,
    )


def test_archive_is_deterministic_complete_and_verifies(results, source, global_config, tmp_path):
    data = _archive(results, source, global_config, tmp_path)
    assert data == _archive(results, source, global_config, tmp_path)  # same inputs, same bytes
    path = tmp_path / "a.tar.gz"
    path.write_bytes(data)
    assert verify_archive(path) == []
    with tarfile.open(path) as tar:
        members = {m.name.split("/", 1)[1]: m for m in tar.getmembers()}
        assert all(m.mtime == members["MANIFEST"].mtime and m.uid == 0 and m.uname == "" for m in members.values())
        source_tar = tarfile.open(fileobj=io.BytesIO(tar.extractfile(members["source.tar"]).read()))
        provenance_doc = yaml.safe_load(tar.extractfile(members["PROVENANCE.yaml"]))
        resolved = yaml.safe_load(tar.extractfile(members["config/resolved.yaml"]))
        seeds = yaml.safe_load(tar.extractfile(members["seeds.yaml"]))
        versions = tar.extractfile(members["versions.txt"]).read().decode()
    for rel in (
        "MANIFEST",
        "versions.txt",
        "seeds.yaml",
        "config/resolved.yaml",
        "config/channels/zprime_invisible.yaml",
        "config/experiments/belle2.yaml",
        "hepdata/submission.tar.gz",
        "report.zip",
        "results/zprime_invisible/limits.csv",
        "results/zprime_invisible/plots/limits_xsec.pdf",
        "results/zprime_invisible/workspaces/part1/mass_2.0000.json",
    ):
        assert rel in members, rel
    assert sorted(source_tar.getnames()) == [
        ".gitignore",
        "Snakefile",
        "workflow/darkscan/__init__.py",
        "workflow/schemas",
    ]
    assert source_tar.getmember("workflow/schemas").issym()
    assert provenance_doc["source"] == {"commit": "nogit", "short": "nogit", "dirty": False, "git": False}
    assert resolved["channels"] == global_config["channels"] and seeds["global_seed"] == global_config["seed"]
    assert "hepdata-lib==0.21.0" in versions and "pyhf==" in versions


def _rewrite(path: pathlib.Path, out: pathlib.Path, *, change=None, drop=None, add=None) -> pathlib.Path:
    """Copy archive ``path`` to ``out`` with one member's first byte changed, one dropped or one added."""
    entries = []
    with tarfile.open(path) as tar:
        top = tar.getmembers()[0].name.split("/")[0]
        for member in tar.getmembers():
            data = tar.extractfile(member).read()
            rel = member.name.split("/", 1)[1]
            if rel == drop:
                continue
            if rel == change:
                data = bytes([data[0] ^ 1]) + data[1:]
            entries.append(TarEntry(member.name, data))
    if add:
        entries.append(TarEntry(f"{top}/{add}", b"extra"))
    with out.open("wb") as stream:
        write_tar(stream, entries, compress=True)
    return out


def test_tampered_archives_fail_verify_naming_the_file(results, source, global_config, tmp_path):
    good = tmp_path / "good.tar.gz"
    good.write_bytes(_archive(results, source, global_config, tmp_path))
    limits = "results/zprime_invisible/limits.csv"
    problems = verify_archive(_rewrite(good, tmp_path / "changed.tar.gz", change=limits))
    assert len(problems) == 1 and problems[0].startswith(f"{limits}: checksum differs")
    problems = verify_archive(
        _rewrite(good, tmp_path / "removed.tar.gz", drop="results/zprime_invisible/plots/limits_xsec.png")
    )
    assert problems == ["results/zprime_invisible/plots/limits_xsec.png: missing (listed in MANIFEST)"]
    problems = verify_archive(_rewrite(good, tmp_path / "added.tar.gz", add="results/zprime_invisible/notes.txt"))
    assert problems == ["results/zprime_invisible/notes.txt: extra file (not listed in MANIFEST)"]
    raw = bytearray(good.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (tmp_path / "corrupt.tar.gz").write_bytes(bytes(raw))
    assert verify_archive(tmp_path / "corrupt.tar.gz")


def test_cli_verify_exit_status(results, source, global_config, tmp_path, capsys):
    from darkscan.cli import main

    good = tmp_path / "good.tar.gz"
    good.write_bytes(_archive(results, source, global_config, tmp_path))
    assert main(["verify", str(good)]) == 0
    assert main(["verify", str(_rewrite(good, tmp_path / "bad.tar.gz", change="seeds.yaml"))]) == 1
    assert "seeds.yaml: checksum differs" in capsys.readouterr().err


def test_existing_archive_is_never_overwritten_silently(tmp_path):
    final = tmp_path / "darkscan-x-abc1234.tar.gz"
    assert write_archive(b"first", final, overwrite=False)
    assert not write_archive(b"first", final, overwrite=False)  # identical content: kept, no error
    with pytest.raises(ArchiveExistsError, match="archive_overwrite=true"):
        write_archive(b"second", final, overwrite=False)
    assert final.read_bytes() == b"first"
    assert write_archive(b"second", final, overwrite=True) and final.read_bytes() == b"second"
    assert [p.name for p in tmp_path.iterdir()] == [final.name]  # no temporary left


@pytest.mark.parametrize(
    ("value", "expected"), [(True, True), (False, False), ("true", True), ("False", False), ("no", False)]
)
def test_overwrite_flag_accepts_command_line_strings(value, expected):
    assert overwrite_allowed({"archive_overwrite": value}) is expected
    with pytest.raises(ValueError, match="archive_overwrite"):
        overwrite_allowed({"archive_overwrite": "maybe"})


def test_archive_name_and_source_state_without_git(source):
    assert provenance.archive_name(["a", "b"], "nogit") == "darkscan-a+b-nogit.tar.gz"
    assert provenance.source_state(source).short == "nogit"
    with pytest.raises(ValueError):
        provenance.archive_name([], "abc")


def test_a_zipped_report_is_rewritten_byte_for_byte_reproducibly(tmp_path):
    import time
    import zipfile

    from darkscan.archive.report import ZIP_TIME, normalise_zip

    def write(path):
        with zipfile.ZipFile(path, "w") as zipped:
            zipped.writestr("report/report.html", "<html>page</html>")
            zipped.writestr("report/data/raw/ab/limits.csv", "mass,xsec_obs\n1,2\n")
        normalise_zip(path)
        return path.read_bytes()

    first = write(tmp_path / "a.zip")
    time.sleep(2.1)  # a zip's time stamps have a resolution of 2 s
    assert write(tmp_path / "b.zip") == first
    with zipfile.ZipFile(tmp_path / "a.zip") as zipped:
        assert [i.filename for i in zipped.infolist()] == ["report/data/raw/ab/limits.csv", "report/report.html"]
        assert {i.date_time for i in zipped.infolist()} == {ZIP_TIME}
        assert zipped.read("report/report.html") == b"<html>page</html>"


def test_bayesian_limits_are_called_credibility_in_the_tables(results, global_config, tmp_path):
    channels = _channels(global_config)
    channel, experiment = channels[CHANNEL]
    channel = {**channel, "fit": {**channel["fit"], "limit": "bayesian"}}
    out = build_submission(tmp_path / "s.tar.gz", channels={CHANNEL: (channel, experiment)}, results_dir=results)
    with tarfile.open(out) as tar:
        xsec = yaml.safe_load(tar.extractfile("cross-section_limits_(z'_to_invisible).yaml"))
    names = [v["header"]["name"] for v in xsec["dependent_variables"][:2]]
    assert all("90% credibility upper limit" in name for name in names), names
