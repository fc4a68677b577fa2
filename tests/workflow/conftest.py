"""Fixtures shared by the workflow tests.

Every tiny build the collected tests need starts in the background as soon as the tests are
collected: the two-core build (``built``), the side channels (``built_side_channels``), the
single-core build (``built_single_core``) and the Slurm build (``built_on_slurm``). They run on
the core that the single-threaded unit tests leave free (the Slurm run mostly waits for the
scheduler); a fixture waits for its build.
"""

from __future__ import annotations

import pathlib
import shutil
import tempfile

import pytest
import yaml

from workflow_helpers import ROOT, SLURM_OUTPUTS, TINY, BackgroundBuild, copy_repo, slurm_available

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


def _start_two_core_build() -> BackgroundBuild:
    repo = copy_repo(pathlib.Path(tempfile.mkdtemp(prefix="darkscan-two-cores-")) / "repo")
    return BackgroundBuild(repo, "--cores", "2", "--configfile", str(TINY))


def pytest_collection_finish(session):
    if session.config.option.collectonly:
        return
    names = {item.name for item in session.items}
    fixtures = {name for item in session.items for name in getattr(item, "fixturenames", ())}
    if SINGLE_CORE_TEST in names and "single_core" not in _background:
        _background["single_core"] = _start_single_core_build()
    if SLURM_TEST in names and "slurm" not in _background and slurm_available() is None:
        _background["slurm"] = _start_slurm_build()
    for fixture, (key, start) in _BUILDS.items():
        if fixture in fixtures and key not in _background:
            _background[key] = start()


def pytest_sessionfinish(session):
    for key in ("single_core", "slurm", *(key for key, _ in _BUILDS.values())):
        build = _background.pop(key, None)
        if build is not None:
            build.stop()
            shutil.rmtree(build.repo.parent, ignore_errors=True)


def _wait(key: str, start) -> pathlib.Path:
    if key not in _background:
        _background[key] = start()
    return _background[key].wait()


@pytest.fixture(scope="session")
def built() -> pathlib.Path:
    """The tiny config built locally with two cores (started in the background at collection)."""
    return _wait(*_BUILDS["built"])


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
def built_side_channels() -> pathlib.Path:
    """alp_gammagamma, dark_higgsstrahlung, darkphoton_invisible and lfv_zprime on their tiny overlays,
    in one two-core build (started in the background at collection)."""
    return _wait(*_BUILDS["built_side_channels"])


def _start_side_channel_build() -> BackgroundBuild:
    """One Snakemake run for the three side channels keeps both cores busy through each channel's
    serial tail (scan, look-elsewhere, plots); every other channel of config.yaml is disabled."""
    overlays = {
        "alp_gammagamma": "tiny_alp.yaml",
        "dark_higgsstrahlung": "tiny_dark_higgs.yaml",
        "darkphoton_invisible": "tiny_darkphoton_invisible.yaml",
        "lfv_zprime": "tiny_lfv_zprime.yaml",
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
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="darkscan-side-channels-"))
    (tmp / "overlay.yaml").write_text(yaml.safe_dump(overlay))
    repo = copy_repo(tmp / "repo")
    return BackgroundBuild(repo, *overlays, "--cores", "2", "--configfile", str(tmp / "overlay.yaml"))


#: fixture -> (key of its background build, the function starting it)
_BUILDS = {
    "built": ("two_cores", _start_two_core_build),
    "built_side_channels": ("side_channels", _start_side_channel_build),
}
