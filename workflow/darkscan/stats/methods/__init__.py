"""Fit methods: the extension point through which a channel chooses how it is scanned.

A channel names its method with ``fit.method`` (default ``window_sidebands``: a 1D resonance in
a spectrum, one pyhf model per hypothesis). A method bundles three functions, all keyword-only:

* ``load_signal_model(signal_files, *, channel)`` -> an object with ``points`` (each with
  ``mass``, ``efficiency``, ``efficiency_err``) and ``at(mass, *, exclude_generated=False)``
  returning something with ``efficiency`` (used by the systematics table);
* ``scan_part(*, channel, signal_files, histograms_path, systematics_path, part, n_parts,
  out_csv, workspace_dir)`` -> DataFrame of limit rows (columns of README.md's limits.csv contract
  without the coupling columns; ``signal_xsec_fb`` at the generated coupling; ``mass2`` in 2D);
* ``write_significance(limits_csv, histograms_path, out_json, *, channel, seed, workspace_dirs)``
  -> dict (``toy_z_local_max``: the toys' largest local Z, the calibration's reference);
* ``calibrate(*, channel, seed, limits_csv, histograms_path, systematics_path,
  significance_json, workspace_dirs, out_json)`` -> dict: the pseudo-experiment ensembles of
  :mod:`darkscan.stats.calibration` (optional: a method without it has no calibration, and its
  rule says so).

A method is a package (or a plugin module of :mod:`darkscan.channels`) that registers itself on
import: its ``__init__.py`` imports its functions and calls
``register_method(FitMethod(name, load_signal_model, scan_part, write_significance, calibrate))``.
The built-in methods are the subpackages :mod:`~darkscan.stats.methods.window_sidebands` and
:mod:`~darkscan.stats.methods.ellipse_counting` (:data:`BUILTIN`); :func:`get_method` imports
them, after the plugins, on the first lookup. This module imports no method, so a method package
can import it. The generic rules call :func:`get_method`.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable

DEFAULT = "window_sidebands"
#: the built-in methods: subpackages of this package, each registering the method of its name
BUILTIN = ("window_sidebands", "ellipse_counting")


@dataclasses.dataclass(frozen=True)
class FitMethod:
    name: str
    load_signal_model: Callable
    scan_part: Callable
    write_significance: Callable
    calibrate: Callable | None = None


_METHODS: dict[str, FitMethod] = {}


def register_method(method: FitMethod) -> FitMethod:
    if method.name in _METHODS:
        raise ValueError(f"fit method {method.name!r} is already registered")
    _METHODS[method.name] = method
    return method


def get_method(channel: dict) -> FitMethod:
    """The fit method of a channel (``fit.method``)."""
    _import_builtin_methods()
    name = channel["fit"].get("method", DEFAULT)
    if name not in _METHODS:
        raise ValueError(f"channel {channel['name']}: unknown fit.method {name!r}; registered: {sorted(_METHODS)}")
    return _METHODS[name]


def _import_builtin_methods() -> None:
    """Load the plugins, then import the built-in method packages (each registers itself on import)."""
    from darkscan.plugins import load_plugins

    load_plugins()
    for name in BUILTIN:
        if name not in _METHODS:  # a plugin that registered the name first keeps it
            importlib.import_module(f"{__name__}.{name}")


def get_calibrator(channel: dict) -> Callable:
    """The ``calibrate`` function of a channel's fit method (an error if the method has none)."""
    method = get_method(channel)
    if method.calibrate is None:
        raise ValueError(
            f"channel {channel['name']}: fit method {method.name!r} has no calibration (FitMethod.calibrate)"
        )
    return method.calibrate
