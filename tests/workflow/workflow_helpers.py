"""Helpers of the workflow tests: copies of the repository and Snakemake runs."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "configs" / "tiny.yaml"
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
#: the outputs the Slurm run builds and compares with the local build
SLURM_OUTPUTS = ("limits.csv", "cutflow.csv", "systematics.csv", "systematics.tex")


def slurm_available() -> str | None:
    """None if a Slurm cluster answers with an idle node, else the reason to skip."""
    if shutil.which("sinfo") is None:
        return "sinfo not found (start one with ../shared/tools/local-slurm start)"
    states = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    if states.returncode != 0 or not any(s in states.stdout for s in ("idle", "mixed")):
        return f"no idle Slurm node ({states.stdout.strip() or states.stderr.strip()})"
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "snakemake-executor-plugin-slurm is not installed (pip install -e '.[cluster]')"
    return None


def copy_repo(dest: pathlib.Path) -> pathlib.Path:
    """Copy the working tree (no outputs, no virtual environment, no git) to ``dest``."""
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "results", "logs", ".snakemake", "__pycache__", ".pytest_cache", "rules", "*.egg-info"
    )
    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)
    shutil.copytree(ROOT / "workflow" / "rules", dest / "workflow" / "rules", dirs_exist_ok=True)
    return dest


def run_snakemake(repo: pathlib.Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run Snakemake in ``repo``; on failure the assertion shows the end of its output."""
    result = subprocess.run(
        [*SNAKEMAKE, *args], cwd=repo, capture_output=True, text=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    )
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
    return result


class BackgroundBuild:
    """A Snakemake build running in the background while other tests use the other core.

    Started by tests/workflow/conftest.py when the collected tests need it; :meth:`wait` returns
    the repository once the build succeeded (or fails the test with the end of its log).
    """

    def __init__(self, repo: pathlib.Path, *args: str) -> None:
        self.repo, self.args = repo, args
        self.log = repo.parent / "snakemake.log"
        with self.log.open("w") as stream:
            env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
            self.process = subprocess.Popen(
                [*SNAKEMAKE, *args], cwd=repo, stdout=stream, stderr=subprocess.STDOUT, env=env
            )

    def wait(self) -> pathlib.Path:
        if self.process.wait() != 0:
            raise AssertionError(f"snakemake {' '.join(self.args)} failed:\n{self.log.read_text()[-6000:]}")
        return self.repo

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
