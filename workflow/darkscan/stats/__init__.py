"""Statistics: signal interpolation, the fit methods, the likelihood engine, CLs, look-elsewhere, calibration.

Organised by method: each fit method is a package of :mod:`darkscan.stats.methods` that registers
itself (``window_sidebands``: a 1D window + sidebands scan with pyhf models fitted by the
vectorised :mod:`darkscan.stats.engine`; ``ellipse_counting``: a two-mass scan counted in
elliptical windows). Shared by the methods: :mod:`~darkscan.stats.signal_model` (the 1D signal
interpolation), :mod:`~darkscan.stats.cls` (asymptotic CLs formulas, FastAsymptoticCLs),
:mod:`~darkscan.stats.scan` (parts of the grid, the merge into ``limits.csv``),
:mod:`~darkscan.stats.lookelsewhere` and :mod:`~darkscan.stats.calibration`.
"""
