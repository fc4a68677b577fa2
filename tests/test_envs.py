"""The conda environment file pins exactly what pyproject.toml pins (pip is the tested path)."""

import pathlib
import tomllib

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_conda_env_matches_pyproject_pins():
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    env = yaml.safe_load((ROOT / "envs" / "darkscan.yaml").read_text())
    pip_section = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    assert sorted(p for p in pip_section if "==" in p) == sorted(pins)
    assert all("==" in pin for pin in pins), "every runtime dependency is pinned exactly"
    assert "python=3.11" in env["dependencies"]


def test_every_rule_names_the_conda_env():
    for smk in (ROOT / "workflow" / "rules").glob("*.smk"):
        text = smk.read_text()
        rules = [line for line in text.splitlines() if line.startswith("rule ")]
        assert len(rules) == text.count('"../../envs/darkscan.yaml"'), smk.name
