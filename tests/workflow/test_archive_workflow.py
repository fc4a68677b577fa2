"""`snakemake archive` on the tiny build: HEPData + checksummed tarball, overwrite guard, rebuild.

Reuses the session's tiny build (`built`, a copy without .git, so the archive is named 'nogit').
"""

from __future__ import annotations

import json
import shutil
import zipfile

import pytest

from darkscan.archive.hepdata import validate_submission
from darkscan.archive.rebuild import rebuild_archive
from darkscan.archive.verify import verify_archive
from workflow_helpers import TINY
from workflow_helpers import run_snakemake as run

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def archived(built):
    run(built, "--cores", "2", "archive", "--configfile", str(TINY))
    pointer = json.loads((built / "results" / "archive" / "latest.json").read_text())
    return built, built / pointer["path"]


def test_archive_target_builds_a_verified_archive(archived):
    repo, archive = archived
    assert archive.name == "darkscan-zprime_invisible-nogit.tar.gz"
    assert verify_archive(archive) == []
    assert validate_submission(repo / "results" / "archive" / "hepdata" / "submission.tar.gz") == []
    report = repo / "results" / "archive" / "report.zip"
    with zipfile.ZipFile(report) as zipped:  # Snakemake's zipped report: the page and its files beside it
        assert "report/report.html" in zipped.namelist()
        assert any(name.endswith("/validation.html") for name in zipped.namelist())
    assert report.stat().st_size < 5_000_000


def test_an_existing_different_archive_is_not_overwritten(archived, tmp_path):
    repo, archive = archived
    saved = tmp_path / archive.name
    shutil.copy2(archive, saved)
    archive.write_bytes(b"an older, different archive")
    try:
        result = run(
            repo, "--cores", "1", "archive", "--forcerun", "pack_archive", "--configfile", str(TINY), check=False
        )
        assert result.returncode != 0
        assert (
            "refusing to overwrite" in result.stdout + result.stderr
            and "archive_overwrite=true" in result.stdout + result.stderr
        )
        assert archive.read_bytes() == b"an older, different archive"
        run(repo, "--cores", "1", "archive", "--configfile", str(TINY), "--config", "archive_overwrite=true")
        assert archive.read_bytes() == saved.read_bytes()  # deterministic: the same inputs give the same bytes
    finally:
        shutil.copy2(saved, archive)


def test_rebuild_from_the_archive_gives_identical_limits(archived, tmp_path):
    repo, archive = archived
    target = "results/zprime_invisible/limits.csv"
    status = rebuild_archive(archive, tmp_path / "rebuild", cores=2, targets=[target], snakemake_args=["--quiet"])
    assert status == 0
    assert (tmp_path / "rebuild" / target).read_bytes() == (repo / target).read_bytes()
