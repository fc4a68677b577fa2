"""Fit methods: the extension point through which a channel chooses how it is scanned.

A channel names its method with ``fit.method`` (default ``window_sidebands``: a 1D resonance in
a spectrum, one pyhf model per hypothesis). A method bundles three functions, all keyword-only:

* ``load_signal_model(signal_files, *, channel)`` -> an object with ``points`` (each with
  ``mass``, ``efficiency``, ``efficiency_err``) and ``at(mass, *, exclude_generated=False)``
  returning something with ``efficiency`` (used by the systematics table);
* ``scan_part(*, channel, signal_files, histograms_path, systematics_path, part, n_parts, seed,
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
them, then the plugins, on the first lookup (:class:`darkscan.registry.Registry`; a plugin
cannot replace a built-in method). This module imports no method, so a method package
can import it. The generic rules call :func:`get_method`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from darkscan.registry import Registry

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


_METHODS: Registry[FitMethod] = Registry("fit method", builtins=tuple(f"{__name__}.{name}" for name in BUILTIN))


def register_method(method: FitMethod) -> FitMethod:
    """Register ``method`` under its name (``fit.method`` of a channel config)."""
    return _METHODS.add(method.name, method)


def method_names() -> list[str]:
    """The registered fit methods (built-ins and plugins)."""
    return _METHODS.names()


def get_method(channel: dict) -> FitMethod:
    """The fit method of a channel (``fit.method``)."""
    name = channel["fit"].get("method", DEFAULT)
    try:
        return _METHODS.get(name)
    except ValueError as err:
        raise ValueError(f"channel {channel['name']}: {err}") from None


def get_calibrator(channel: dict) -> Callable:
    """The ``calibrate`` function of a channel's fit method (an error if the method has none)."""
    method = get_method(channel)
    if method.calibrate is None:
        raise ValueError(
            f"channel {channel['name']}: fit method {method.name!r} has no calibration (FitMethod.calibrate)"
        )
    return method.calibrate
