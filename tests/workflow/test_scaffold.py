"""`darkscan new-channel` scaffolds a channel that Snakemake plans end to end, editing only config.yaml."""

import hashlib
import os
import subprocess
import sys

import pytest
import yaml

from darkscan.scaffold import new_channel
from workflow_helpers import copy_repo, run_snakemake


def _digests(root):
    return {p.relative_to(root): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}


@pytest.mark.workflow
def test_new_channel_plans_the_full_chain(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    before = _digests(repo)
    written = new_channel("my_search", root=repo)
    after = _digests(repo)
    changed = {p for p in before if before[p] != after.get(p)}
    added = set(after) - set(before)
    assert changed == {repo.joinpath("config/config.yaml").relative_to(repo)}
    new_files = {
        "config/channels/my_search.yaml",
        "workflow/rules/channels/my_search.smk",
        "workflow/darkscan/channels/my_search.py",
        "tests/channels/test_my_search.py",
    }
    assert {p.relative_to(repo).as_posix() for p in written} == new_files | {"config/config.yaml"}
    assert {p.as_posix() for p in added} == new_files
    # the scaffolded test passes in the copy (its plugin module imports, its config passes preflight)
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/channels/test_my_search.py"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(repo / "workflow")},
    )
    assert tests.returncode == 0, tests.stdout[-2000:]
    config = yaml.safe_load((repo / "config/config.yaml").read_text())
    assert config["channels"]["my_search"] == {"enabled": True, "config": "config/channels/my_search.yaml"}
    assert config["channels"]["zprime_invisible"]["enabled"] is True  # untouched
    result = run_snakemake(repo, "-n", "results/my_search/limits.csv")
    text = result.stdout + result.stderr
    for rule in (
        "generate_sample",
        "pseudo_data_chunk",
        "select_sample",
        "aggregate_systematics",
        "scan_part",
        "merge_limits",
    ):
        assert rule in text
    result = run_snakemake(repo, "-n", "my_search")  # the channel's own target rule
    assert "plot_limits" in result.stdout + result.stderr


def test_new_channel_refuses_bad_or_existing_names(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config/config.yaml").write_text("channels:\n  taken:\n    config: x.yaml\nexperiments: {}\n")
    with pytest.raises(ValueError, match="snake_case"):
        new_channel("Bad-Name", root=tmp_path)
    with pytest.raises(ValueError, match="already registered"):
        new_channel("taken", root=tmp_path)


def test_new_channel_refuses_the_names_of_workflow_rules(repo_root):
    from darkscan.scaffold import reserved_names

    assert {"all", "merge_limits", "scan_part", "archive", "plot_limits"} <= reserved_names(repo_root)
    with pytest.raises(ValueError, match="reserved.*rule 'merge_limits'"):
        new_channel("merge_limits", root=repo_root)
