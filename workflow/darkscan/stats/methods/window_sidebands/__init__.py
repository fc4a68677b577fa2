"""The 1D window + sidebands scan (fit method ``window_sidebands``, the default).

A resonance in a spectrum: per mass hypothesis a pyhf model of a signal window and two
sidebands, the background normalisation free, the signal template morphed between generated
masses (:mod:`darkscan.stats.signal_model`); all hypotheses fitted at once by the vectorised
engine (:mod:`darkscan.stats.engine`), pyhf as the reference.

Modules:

* :mod:`~darkscan.stats.methods.window_sidebands.model`: the pyhf model of one hypothesis;
* :mod:`~darkscan.stats.methods.window_sidebands.scan`: ``load_signal_model`` and ``scan_part``
  (engine limits and p0, the pyhf cross-check);
* :mod:`~darkscan.stats.methods.window_sidebands.pyhf_fit`: one hypothesis with pyhf and
  retries (the fallback where the engine does not converge);
* :mod:`~darkscan.stats.methods.window_sidebands.toys`: background-only pseudo-experiments
  through every hypothesis' workspace;
* :mod:`~darkscan.stats.methods.window_sidebands.significance`: the look-elsewhere correction
  (``write_significance``);
* :mod:`~darkscan.stats.methods.window_sidebands.calibration`: the pseudo-experiment
  calibration (``calibrate``);
* :mod:`~darkscan.stats.methods.window_sidebands.sideband_counting`: the counting approximation
  of the look-elsewhere toys (a cross-check, not called by the workflow).

Importing this package registers the method (:func:`darkscan.stats.methods.register_method`).
"""

from __future__ import annotations

from darkscan.stats.methods import FitMethod, register_method
from darkscan.stats.methods.window_sidebands.calibration import NAME, calibrate
from darkscan.stats.methods.window_sidebands.scan import load_signal_model, scan_part
from darkscan.stats.methods.window_sidebands.significance import write_significance

METHOD_ENTRY = register_method(FitMethod(NAME, load_signal_model, scan_part, write_significance, calibrate))
