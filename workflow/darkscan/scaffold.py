"""``darkscan new-channel NAME``: scaffold a new bump-hunt channel that runs as created.

Writes ``config/channels/NAME.yaml`` (from the package's resonance-in-a-spectrum template),
``workflow/rules/channels/NAME.smk``, the plugin module ``workflow/darkscan/channels/NAME.py``
(imported before any registry is read) and its test ``tests/channels/test_NAME.py``, and
registers the channel in ``config/config.yaml`` by appending two lines (its comments and layout
are kept). No other file is touched.
"""

from __future__ import annotations

import logging
import pathlib
import re
import string

import yaml

log = logging.getLogger(__name__)
TEMPLATES = pathlib.Path(__file__).parent / "templates"
NAME = re.compile(r"^[a-z][a-z0-9_]*$")


RULE = re.compile(r"^(?:rule|checkpoint)\s+(\w+)\s*:", re.M)


def reserved_names(root: str | pathlib.Path = ".") -> set[str]:
    """Rule names of the generic workflow (Snakefile and ``workflow/rules/*.smk``): a channel's
    target rule is named after the channel, so these cannot be channel names."""
    root = pathlib.Path(root)
    files = [root / "Snakefile", *sorted((root / "workflow" / "rules").glob("*.smk"))]
    return {match for path in files if path.is_file() for match in RULE.findall(path.read_text())}


#: ``--template`` -> the working channel config the new one starts from: the package's recoil
#: template, or a shipped search (a bump in a spectrum; a two-mass scan in elliptical windows)
CHANNEL_TEMPLATES = {
    "recoil": "package:channel.yaml",
    "bump": "config/channels/alp_gammagamma.yaml",
    "two-mass": "config/channels/dark_higgsstrahlung.yaml",
}


def channel_config_text(name: str, template: str, *, root: pathlib.Path) -> str:
    """The new channel's config: the template with its name replaced."""
    if template not in CHANNEL_TEMPLATES:
        raise ValueError(f"unknown template {template!r}; templates: {', '.join(CHANNEL_TEMPLATES)}")
    source = CHANNEL_TEMPLATES[template]
    if source.startswith("package:"):
        return string.Template((TEMPLATES / source.removeprefix("package:")).read_text()).safe_substitute(name=name)
    path = root / source
    if not path.is_file():
        raise ValueError(f"template {template!r} starts from {path}, which does not exist")
    header = f"# Channel {name}: scaffolded by `darkscan new-channel {name} --template {template}` from {source}.\n"
    return header + re.sub(r"^name: .*$", f"name: {name}", path.read_text(), count=1, flags=re.M)


def new_channel(name: str, *, root: str | pathlib.Path = ".", template: str = "recoil") -> list[pathlib.Path]:
    """Create the channel ``name`` in the repository at ``root``; returns the files written.

    Args:
        name: snake_case channel name (not a workflow rule name).
        root: the repository.
        template: ``recoil`` (a peak in the mass recoiling against mu+ mu-), ``bump`` (a peak in
            a spectrum, from the ALP search) or ``two-mass`` (a 2D scan, from the dark-Higgs search).

    Raises:
        ValueError: the name is not snake_case or reserved, the template is unknown, or the
            channel or one of its files exists.
    """
    root = pathlib.Path(root)
    if template not in CHANNEL_TEMPLATES:
        raise ValueError(f"unknown template {template!r}; templates: {', '.join(CHANNEL_TEMPLATES)}")
    if not NAME.match(name):
        raise ValueError(
            f"channel name {name!r} must be snake_case: a lowercase letter, then lowercase letters, digits or _"
        )
    config_path = root / "config" / "config.yaml"
    if not config_path.is_file():
        raise ValueError(f"{config_path} not found: run darkscan new-channel from the repository root")
    reserved = reserved_names(root)
    if name in reserved:
        raise ValueError(
            f"channel name {name!r} is reserved: the channel's target rule would clash "
            f"with the workflow's rule {name!r} (reserved: {', '.join(sorted(reserved))})"
        )
    config = yaml.safe_load(config_path.read_text())
    if name in config.get("channels", {}):
        raise ValueError(f"channel {name!r} is already registered in {config_path}")
    channel_file = root / "config" / "channels" / f"{name}.yaml"
    rules_file = root / "workflow" / "rules" / "channels" / f"{name}.smk"
    plugin_file = root / "workflow" / "darkscan" / "channels" / f"{name}.py"
    test_file = root / "tests" / "channels" / f"test_{name}.py"
    files = {"channel.yaml": channel_file, "channel.smk": rules_file, "channel_plugin.py": plugin_file}
    files["channel_test.py"] = test_file
    for path in files.values():
        if path.exists():
            raise ValueError(f"{path} already exists; not overwriting it")
    for source, path in files.items():
        if source == "channel.yaml":
            text = channel_config_text(name, template, root=root)
        else:
            text = string.Template((TEMPLATES / source).read_text()).safe_substitute(name=name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    text = config_path.read_text()
    entry = f"  {name}:\n    enabled: true\n    config: config/channels/{name}.yaml\n"
    config_path.write_text(_insert_channel(text, entry))
    log.info("created %s; registered %s in %s", ", ".join(map(str, files.values())), name, config_path)
    return [*files.values(), config_path]


def _insert_channel(text: str, entry: str) -> str:
    """Insert ``entry`` at the end of the top-level ``channels:`` block of config.yaml."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == "channels:"), None)
    if start is None:
        raise ValueError("config.yaml has no top-level 'channels:' block")
    end = start + 1
    while end < len(lines) and (lines[end].startswith(" ") or not lines[end].strip()):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return "".join(lines[:end]) + entry + "".join(lines[end:])
