"""Fixtures shared by the workflow tests."""

from __future__ import annotations

import pathlib

import pytest
from workflow_helpers import TINY, copy_repo, run_snakemake


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> pathlib.Path:
    """The tiny config built locally with two cores."""
    repo = copy_repo(tmp_path_factory.mktemp("two") / "repo")
    run_snakemake(repo, "--cores", "2", "--configfile", str(TINY))
    return repo
