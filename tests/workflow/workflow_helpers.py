"""Helpers of the workflow tests: copies of the repository and Snakemake runs."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "configs" / "tiny.yaml"
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def copy_repo(dest: pathlib.Path) -> pathlib.Path:
    """Copy the working tree (no outputs, no virtual environment, no git) to ``dest``."""
    ignore = shutil.ignore_patterns(".git", ".venv", "results", "logs", ".snakemake", "__pycache__", ".pytest_cache", "rules", "*.egg-info")
    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)
    shutil.copytree(ROOT / "workflow" / "rules", dest / "workflow" / "rules", dirs_exist_ok=True)
    return dest


def run_snakemake(repo: pathlib.Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run Snakemake in ``repo``; on failure the assertion shows the end of its output."""
    result = subprocess.run([*SNAKEMAKE, *args], cwd=repo, capture_output=True, text=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
    return result
