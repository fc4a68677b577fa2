"""Tests of the search ${name} (scaffolded by ``darkscan new-channel ${name}``): its config
resolves and passes the checks run before any job; add tests of its own plugin pieces here."""

import importlib

from darkscan import config as cfg
from darkscan import preflight


def test_${name}_config_resolves_and_passes_the_preflight_checks(repo_root):
    global_config = cfg.load_global()
    channel = cfg.channel_config(global_config, "${name}")
    sqrt_s = cfg.Beams(**cfg.experiment_config(global_config, channel["experiment"])["beams"]).sqrt_s
    preflight.check_channel(channel, where="config/channels/${name}.yaml", sqrt_s=sqrt_s)
    assert channel["name"] == "${name}" and channel["luminosity_fb"] > 0


def test_${name}_plugin_imports():
    importlib.import_module("darkscan.channels.${name}")
