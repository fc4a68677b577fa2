"""Two-mass scans with overlapping elliptical counting windows (fit method ``ellipse_counting``).

Written for dark Higgsstrahlung, e+e- -> A' h', A' -> mu+ mu-, h' invisible (Belle II,
PRL 130 (2023) 071804): a signal is a peak at (M(mu mu), M_recoil(mu mu)) = (m_A', m_h').
For each hypothesis (m1, m2) on a grid stepped in fractions of the two resolutions, the events
inside the ellipse

    ((x - m1) / (k sigma_1))^2 + ((y - m2) / (k sigma_2))^2 < 1,   k = ``fit.signal_sigmas``,

are counted (x, y = ``fit.variable`` and ``fit.variable2``; sigma_1, sigma_2 the resolutions
interpolated at the hypothesis). The background in the ellipse is the simulation (sum of
weights x luminosity, its MC-statistics variance from the squared weights) — there are no
sidebands in 2D, as in the paper.

Modules:

* :mod:`~darkscan.stats.methods.ellipse_counting.signal`: the signal model, interpolated on the
  Delaunay triangulation of the generated (m1, m2) points;
* :mod:`~darkscan.stats.methods.ellipse_counting.events`: selected events, which ellipses they
  fall in (a sparse membership matrix) and the background of each ellipse;
* :mod:`~darkscan.stats.methods.ellipse_counting.counting`: the one-bin counting likelihood with
  its closed-form conditional background, CLs limits vectorised over about 10^4 hypotheses, and
  the pyhf workspace of one ellipse for the cross-check;
* :mod:`~darkscan.stats.methods.ellipse_counting.scan`: ``scan_part``;
* :mod:`~darkscan.stats.methods.ellipse_counting.significance`: the look-elsewhere toys
  (``write_significance``);
* :mod:`~darkscan.stats.methods.ellipse_counting.calibration`: the pseudo-experiment
  calibration (``calibrate``).

Importing this package registers the method (:func:`darkscan.stats.methods.register_method`).
"""

from __future__ import annotations

from darkscan.stats.methods import FitMethod, register_method
from darkscan.stats.methods.ellipse_counting.calibration import NAME, calibrate
from darkscan.stats.methods.ellipse_counting.scan import scan_part
from darkscan.stats.methods.ellipse_counting.signal import load_signal_model
from darkscan.stats.methods.ellipse_counting.significance import write_significance

METHOD_ENTRY = register_method(FitMethod(NAME, load_signal_model, scan_part, write_significance, calibrate))
