"""Fixtures shared by the workflow tests.

The single-core tiny build (``built_single_core``) and the Slurm build (``built_on_slurm``)
start in the background as soon as the tests are collected, so that they run while the
single-threaded unit tests run (the Slurm run mostly waits for the scheduler).
"""

from __future__ import annotations

import pathlib
import shutil
import tempfile

import pytest
import yaml

from workflow_helpers import ROOT, SLURM_OUTPUTS, TINY, BackgroundBuild, copy_repo, run_snakemake, slurm_available

SINGLE_CORE_TEST = "test_bit_identical_with_one_and_two_cores"
SLURM_TEST = "test_slurm_run_equals_local_run_byte_for_byte"
_background: dict[str, BackgroundBuild] = {}


def _start_single_core_build() -> BackgroundBuild:
    repo = copy_repo(pathlib.Path(tempfile.mkdtemp(prefix="darkscan-one-core-")) / "repo")
    # the outputs test_bit_identical_with_one_and_two_cores compares (no notebook, no plots)
    names = ("limits.csv", "cutflow.csv", "systematics.csv", "calibration.json", "significance.json")
    targets = [f"results/zprime_invisible/{name}" for name in names]
    return BackgroundBuild(repo, *targets, "--cores", "1", "--configfile", str(TINY))


def _start_slurm_build() -> BackgroundBuild:
    repo = copy_repo(pathlib.Path(tempfile.mkdtemp(prefix="darkscan-slurm-")) / "repo")
    targets = [f"results/zprime_invisible/{name}" for name in SLURM_OUTPUTS]
    slurm = ("--profile", "profiles/slurm", "--slurm-no-account", "--slurm-status-command", "squeue")
    return BackgroundBuild(repo, *targets, *slurm, "--configfile", str(TINY))


def pytest_collection_finish(session):
    if session.config.option.collectonly:
        return
    names = {item.name for item in session.items}
    if SINGLE_CORE_TEST in names and "single_core" not in _background:
        _background["single_core"] = _start_single_core_build()
    if SLURM_TEST in names and "slurm" not in _background and slurm_available() is None:
        _background["slurm"] = _start_slurm_build()


def pytest_sessionfinish(session):
    for key in ("single_core", "slurm"):
        build = _background.pop(key, None)
        if build is not None:
            build.stop()
            shutil.rmtree(build.repo.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> pathlib.Path:
    """The tiny config built locally with two cores."""
    repo = copy_repo(tmp_path_factory.mktemp("two") / "repo")
    run_snakemake(repo, "--cores", "2", "--configfile", str(TINY))
    return repo


@pytest.fixture(scope="session")
def built_single_core() -> pathlib.Path:
    """The tiny config built with one core (started in the background at collection)."""
    if "single_core" not in _background:
        _background["single_core"] = _start_single_core_build()
    return _background["single_core"].wait()


@pytest.fixture(scope="session")
def built_on_slurm() -> pathlib.Path:
    """The tiny config's main outputs built as Slurm jobs (started in the background at collection)."""
    reason = slurm_available()
    if reason and "slurm" not in _background:
        pytest.skip(reason)
    if "slurm" not in _background:
        _background["slurm"] = _start_slurm_build()
    return _background["slurm"].wait()


@pytest.fixture(scope="session")
def built_side_channels(tmp_path_factory) -> pathlib.Path:
    """alp_gammagamma, dark_higgsstrahlung and darkphoton_invisible on their tiny overlays, in one
    two-core build.

    One Snakemake run for the three channels keeps both cores busy through each channel's serial
    tail (scan, look-elsewhere, plots); every other channel of config.yaml is disabled.
    """
    overlays = {
        "alp_gammagamma": "tiny_alp.yaml",
        "dark_higgsstrahlung": "tiny_dark_higgs.yaml",
        "darkphoton_invisible": "tiny_darkphoton_invisible.yaml",
    }
    channels = {
        name: {"enabled": False} for name in yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["channels"]
    }
    overlay = {}
    for name, file in overlays.items():
        tiny = yaml.safe_load((ROOT / "tests" / "configs" / file).read_text())
        channels[name] = tiny["channels"][name]
        overlay |= tiny
    overlay["channels"] = channels
    tmp = tmp_path_factory.mktemp("side_channels")
    (tmp / "overlay.yaml").write_text(yaml.safe_dump(overlay))
    repo = copy_repo(tmp / "repo")
    run_snakemake(repo, *overlays, "--cores", "2", "--configfile", str(tmp / "overlay.yaml"))
    return repo
