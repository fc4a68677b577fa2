"""Shared fixtures: the repository root and loaded default configs."""

from __future__ import annotations

import os
import pathlib

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as in the workflow (common.smk)

import pytest

from darkscan import config as cfg

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture
def repo_root(monkeypatch) -> pathlib.Path:
    """Run from the repository root (config paths are relative to it)."""
    monkeypatch.chdir(ROOT)
    return ROOT


@pytest.fixture
def global_config(repo_root) -> dict:
    return cfg.load_global()


@pytest.fixture
def channel(global_config) -> dict:
    return cfg.channel_config(global_config, "zprime_invisible")


@pytest.fixture
def experiment(global_config) -> dict:
    return cfg.experiment_config(global_config, "belle2")
