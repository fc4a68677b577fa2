"""Discovery of the searches' plugin modules (:mod:`darkscan.channels`).

The registries (:mod:`darkscan.generate.registry`, :mod:`darkscan.select.variables`,
:mod:`darkscan.physics.models`, :mod:`darkscan.stats.methods`, :mod:`darkscan.stage_inputs`)
call :func:`load_plugins` before a lookup, so what a plugin registers is found wherever a name
is looked up.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil

log = logging.getLogger(__name__)
_LOADED: list[str] | None = None


def load_plugins() -> list[str]:
    """Import every module of :mod:`darkscan.channels` once; returns their names."""
    global _LOADED
    if _LOADED is not None:
        return _LOADED
    _LOADED = []  # set first: a plugin that looks up a registry while importing does not recurse
    from darkscan import channels

    for module in sorted(pkgutil.iter_modules(channels.__path__), key=lambda m: m.name):
        if not module.name.startswith("_"):
            importlib.import_module(f"{channels.__name__}.{module.name}")
            _LOADED.append(module.name)
            log.debug("loaded plugin darkscan.channels.%s", module.name)
    return _LOADED
