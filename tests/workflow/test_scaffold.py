"""`darkscan new-channel` scaffolds a channel that Snakemake plans end to end, editing only config.yaml."""

import hashlib
import json
import os
import subprocess
import sys

import pandas as pd
import pytest
import uproot
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


@pytest.mark.workflow
@pytest.mark.parametrize(("template", "rule"), [("bump", "scan_part"), ("two-mass", "scan_part")])
def test_every_template_plans_its_chain(tmp_path, template, rule):
    repo = copy_repo(tmp_path / "repo")
    new_channel("my_search", root=repo, template=template)
    text = (repo / "config/channels/my_search.yaml").read_text()
    assert "name: my_search" in text and f"--template {template}" in text
    result = run_snakemake(repo, "-n", "results/my_search/limits.csv")
    assert rule in result.stdout + result.stderr


def test_an_unknown_template_is_refused(repo_root, tmp_path):
    with pytest.raises(ValueError, match="unknown template 'peak'; templates: recoil, bump, two-mass"):
        new_channel("my_search", root=tmp_path, template="peak")


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


PLUGIN = '''
"""Test plugin: a variable function, a background process and a model of the search my_search."""

import numpy as np

from darkscan.generate.registry import get_process, register_process
from darkscan.physics.models import Model, register_model
from darkscan.select.variables import Column, get_variables, register_variables, variable_columns

_recoil, _branches = get_variables("dimuon_recoil")


@register_variables(
    "my_recoil",
    branches=_branches,
    columns={**variable_columns("dimuon_recoil"), "recoil_fraction": Column("$M_{recoil}/\\\\sqrt{s}$")},
)
def my_recoil(events, experiment):
    columns = _recoil(events, experiment)
    columns["recoil_fraction"] = columns["recoil_mass"] / 10.58
    return columns


@register_process("my_mumu_gamma", description="mu mu gamma with a photon above 1 GeV (test plugin)")
def my_mumu_gamma(n_events, rng, *, sqrt_s, **options):
    return get_process("mumu_gamma").generate(n_events, rng, sqrt_s=sqrt_s, **{"photon_energy_min": 1.0, **options})


register_model(Model(name="my_model", coupling="g_X", power=2, branchings={"all": lambda m, m2=None: np.ones_like(m)}))
'''

TINY_SEARCH = {
    "chunk_events": 20000,
    "channels": {
        "zprime_invisible": {"enabled": False},
        "dark_higgsstrahlung": {"enabled": False},
        "alp_gammagamma": {"enabled": False},
        "my_search": {
            "luminosity_fb": 0.2,
            "data": {"pilot_events": 20000},  # the pilot runs size MC and pseudo-data: 100k by default
            "signal": {"masses": [1.0, 4.0], "events": 3000},
            "masses": {"min": 1.0, "max": 4.0, "step_resolution_fraction": 8.0},
            "backgrounds": {
                "mumu_gamma": {"process": "my_mumu_gamma", "events": 10000},
                "tautau": {"events": 3000},
                "eemumu": {"events": 10000},
            },
        },
    },
}


@pytest.mark.workflow
def test_a_search_with_its_own_variables_process_and_model_is_added_as_files_and_runs(tmp_path):
    """The plugin module registers a variable function, a background process and a model; the
    channel uses all three; only new files and config/config.yaml change, and the search builds."""
    repo = copy_repo(tmp_path / "repo")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    new_channel("my_search", root=repo)
    (repo / "workflow/darkscan/channels/my_search.py").write_text(PLUGIN)
    channel_file = repo / "config/channels/my_search.yaml"
    channel = yaml.safe_load(channel_file.read_text())
    channel["selection"]["variables"] = "my_recoil"
    channel["model"] = "my_model"  # a file edit: an overlay would merge into the template's scenarios
    channel["coupling"] = {"name": "g_X", "scenarios": {"all": {"label": "BF = 1", "branching": "all"}}}
    channel["selection"]["cuts"].append({"name": "recoil_fraction", "expr": "recoil_fraction < 0.8"})
    channel_file.write_text(yaml.safe_dump(channel, sort_keys=False))
    modified = subprocess.run(
        ["git", "diff", "--name-only"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.split()
    assert modified == ["config/config.yaml"]
    untracked = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.split()
    assert sorted(untracked) == sorted(
        [
            "config/channels/my_search.yaml",
            "workflow/rules/channels/my_search.smk",
            "workflow/darkscan/channels/my_search.py",
            "tests/channels/test_my_search.py",
        ]
    )
    overlay = tmp_path / "tiny_search.yaml"
    overlay.write_text(yaml.safe_dump(TINY_SEARCH))
    run_snakemake(repo, "results/my_search/limits.csv", "--cores", "2", "--configfile", str(overlay))
    limits = pd.read_csv(repo / "results/my_search/limits.csv")
    assert (limits["status"] == "ok").all() and limits["xsec_exp"].gt(0).all()
    assert limits["coupling_all_exp"].gt(0).all()  # the plugin model's scenario
    selected = uproot.open(repo / "results/my_search/selected/mumu_gamma.root")
    assert json.loads(str(selected["metadata"]))["process"] == "my_mumu_gamma"
