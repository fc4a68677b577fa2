"""A vectorised profile-likelihood engine for the window + sidebands fits of a whole mass scan.

The pyhf model of one hypothesis (:func:`darkscan.stats.methods.window_sidebands.model.build_spec`)
is tiny: one channel of one to three bins, a ``signal`` sample scaled by the POI ``mu`` and a
``background`` sample with a free normalisation, plus a few Gaussian-constrained nuisance
parameters. pyhf fits one such model in milliseconds but spends most of it in Python; this
package fits all hypotheses (and, for pseudo-experiments, all datasets) at once with numpy: a
damped (Levenberg-Marquardt) Newton method with the analytic gradient and Hessian of -2 ln L, box
bounds handled by an active set and projection.

The likelihood is pyhf 0.7.6's for the same JSON spec, with the interpolation codes that
``pyhf.Workspace(spec).model()`` uses (``pyhf.pdf._ModelConfig``'s default ``modifier_settings``:
normsys ``code4``, histosys ``code4p``; note that these are *not* the modifier classes' own
defaults code1/code0, which are available as options):

* ``normfactor``: a free multiplicative factor (bounds and inits from the measurement config,
  else pyhf's defaults [0, 10] and 1);
* ``normsys``: code4 (default): a 6th-order polynomial for |alpha| < 1 matching value, slope and
  curvature of ``hi**alpha`` at +1 and ``lo**(-alpha)`` at -1, these exponentials beyond;
  code1: ``hi**alpha`` for alpha >= 0, ``lo**(-alpha)`` below;
* ``histosys``: code4p (default): ``alpha S + alpha^2 (15 - 10 alpha^2 + 3 alpha^4) A`` for |alpha|
  <= 1 with S = (d+ + d-) / 2, A = (d+ - d-) / 16, d+ = hi - nom, d- = nom - lo, linear (alpha d+-)
  beyond; code0: piecewise linear ``alpha d+`` / ``alpha d-``;
* each ``normsys``/``histosys`` parameter has a unit-width Gaussian constraint on its auxiliary
  datum (0 nominally), bounds [-5, 5].

code4/code4p are twice differentiable. code1/code0 have a kink at alpha = 0 (the slopes
differ): the minimiser then treats alpha = 0 as a breakpoint; a step never crosses it, and a
parameter sitting on it leaves towards the side whose one-sided derivative descends (or stays).
-2 ln L includes pyhf's constants (``lgamma(n + 1)``, ``log(2 pi)``), so fitted values equal
pyhf's ``twice_nll``.

Limits follow :class:`darkscan.stats.cls.FastAsymptoticCLs` and pyhf's ``hypotest``: the
qtilde test statistic (CCGV: G. Cowan, K. Cranmer, E. Gross, O. Vitells, Eur. Phys. J. C 71
(2011) 1554, eq. 16), asymptotic CLs with q_mu,A from the Asimov dataset of the background-only
fit to the data (CCGV Sec. 3.2; pyhf's ``generate_asimov_data(0.0, ...)``: expected counts and
auxiliary data at the fitted values), the expected band from CCGV eq. 89 with sigma_A = mu /
sqrt(q_mu,A) evaluated at each band's own limit, and the observed limit by vectorised root
finding in log mu (the log CLs and band formulas of :mod:`darkscan.stats.cls`, shared with the
two-mass counting). The discovery p-value uses q0 (CCGV eq. 12, p0 = 1 - Phi(sqrt(q0)), eq. 53).

Modules: :mod:`~darkscan.stats.engine.batch` (specs -> :class:`WindowBatch`),
:mod:`~darkscan.stats.engine.likelihood` (-2 ln L, gradient, Hessian),
:mod:`~darkscan.stats.engine.minimise` (the minimiser, :func:`fit_free`, :func:`fit_fixed_poi`,
:func:`discovery_p0`), :mod:`~darkscan.stats.engine.limits` (:func:`upper_limits`),
:mod:`~darkscan.stats.engine.toys` (:func:`expected_data`, :func:`sample_toys`, :func:`sample_at`,
:func:`twice_nll_at`) and
:mod:`~darkscan.stats.engine.reference` (:func:`pyhf_reference`); the public names are
re-exported here.

Example:
    >>> from darkscan.stats import engine
    >>> batch = engine.batch_from_specs(specs)
    >>> limits = engine.upper_limits(batch, level=0.05)
    >>> p0, z = engine.discovery_p0(batch)
"""

from darkscan.stats.engine.batch import WindowBatch, batch_from_specs
from darkscan.stats.engine.limits import BatchLimits, upper_limits
from darkscan.stats.engine.minimise import FitResult, discovery_p0, fit_fixed_poi, fit_free, poi_slope
from darkscan.stats.engine.reference import ReferenceResult, pyhf_reference
from darkscan.stats.engine.toys import expected_data, sample_at, sample_toys, twice_nll_at

__all__ = [
    "BatchLimits",
    "FitResult",
    "ReferenceResult",
    "WindowBatch",
    "batch_from_specs",
    "discovery_p0",
    "expected_data",
    "fit_fixed_poi",
    "fit_free",
    "poi_slope",
    "pyhf_reference",
    "sample_at",
    "sample_toys",
    "twice_nll_at",
    "upper_limits",
]
