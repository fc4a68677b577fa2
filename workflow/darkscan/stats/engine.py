"""A vectorised profile-likelihood engine for the window + sidebands fits of a whole mass scan.

The pyhf model of one hypothesis (:func:`darkscan.stats.model.build_spec`) is tiny: one channel
of one to three bins, a ``signal`` sample scaled by the POI ``mu`` and a ``background`` sample
with a free normalisation, plus a few Gaussian-constrained nuisance parameters. pyhf fits one
such model in milliseconds but spends most of it in Python; this module fits all hypotheses (and,
for pseudo-experiments, all datasets) at once with numpy: a damped (Levenberg-Marquardt) Newton
method with the analytic gradient and Hessian of -2 ln L, box bounds handled by an active set and
projection.

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
finding in log mu. The discovery p-value uses q0 (CCGV eq. 12, p0 = 1 - Phi(sqrt(q0)), eq. 53).

Example:
    >>> batch = batch_from_specs(specs)
    >>> limits = upper_limits(batch, level=0.05)
    >>> p0, z = discovery_p0(batch)
"""

from __future__ import annotations

import dataclasses
import logging
import warnings

import numpy as np
from scipy import special, stats

log = logging.getLogger(__name__)

CONSTRAINED_BOUNDS = (-5.0, 5.0)
NORMFACTOR_BOUNDS = (0.0, 10.0)
SUPPORTED = ("normfactor", "normsys", "histosys")
NORMSYS_CODES = ("code4", "code1")
HISTOSYS_CODES = ("code4p", "code0")
# pyhf.interpolators.code4 (alpha0 = 1): polynomial coefficients a_1..a_6 = CODE4_INVERSE @ b
CODE4_INVERSE = np.array(
    [
        [15 / 16, -15 / 16, -7 / 16, -7 / 16, 1 / 16, -1 / 16],
        [3 / 2, 3 / 2, -9 / 16, 9 / 16, 1 / 16, 1 / 16],
        [-5 / 8, 5 / 8, 5 / 8, 5 / 8, -1 / 8, 1 / 8],
        [-3 / 2, -3 / 2, 7 / 8, -7 / 8, -1 / 8, -1 / 8],
        [3 / 16, -3 / 16, -3 / 16, -3 / 16, 1 / 16, -1 / 16],
        [1 / 2, 1 / 2, -5 / 16, 5 / 16, 1 / 16, 1 / 16],
    ]
)
BAND_SIGMAS = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
LOG_2PI = float(np.log(2.0 * np.pi))


# --------------------------------------------------------------------------------------------
# the batch of models
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class WindowBatch:
    """The models of H hypotheses, padded to a common layout, with their datasets.

    Parameters are identified by name across the batch (``parameters``; the POI first); a
    hypothesis without some parameter has ``present`` False there and the parameter is held at
    its init (which has no effect). Samples are padded to S, bins to B (``bin_mask``).

    Attributes:
        parameters: parameter names (P), the POI first.
        nominal: nominal yields, (H, S, B).
        histo_up: histosys ``hi_data - nominal``, (H, S, P, B).
        histo_down: histosys ``nominal - lo_data``, (H, S, P, B).
        log_hi: normsys ``log(hi)``, (H, S, P).
        log_lo: normsys ``-log(lo)`` (the slope of ``log(lo**(-alpha))``), (H, S, P).
        poly: normsys code4 polynomial coefficients a_1..a_6, (H, S, P, 6).
        normfactor: 1 where parameter p is a normfactor of sample s, (H, S, P).
        bin_mask: real (unpadded) bins, (H, B).
        present: parameter exists in the hypothesis, (H, P).
        constrained: parameter has a unit Gaussian constraint (normsys/histosys), (H, P).
        fixed: parameter fixed in the measurement config, (H, P).
        bounds: parameter bounds, (H, P, 2).
        init: parameter inits, (H, P).
        data: observed counts, (..., H, B); leading axes index datasets (e.g. toys).
        aux: auxiliary data (global observables) per parameter, (..., H, P); 0 nominally,
            ignored for unconstrained parameters.
        kinked: interpolation with a kink at 0 (code1 normsys, code0 histosys), (H, P).
        normsys_code: ``"code4"`` (pyhf Model default) or ``"code1"``.
        histosys_code: ``"code4p"`` (pyhf Model default) or ``"code0"``.
    """

    parameters: tuple[str, ...]
    nominal: np.ndarray
    histo_up: np.ndarray
    histo_down: np.ndarray
    log_hi: np.ndarray
    log_lo: np.ndarray
    poly: np.ndarray
    normfactor: np.ndarray
    bin_mask: np.ndarray
    present: np.ndarray
    constrained: np.ndarray
    fixed: np.ndarray
    bounds: np.ndarray
    init: np.ndarray
    data: np.ndarray
    aux: np.ndarray
    kinked: np.ndarray
    normsys_code: str = "code4"
    histosys_code: str = "code4p"

    @property
    def n_hypotheses(self) -> int:
        """Number of hypotheses H."""
        return self.nominal.shape[0]

    @property
    def lead_shape(self) -> tuple[int, ...]:
        """Leading (dataset) axes of ``data``; () for one dataset per hypothesis."""
        return self.data.shape[:-2]

    @property
    def poi_scale(self) -> np.ndarray:
        """A POI value near the sensitivity per hypothesis (its init; internal unit of mu)."""
        init = self.init[:, 0]
        upper = self.bounds[:, 0, 1]
        fallback = np.where(np.isfinite(upper) & (upper > 0), upper / 50.0, 1.0)
        return np.where(init > 0, init, fallback)

    def with_data(self, data: np.ndarray, aux: np.ndarray | None = None) -> WindowBatch:
        """The same models with other datasets.

        Args:
            data: counts, (..., H, B) with B = the padded number of bins (padded bins ignored);
                leading axes evaluate several datasets per hypothesis at once (e.g. toys).
            aux: auxiliary data, (..., H, P) in the order of ``parameters``, broadcastable to
                the leading axes of ``data``; None keeps the current ones (broadcast).

        Returns:
            A new batch.
        """
        data = np.asarray(data, dtype=float)
        if data.shape[-2:] != self.bin_mask.shape:
            raise ValueError(f"data must end with (H, B) = {self.bin_mask.shape}, got {data.shape}")
        data = np.where(self.bin_mask, data, 0.0)
        aux = self.aux if aux is None else np.asarray(aux, dtype=float)
        try:
            aux_full = np.broadcast_to(aux, data.shape[:-2] + self.present.shape).copy()
        except ValueError as err:
            raise ValueError(f"aux {aux.shape} does not broadcast to {data.shape[:-2] + self.present.shape}") from err
        return dataclasses.replace(self, data=data, aux=aux_full)


def _parameter_table(spec: dict) -> tuple[str, dict]:
    """POI name and per-parameter config of the first measurement (pyhf's default one)."""
    measurements = spec.get("measurements") or []
    if not measurements:
        raise ValueError("the spec has no measurement")
    config = measurements[0]["config"]
    table = {}
    for entry in config.get("parameters", []):
        unsupported = {"sigmas", "factors"} & set(entry)
        if unsupported:
            raise ValueError(f"parameter {entry['name']!r}: measurement option {sorted(unsupported)} is not supported")
        table[entry["name"]] = entry
    return config["poi"], table


def _parse_spec(spec: dict) -> dict:
    """One spec as plain arrays keyed by sample and parameter name."""
    if len(spec.get("channels", [])) != 1:
        raise ValueError(f"exactly one channel is supported, the spec has {len(spec.get('channels', []))}")
    channel = spec["channels"][0]
    observed = {o["name"]: o["data"] for o in spec.get("observations", [])}
    if channel["name"] not in observed:
        raise ValueError(f"no observation for channel {channel['name']!r}")
    data = np.asarray(observed[channel["name"]], dtype=float)
    poi, table = _parameter_table(spec)
    kinds: dict[str, str] = {}
    samples = []
    for sample in channel["samples"]:
        nominal = np.asarray(sample["data"], dtype=float)
        if nominal.shape != data.shape:
            raise ValueError(f"sample {sample['name']!r} has {nominal.size} bins, the data {data.size}")
        mods = [_check_modifier(mod, sample["name"], kinds) for mod in sample.get("modifiers", [])]
        if len({m["name"] for m in mods}) != len(mods):
            raise ValueError(f"sample {sample['name']!r} uses a modifier name twice")
        factors = [m["name"] for m in mods if m["type"] == "normfactor"]
        if len(factors) > 1:
            raise ValueError(f"sample {sample['name']!r}: more than one normfactor ({factors}) is not supported")
        samples.append((nominal, mods))
    if kinds.get(poi) != "normfactor":
        raise ValueError(f"the POI {poi!r} must be a normfactor")
    return {"poi": poi, "table": table, "kinds": kinds, "samples": samples, "data": data}


def _check_modifier(mod: dict, sample: str, kinds: dict[str, str]) -> dict:
    """The modifier, if the engine supports it (records its kind in ``kinds``)."""
    kind, name = mod["type"], mod["name"]
    if kind not in SUPPORTED:
        raise ValueError(
            f"modifier {name!r} of type {kind!r} (sample {sample!r}) is not supported; supported: {SUPPORTED}"
        )
    if kinds.setdefault(name, kind) != kind:
        raise ValueError(f"modifier {name!r} is used both as {kinds[name]} and {kind}")
    if kind == "normsys" and (mod["data"]["hi"] <= 0 or mod["data"]["lo"] <= 0):
        raise ValueError(f"normsys {name!r}: hi and lo must be positive")
    return mod


def _layout(parsed: list[dict]) -> tuple[str, list[str], dict[str, str]]:
    """Union of the parameter names over the batch, POI first."""
    pois = {p["poi"] for p in parsed}
    if len(pois) != 1:
        raise ValueError(f"all specs must share one POI, got {sorted(pois)}")
    poi = pois.pop()
    names, kinds = [poi], {poi: "normfactor"}
    for p in parsed:
        for name, kind in p["kinds"].items():
            if kinds.setdefault(name, kind) != kind:
                raise ValueError(f"modifier {name!r} is {kinds[name]} in one spec and {kind} in another")
            if name not in names:
                names.append(name)
    return poi, names, kinds


def _fill(batch: dict, h: int, parsed: dict, index: dict[str, int]) -> None:
    """Write one parsed spec into row ``h`` of the batch arrays."""
    n_bins = parsed["data"].size
    batch["bin_mask"][h, :n_bins] = True
    batch["data"][h, :n_bins] = parsed["data"]
    for s, (nominal, mods) in enumerate(parsed["samples"]):
        batch["nominal"][h, s, :n_bins] = nominal
        for mod in mods:
            p = index[mod["name"]]
            batch["present"][h, p] = True
            if mod["type"] == "normfactor":
                batch["normfactor"][h, s, p] = 1.0
            elif mod["type"] == "normsys":
                batch["constrained"][h, p] = True
                batch["log_hi"][h, s, p] = np.log(mod["data"]["hi"])
                batch["log_lo"][h, s, p] = -np.log(mod["data"]["lo"])
                batch["poly"][h, s, p] = _code4_coefficients(mod["data"]["hi"], mod["data"]["lo"])
            else:
                batch["constrained"][h, p] = True
                batch["histo_up"][h, s, p, :n_bins] = np.asarray(mod["data"]["hi_data"], dtype=float) - nominal
                batch["histo_down"][h, s, p, :n_bins] = nominal - np.asarray(mod["data"]["lo_data"], dtype=float)
    for name, p in index.items():
        kind = parsed["kinds"].get(name)
        if kind is None:  # absent from this spec: set inert in batch_from_specs
            continue
        default_bounds, default_init = (NORMFACTOR_BOUNDS, 1.0) if kind == "normfactor" else (CONSTRAINED_BOUNDS, 0.0)
        entry = parsed["table"].get(name, {})
        batch["bounds"][h, p] = entry.get("bounds", [default_bounds])[0]
        batch["init"][h, p] = entry.get("inits", [default_init])[0]
        batch["fixed"][h, p] = bool(entry.get("fixed", False))
        if kind in ("normsys", "histosys"):
            batch["aux"][h, p] = entry.get("auxdata", [0.0])[0]


def _code4_coefficients(hi: float, lo: float) -> np.ndarray:
    """pyhf code4 coefficients: value, slope and curvature of hi**a at a = 1 and lo**(-a) at -1."""
    log_hi, log_lo = np.log(hi), np.log(lo)
    b = np.array([hi - 1.0, lo - 1.0, log_hi * hi, -log_lo * lo, log_hi**2 * hi, log_lo**2 * lo])
    return CODE4_INVERSE @ b


def batch_from_specs(specs: list[dict], *, normsys_code: str = "code4", histosys_code: str = "code4p") -> WindowBatch:
    """Parse pyhf JSON specs (as written by :func:`darkscan.stats.model.build_spec`) into a batch.

    Args:
        specs: pyhf workspace specs, one per hypothesis; one channel each, modifiers of types
            normfactor, normsys and histosys, the same POI.
        normsys_code: interpolation of normsys modifiers; the default is what
            ``pyhf.Workspace(spec).model()`` uses.
        histosys_code: interpolation of histosys modifiers (likewise).

    Returns:
        The batch with the observed data of the specs and nominal auxiliary data.

    Raises:
        ValueError: naming the modifier (or option) the engine does not support.
    """
    if not specs:
        raise ValueError("no specs")
    if normsys_code not in NORMSYS_CODES or histosys_code not in HISTOSYS_CODES:
        raise ValueError(f"interpolation codes: normsys one of {NORMSYS_CODES}, histosys one of {HISTOSYS_CODES}")
    parsed = [_parse_spec(spec) for spec in specs]
    _, names, kinds = _layout(parsed)
    index = {name: i for i, name in enumerate(names)}
    n_h, n_p = len(parsed), len(names)
    n_s = max(len(p["samples"]) for p in parsed)
    n_b = max(p["data"].size for p in parsed)
    arrays = {
        "nominal": np.zeros((n_h, n_s, n_b)),
        "histo_up": np.zeros((n_h, n_s, n_p, n_b)),
        "histo_down": np.zeros((n_h, n_s, n_p, n_b)),
        "log_hi": np.zeros((n_h, n_s, n_p)),
        "log_lo": np.zeros((n_h, n_s, n_p)),
        "poly": np.zeros((n_h, n_s, n_p, 6)),
        "normfactor": np.zeros((n_h, n_s, n_p)),
        "bin_mask": np.zeros((n_h, n_b), dtype=bool),
        "present": np.zeros((n_h, n_p), dtype=bool),
        "constrained": np.zeros((n_h, n_p), dtype=bool),
        "fixed": np.zeros((n_h, n_p), dtype=bool),
        "bounds": np.zeros((n_h, n_p, 2)),
        "init": np.zeros((n_h, n_p)),
        "data": np.zeros((n_h, n_b)),
        "aux": np.zeros((n_h, n_p)),
    }
    for h, p in enumerate(parsed):
        _fill(arrays, h, p, index)
    for name, p in index.items():  # absent parameters: inert at a harmless value
        absent = ~arrays["present"][:, p]
        arrays["init"][absent, p] = 0.0 if kinds[name] != "normfactor" else 1.0
        arrays["bounds"][absent, p] = CONSTRAINED_BOUNDS if kinds[name] != "normfactor" else NORMFACTOR_BOUNDS
        arrays["fixed"][absent, p] = True
    kink_kind = {"normsys": normsys_code == "code1", "histosys": histosys_code == "code0"}
    kinked = np.array([kink_kind.get(kinds[name], False) for name in names])
    arrays["kinked"] = arrays["constrained"] & kinked[None, :]
    log.debug("batch of %d hypotheses, parameters %s, up to %d bins", n_h, names, n_b)
    return WindowBatch(parameters=tuple(names), normsys_code=normsys_code, histosys_code=histosys_code, **arrays)


# --------------------------------------------------------------------------------------------
# flat rows: one row per (dataset, hypothesis) fit, POI in units of the hypothesis' scale
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Rows:
    """Model and data of N independent fits, POI rescaled to O(1)."""

    nominal: np.ndarray  # (N, S, B)
    up: np.ndarray  # (N, S, Ph, B) histosys hi - nom, for the Ph histosys columns
    down: np.ndarray  # (N, S, Ph, B) histosys nom - lo
    log_hi: np.ndarray  # (N, S, Pn), for the Pn normsys columns
    log_lo: np.ndarray  # (N, S, Pn)
    poly: np.ndarray  # (N, S, Pn, 6)
    factor: np.ndarray  # (N, S, P)
    no_factor: np.ndarray  # (N, S): 1 for samples without normfactor
    mask: np.ndarray  # (N, B) float
    constrained: np.ndarray  # (N, P) float
    kinked: np.ndarray  # (N, P) bool
    free: np.ndarray  # (N, P) bool (present and not fixed)
    lo: np.ndarray  # (N, P)
    hi: np.ndarray  # (N, P)
    n: np.ndarray  # (N, B)
    aux: np.ndarray  # (N, P)
    const: np.ndarray  # (N,)
    normsys_code: str = "code4"
    histosys_code: str = "code4p"
    normsys_cols: tuple[int, ...] = ()
    histosys_cols: tuple[int, ...] = ()

    def _arrays(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self) if not f.name.endswith(("_code", "_cols"))]

    def take(self, idx: np.ndarray) -> _Rows:
        """The rows ``idx``."""
        return dataclasses.replace(self, **{name: getattr(self, name)[idx] for name in self._arrays()})

    def concat(self, other: _Rows) -> _Rows:
        """These rows followed by ``other`` (same interpolation codes)."""
        joined = {name: np.concatenate([getattr(self, name), getattr(other, name)]) for name in self._arrays()}
        return dataclasses.replace(self, **joined)

    def with_observations(self, n: np.ndarray, aux: np.ndarray) -> _Rows:
        """The same models with other counts and auxiliary data."""
        return dataclasses.replace(self, n=n, aux=aux, const=_constant(n, self.mask, self.constrained))


def _constant(n: np.ndarray, mask: np.ndarray, constrained: np.ndarray) -> np.ndarray:
    """The parameter-independent part of pyhf's -2 ln L (Poisson saturated terms, log 2 pi)."""
    poisson = 2.0 * (n - special.xlogy(n, n) + special.gammaln(n + 1.0))
    return (poisson * mask).sum(-1) + LOG_2PI * constrained.sum(-1)


def _rows(batch: WindowBatch) -> tuple[_Rows, np.ndarray]:
    """Flatten the batch to rows (dataset-major) and the POI scale of each row."""
    n_h = batch.n_hypotheses
    lead = int(np.prod(batch.lead_shape, dtype=int))
    hyp = np.tile(np.arange(n_h), lead)
    scale = batch.poi_scale
    # the POI normfactor multiplies a sample's (nominal + histosys); carry its scale there
    sample_scale = np.where(batch.normfactor[:, :, 0] > 0, scale[:, None], 1.0)
    lo, hi = batch.bounds[..., 0].copy(), batch.bounds[..., 1].copy()
    lo[:, 0] /= scale
    hi[:, 0] /= scale
    mask = batch.bin_mask.astype(float)
    constrained = (batch.constrained & batch.present).astype(float)
    n = batch.data.reshape(-1, batch.data.shape[-1])
    # only the columns that are some normsys / histosys (the others have no effect there)
    ns = np.flatnonzero(((batch.log_hi != 0) | (batch.log_lo != 0)).any(axis=(0, 1)))
    hs = np.flatnonzero(((batch.histo_up != 0) | (batch.histo_down != 0)).any(axis=(0, 1, 3)))
    rows = _Rows(
        nominal=(batch.nominal * sample_scale[:, :, None])[hyp],
        up=(batch.histo_up[:, :, hs] * sample_scale[:, :, None, None])[hyp],
        down=(batch.histo_down[:, :, hs] * sample_scale[:, :, None, None])[hyp],
        log_hi=batch.log_hi[:, :, ns][hyp],
        log_lo=batch.log_lo[:, :, ns][hyp],
        poly=batch.poly[:, :, ns][hyp],
        factor=batch.normfactor[hyp],
        no_factor=(1.0 - batch.normfactor.sum(-1))[hyp],
        mask=mask[hyp],
        constrained=constrained[hyp],
        kinked=batch.kinked[hyp],
        free=(batch.present & ~batch.fixed)[hyp],
        lo=lo[hyp],
        hi=hi[hyp],
        n=n,
        aux=batch.aux.reshape(-1, batch.aux.shape[-1]),
        const=_constant(n, mask[hyp], constrained[hyp]),
        normsys_code=batch.normsys_code,
        histosys_code=batch.histosys_code,
        normsys_cols=tuple(int(i) for i in ns),
        histosys_cols=tuple(int(i) for i in hs),
    )
    return rows, scale[hyp]


def _to_internal(theta: np.ndarray, scale: np.ndarray) -> np.ndarray:
    out = np.array(theta, dtype=float, copy=True)
    out[:, 0] /= scale
    return out


def _to_external(theta: np.ndarray, scale: np.ndarray) -> np.ndarray:
    out = np.array(theta, dtype=float, copy=True)
    out[:, 0] *= scale
    return out


# --------------------------------------------------------------------------------------------
# interpolation, likelihood, gradient and Hessian
# --------------------------------------------------------------------------------------------


def _sides(theta: np.ndarray, piece: np.ndarray | None) -> np.ndarray:
    """+1 / -1 per parameter: the sign of theta, at 0 the requested ``piece`` (default +1)."""
    at_zero = np.ones_like(theta) if piece is None else piece
    return np.where(theta > 0, 1.0, np.where(theta < 0, -1.0, at_zero))


def _normsys(rows: _Rows, alpha: np.ndarray, side: np.ndarray, *, derivatives: bool):
    """Normsys factors F (N, S, Pn) and, with ``derivatives``, d log F / da and d2 log F / da2."""
    a = alpha[:, None, :]
    slope = np.where(side[:, None, :] > 0, rows.log_hi, rows.log_lo)
    outer = np.exp(a * slope)
    if rows.normsys_code == "code1":
        return outer, slope, np.zeros_like(slope)
    c = [rows.poly[..., k] for k in range(6)]
    inner = np.abs(a) < 1.0
    f_in = 1.0 + a * (c[0] + a * (c[1] + a * (c[2] + a * (c[3] + a * (c[4] + a * c[5])))))  # Horner
    factor = np.where(inner, f_in, outer)
    if not derivatives:
        return factor, None, None
    d1 = c[0] + a * (2 * c[1] + a * (3 * c[2] + a * (4 * c[3] + a * (5 * c[4] + a * 6 * c[5]))))
    d2 = 2 * c[1] + a * (6 * c[2] + a * (12 * c[3] + a * (20 * c[4] + a * 30 * c[5])))
    f_safe = np.where(inner, f_in, 1.0)
    l_in = d1 / f_safe
    return factor, np.where(inner, l_in, slope), np.where(inner, d2 / f_safe - l_in**2, 0.0)


def _histosys(rows: _Rows, alpha: np.ndarray, side: np.ndarray, *, derivatives: bool):
    """Histosys shifts (N, S, Ph, B) and, with ``derivatives``, their first and second derivatives."""
    a = alpha[:, None, :, None]
    edge = np.where(side[:, None, :, None] > 0, rows.up, rows.down)
    if rows.histosys_code == "code0":
        return a * edge, edge, np.zeros_like(edge)
    sym, asym = 0.5 * (rows.up + rows.down), 0.0625 * (rows.up - rows.down)
    a2 = a * a
    inner = np.abs(a) <= 1.0
    shift = np.where(inner, a * sym + a2 * (15.0 + a2 * (3.0 * a2 - 10.0)) * asym, a * edge)
    if not derivatives:
        return shift, None, None
    d1 = np.where(inner, sym + asym * a * (30.0 + a2 * (18.0 * a2 - 40.0)), edge)
    d2 = np.where(inner, asym * (30.0 + a2 * (90.0 * a2 - 120.0)), 0.0)
    return shift, d1, d2


@dataclasses.dataclass(frozen=True)
class _Terms:
    """Per-sample pieces of nu_b = sum_s A_s N'_sb E_s and their derivatives (all P columns)."""

    shifted: np.ndarray  # N' = nominal + histosys shifts (N, S, B)
    dshift: np.ndarray | None  # dN'/dalpha_p (N, S, P, B)
    d2shift: np.ndarray | None  # d2N'/dalpha_p2 (N, S, P, B)
    expo: np.ndarray  # E = prod normsys factors (N, S)
    dlog: np.ndarray | None  # dlog E / dalpha_p (N, S, P)
    d2log: np.ndarray | None  # d2 log E / dalpha_p2 (N, S, P)
    norm: np.ndarray  # A = normfactor (N, S)
    nu: np.ndarray  # (N, B)


def _scatter(part: np.ndarray | None, cols: tuple[int, ...], n_p: int, axis: int) -> np.ndarray | None:
    """Place the columns of a normsys/histosys subset into all P parameter columns (zeros elsewhere)."""
    if part is None:
        return None
    shape = list(part.shape)
    shape[axis] = n_p
    full = np.zeros(shape)
    index = [slice(None)] * len(shape)
    index[axis] = list(cols)
    full[tuple(index)] = part
    return full


def _terms(rows: _Rows, theta: np.ndarray, piece: np.ndarray | None = None, *, derivatives: bool = True) -> _Terms:
    side = _sides(theta, piece)
    n, s, b = rows.nominal.shape
    n_p = theta.shape[1]
    shifted, expo = rows.nominal, np.ones((n, s))
    dshift = d2shift = dlog = d2log = None
    if rows.histosys_cols:
        cols = list(rows.histosys_cols)
        shift, d1, d2 = _histosys(rows, theta[:, cols], side[:, cols], derivatives=derivatives)
        shifted = shifted + shift.sum(axis=2)
        dshift, d2shift = _scatter(d1, rows.histosys_cols, n_p, 2), _scatter(d2, rows.histosys_cols, n_p, 2)
    if rows.normsys_cols:
        cols = list(rows.normsys_cols)
        factor, d1, d2 = _normsys(rows, theta[:, cols], side[:, cols], derivatives=derivatives)
        expo = np.prod(factor, axis=-1)
        dlog, d2log = _scatter(d1, rows.normsys_cols, n_p, 2), _scatter(d2, rows.normsys_cols, n_p, 2)
    if derivatives:
        dshift = np.zeros((n, s, n_p, b)) if dshift is None else dshift
        d2shift = np.zeros((n, s, n_p, b)) if d2shift is None else d2shift
        dlog = np.zeros((n, s, n_p)) if dlog is None else dlog
        d2log = np.zeros((n, s, n_p)) if d2log is None else d2log
    norm = np.einsum("np,nsp->ns", theta, rows.factor) + rows.no_factor
    nu = np.einsum("ns,nsb->nb", norm * expo, shifted) * rows.mask
    return _Terms(shifted, dshift, d2shift, expo, dlog, d2log, norm, nu)


def _expected_counts(rows: _Rows, theta: np.ndarray) -> np.ndarray:
    """Expected counts (N, B) at internal parameters ``theta`` (pyhf's ``expected_actualdata``)."""
    return _terms(rows, theta, derivatives=False).nu


def _twice_nll(rows: _Rows, nu: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """-2 ln L (N,) from expected counts, with pyhf's constants.

    As in pyhf (``xlogy(n, nu) - nu - lgamma(n + 1)``), an empty bin contributes 2 nu even where
    the histosys extrapolation makes nu negative; a bin with counts and nu <= 0 is excluded (inf).
    """
    n, mask = rows.n, rows.mask > 0
    bad = mask & (nu <= 0) & (n > 0)
    safe = np.where(nu > 0, nu, 1.0)
    ratio = np.where(n > 0, safe / np.where(n > 0, n, 1.0), 1.0)
    deviance = np.where(mask, 2.0 * (nu - n - special.xlogy(n, ratio)), 0.0)
    constraint = rows.constrained * (theta - rows.aux) ** 2
    value = deviance.sum(-1) + constraint.sum(-1) + rows.const
    return np.where(bad.any(-1), np.inf, value)


def _value(rows: _Rows, theta: np.ndarray) -> np.ndarray:
    """-2 ln L (N,) at internal parameters."""
    return _twice_nll(rows, _expected_counts(rows, theta), theta)


def _derivatives(rows: _Rows, theta: np.ndarray, piece: np.ndarray | None = None, *, hessian: bool = True):
    """-2 ln L, its gradient (N, P) and Hessian (N, P, P) (kinks at 0 taken on side ``piece``).

    With T_sb = A_s N'_sb E_s, a_p the normfactor indicator, h = dN'/dalpha, k = d2N'/dalpha2,
    l = dlog E/dalpha, m = d2log E/dalpha2: dT/dtheta_p = E G_p with G_p = a_p N' + A h_p +
    A N' l_p, and d2T/dtheta_p dtheta_q = E (a_p h_q + a_q h_p + G_p l_q + G_q l_p - A N' l_p l_q
    + delta_pq A (k_p + N' m_p)); the bins are summed before the outer products.
    """
    t = _terms(rows, theta, piece)
    value = _twice_nll(rows, t.nu, theta)
    safe = np.where(t.nu > 0, t.nu, 1.0)
    r = rows.mask * (1.0 - rows.n / safe)
    a_n = t.norm[:, :, None] * t.shifted  # A N' (N, S, B)
    gterm = (
        rows.factor[..., None] * t.shifted[:, :, None, :]
        + t.norm[:, :, None, None] * t.dshift
        + a_n[:, :, None, :] * t.dlog[..., None]
    )
    d = np.einsum("ns,nspb->npb", t.expo, gterm)
    grad = 2.0 * np.einsum("nb,npb->np", r, d) + 2.0 * rows.constrained * (theta - rows.aux)
    if not hessian:
        return value, grad, None
    w = rows.mask * rows.n / safe**2
    hess = 2.0 * np.matmul(d * w[:, None, :], d.transpose(0, 2, 1))
    u = np.einsum("nb,nspb->nsp", r, t.dshift)
    v = np.einsum("nb,nspb->nsp", r, gterm)
    wsum = np.einsum("nb,nsb->ns", r, a_n)
    x = rows.factor[..., :, None] * u[..., None, :] + v[..., :, None] * t.dlog[..., None, :]
    x = x + x.transpose(0, 1, 3, 2) - wsum[..., None, None] * t.dlog[..., :, None] * t.dlog[..., None, :]
    hess += 2.0 * np.einsum("ns,nspq->npq", t.expo, x)
    diag = np.einsum("nb,nspb->nsp", r, t.d2shift) * t.norm[..., None] + wsum[..., None] * t.d2log
    idx = np.arange(theta.shape[1])
    hess[:, idx, idx] += 2.0 * np.einsum("ns,nsp->np", t.expo, diag) + 2.0 * rows.constrained
    return value, grad, hess


# --------------------------------------------------------------------------------------------
# the minimiser
# --------------------------------------------------------------------------------------------


def _choose_pieces(rows: _Rows, theta: np.ndarray, free: np.ndarray):
    """Pieces, value, gradient, Hessian and the kinked alphas held at 0 for this step."""
    piece = _sides(theta, None)
    value, grad, hess = _derivatives(rows, theta, piece)
    on_kink = free & rows.kinked & (theta == 0.0)
    hold = np.zeros_like(on_kink)
    if on_kink.any():
        _, grad_down, _ = _derivatives(rows, theta, _sides(theta, -np.ones_like(theta)), hessian=False)
        go_up = grad < 0
        go_down = ~go_up & (grad_down > 0)
        hold = on_kink & ~go_up & ~go_down
        switch = on_kink & go_down
        if switch.any():
            piece = np.where(switch, -1.0, piece)
            value, grad, hess = _derivatives(rows, theta, piece)
    return piece, value, grad, hess, hold


def _newton_step(grad: np.ndarray, hess: np.ndarray, move: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Damped Newton step (N, P) on the moving parameters: (H + lam (diag H + 1)) step = grad."""
    idx = np.arange(grad.shape[1])
    keep = move[:, :, None] & move[:, None, :]
    matrix = np.where(keep, hess, 0.0)
    diag = np.abs(matrix[:, idx, idx])
    matrix[:, idx, idx] += lam[:, None] * (diag + 1.0) + (~move)
    rhs = np.where(move, grad, 0.0)
    try:
        step = np.linalg.solve(matrix, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        step = np.einsum("npq,nq->np", np.linalg.pinv(matrix), rhs)
    return np.where(np.isfinite(step), step, 0.0)


def _project(rows: _Rows, theta: np.ndarray, piece: np.ndarray) -> np.ndarray:
    """Clip to the bounds, and keep each kinked alpha on its side of 0."""
    out = np.clip(theta, rows.lo, rows.hi)
    out = np.where(rows.kinked & (piece > 0), np.maximum(out, 0.0), out)
    return np.where(rows.kinked & (piece < 0), np.minimum(out, 0.0), out)


def _iterate(rows: _Rows, theta: np.ndarray, lam: np.ndarray, *, tol: float):
    """One damped Newton iteration on all rows: new theta, value, lam and a converged flag."""
    piece, value, grad, hess, hold = _choose_pieces(rows, theta, rows.free)
    at_bound = ((theta <= rows.lo) & (grad > 0)) | ((theta >= rows.hi) & (grad < 0))
    move = rows.free & ~hold & ~at_bound
    step = _newton_step(grad, hess, move, lam)
    decrement = np.sum(np.where(move, grad, 0.0) * step, axis=-1)
    trial = _project(rows, theta - step, piece)
    trial_value = _value(rows, trial)
    accept = np.isfinite(trial_value) & (trial_value <= value) & (decrement >= 0)
    converged = np.isfinite(value) & (decrement >= 0) & (decrement < tol) & (lam < 1.0)
    theta = np.where(accept[:, None], trial, theta)
    value = np.where(accept, trial_value, value)
    lam = np.where(accept, np.maximum(lam * 0.2, 1e-9), lam * 8.0)
    return theta, value, lam, converged, lam > 1e10


def _minimise(rows: _Rows, theta: np.ndarray, *, tol: float = 1e-10, max_iter: int = 100):
    """Minimise -2 ln L over the free parameters of every row, from internal ``theta`` (N, P).

    Returns:
        (-2 ln L (N,), theta (N, P), converged (N,)).
    """
    theta = _project(rows, np.array(theta, dtype=float), _sides(theta, None))
    n_rows = theta.shape[0]
    value = _value(rows, theta)
    lam = np.full(n_rows, 1e-3)
    done = np.zeros(n_rows, dtype=bool)
    given_up = np.zeros(n_rows, dtype=bool)
    work = np.arange(n_rows)
    sub = rows
    for _ in range(max_iter):
        active = ~done[work]
        if not active.any():
            break
        if active.sum() < 0.7 * work.size:
            work, sub = work[active], sub.take(np.flatnonzero(active))
            active = np.ones(work.size, dtype=bool)
        t, v, lm, conv, stuck = _iterate(sub, theta[work], lam[work], tol=tol)
        upd = work[active]
        theta[upd], value[upd], lam[upd] = t[active], v[active], lm[active]
        done[upd] = conv[active]
        given_up[upd] = stuck[active] & ~conv[active]
        done |= given_up
    converged = done & ~given_up
    if not converged.all():
        log.debug("%d of %d fits did not converge in %d iterations", int((~converged).sum()), n_rows, max_iter)
    return value, theta, converged


def _fit(rows: _Rows, theta0: np.ndarray, poi: np.ndarray | None = None):
    """Free fit (``poi`` None) or fit at fixed internal POI values (N,)."""
    theta0 = np.array(theta0, dtype=float, copy=True)
    if poi is not None:
        theta0[:, 0] = poi
        rows = dataclasses.replace(rows, free=rows.free & (np.arange(theta0.shape[1]) > 0))
    start = _value(rows, theta0)
    if not np.all(np.isfinite(start)):  # a warm start outside the support: restart the nuisances
        bad = ~np.isfinite(start)
        theta0[bad, 1:] = np.where(rows.constrained[bad, 1:] > 0, 0.0, 1.0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _minimise(rows, theta0)


# --------------------------------------------------------------------------------------------
# public fits
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FitResult:
    """Fitted -2 ln L (pyhf's ``twice_nll``), parameters (..., H, P) and convergence (..., H)."""

    twice_nll: np.ndarray
    parameters: np.ndarray
    converged: np.ndarray

    @property
    def poi(self) -> np.ndarray:
        """Fitted (or fixed) POI values (..., H)."""
        return self.parameters[..., 0]


def _shape_back(batch: WindowBatch, value: np.ndarray, theta: np.ndarray, conv: np.ndarray) -> FitResult:
    shape = batch.lead_shape + (batch.n_hypotheses,)
    return FitResult(value.reshape(shape), theta.reshape(shape + (theta.shape[-1],)), conv.reshape(shape))


def _initial(batch: WindowBatch, n_rows: int) -> np.ndarray:
    return np.tile(batch.init, (n_rows // batch.n_hypotheses, 1))


def fit_free(batch: WindowBatch) -> FitResult:
    """Maximum-likelihood fit of every hypothesis and dataset (pyhf ``mle.fit``; mu within its bounds).

    Args:
        batch: models and data.

    Returns:
        -2 ln L at the minimum, fitted parameters (POI in the spec's units) and convergence.
    """
    rows, scale = _rows(batch)
    value, theta, conv = _fit(rows, _to_internal(_initial(batch, scale.size), scale))
    return _shape_back(batch, value, _to_external(theta, scale), conv)


def fit_fixed_poi(batch: WindowBatch, mu: float | np.ndarray) -> FitResult:
    """Fit with the POI fixed at ``mu`` (pyhf ``mle.fixed_poi_fit``).

    Args:
        batch: models and data.
        mu: POI value(s), broadcastable to (..., H).

    Returns:
        -2 ln L at the conditional minimum, fitted parameters and convergence.
    """
    rows, scale = _rows(batch)
    mu = np.broadcast_to(np.asarray(mu, dtype=float), batch.lead_shape + (batch.n_hypotheses,)).reshape(-1)
    value, theta, conv = _fit(rows, _to_internal(_initial(batch, scale.size), scale), poi=mu / scale)
    return _shape_back(batch, value, _to_external(theta, scale), conv)


def discovery_p0(batch: WindowBatch) -> tuple[np.ndarray, np.ndarray]:
    """Local p0 and significance Z of the background-only hypothesis (pyhf ``hypotest(0, test_stat="q0")``).

    q0 = -2 ln(L(0, theta_hat_hat) / L(mu_hat, theta_hat)) for mu_hat > 0 and 0 otherwise (CCGV
    eq. 12); p0 = 1 - Phi(sqrt(q0)) (CCGV eq. 53), capped at 0.5 and floored at 1e-300.

    Returns:
        (p0, Z), each (..., H).
    """
    p0, z, _ = _discovery(batch)
    return p0, z


def _discovery(batch: WindowBatch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows, scale = _rows(batch)
    theta0 = _to_internal(_initial(batch, scale.size), scale)
    free_value, free_theta, free_conv = _fit(rows, theta0)
    bkg_value, _, bkg_conv = _fit(rows, free_theta, poi=np.zeros(scale.size))
    q0 = np.where(free_theta[:, 0] > 0, np.maximum(bkg_value - free_value, 0.0), 0.0)
    p0 = np.clip(stats.norm.sf(np.sqrt(q0)), 1e-300, 0.5)
    shape = batch.lead_shape + (batch.n_hypotheses,)
    converged = free_conv & bkg_conv
    if not converged.all():
        log.warning("discovery p0: %d of %d fits did not converge", int((~converged).sum()), converged.size)
    return p0.reshape(shape), stats.norm.isf(p0).reshape(shape), converged.reshape(shape)


# --------------------------------------------------------------------------------------------
# upper limits
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BatchLimits:
    """Observed (..., H) and expected (5, ..., H; -2 .. +2 sigma) upper limits on the POI."""

    observed: np.ndarray
    expected: np.ndarray
    converged: np.ndarray


def _log_cls_observed(q: np.ndarray, q_a: np.ndarray) -> np.ndarray:
    """log CLs of the qtilde statistic (CCGV eqs. 16, 65-66; pyhf's ``AsymptoticCalculator``)."""
    sqrt_q, sqrt_qa = np.sqrt(q), np.sqrt(q_a)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(sqrt_q <= sqrt_qa, sqrt_q - sqrt_qa, (q - q_a) / (2.0 * sqrt_qa))
    return special.log_ndtr(-(t + sqrt_qa)) - special.log_ndtr(-t)


def _log_cls_expected(q_a: np.ndarray, n_sigma: np.ndarray) -> np.ndarray:
    """log CLs of the expected band N: Phi(N - sqrt(q_mu,A)) / Phi(N) (the root of CCGV eq. 89)."""
    return special.log_ndtr(n_sigma - np.sqrt(q_a)) - special.log_ndtr(n_sigma)


@dataclasses.dataclass
class _LimitProblem:
    """Fits shared by every POI value tested for one set of rows."""

    data: _Rows
    asimov: _Rows
    free_value: np.ndarray
    free_poi: np.ndarray
    asimov_value: np.ndarray
    warm_data: np.ndarray  # (N, P)
    warm_asimov: np.ndarray  # (6, N, P)
    base_converged: np.ndarray  # (N,) the fits shared by all POI values
    converged: np.ndarray  # (6, N) the fits at the latest POI value tested


def _limit_problem(rows: _Rows, theta0: np.ndarray) -> _LimitProblem:
    """Free fit and background-only fit to the data, and the Asimov dataset of the latter."""
    free_value, free_theta, free_conv = _fit(rows, theta0)
    _, bkg_theta, bkg_conv = _fit(rows, free_theta, poi=np.zeros(theta0.shape[0]))
    counts = _expected_counts(rows, bkg_theta)
    asimov = rows.with_observations(np.maximum(counts, 0.0), np.where(rows.constrained > 0, bkg_theta, rows.aux))
    asimov_value = _value(asimov, bkg_theta)  # the Asimov data are fitted exactly at mu = 0 ...
    negative = np.flatnonzero((counts < 0).any(axis=-1))
    if negative.size:
        # ... unless an empty bin was fitted below zero (pyhf allows that, and then fails on the
        # Asimov data): such bins are set to 0 and the Asimov data fitted
        log.debug("%d Asimov datasets with negative expected counts set to 0", negative.size)
        value, _, conv = _fit(asimov.take(negative), bkg_theta[negative])
        asimov_value[negative] = np.minimum(value, asimov_value[negative])
        bkg_conv[negative] &= conv
    return _LimitProblem(
        rows,
        asimov,
        free_value,
        free_theta[:, 0],
        asimov_value,
        free_theta.copy(),
        np.broadcast_to(bkg_theta, (6,) + bkg_theta.shape).copy(),
        free_conv & bkg_conv,
        np.ones((6, theta0.shape[0]), dtype=bool),
    )


def _log_cls_minus_level(problem: _LimitProblem, x: np.ndarray, active: np.ndarray, log_level: float) -> np.ndarray:
    """log CLs(mu = e^x) - log(level) for the (6, N) entries ``active`` (row 0 observed, 1-5 bands)."""
    col, row = np.nonzero(active)
    mu = np.exp(x[col, row])
    obs = col == 0
    rows = problem.asimov.take(row).concat(problem.data.take(row[obs]))
    start = np.concatenate([problem.warm_asimov[col, row], problem.warm_data[row[obs]]])
    value, theta, conv = _fit(rows, start, poi=np.concatenate([mu, mu[obs]]))
    n_a = row.size
    problem.warm_asimov[col, row] = theta[:n_a]
    problem.warm_data[row[obs]] = theta[n_a:]
    problem.converged[col, row] = conv[:n_a]
    problem.converged[0, row[obs]] &= conv[n_a:]
    q_a = np.maximum(value[:n_a] - problem.asimov_value[row], 0.0)
    out = np.full(col.size, np.nan)
    bands = ~obs
    out[bands] = _log_cls_expected(q_a[bands], BAND_SIGMAS[col[bands] - 1])
    q = np.maximum(value[n_a:] - problem.free_value[row[obs]], 0.0)
    q = np.where(problem.free_poi[row[obs]] > mu[obs], 0.0, q)  # qtilde: 0 above mu_hat
    out[obs] = _log_cls_observed(q, q_a[obs])
    result = np.full(x.shape, np.nan)
    result[col, row] = out - log_level
    return result


def _decreasing_root(func, x0: np.ndarray, *, xtol: float, max_iter: int = 60, first_step: float = 0.25):
    """Vectorised root of functions decreasing in x: bracket by expansion, then Illinois regula falsi.

    Args:
        func: ``func(x, active) -> values`` evaluated where ``active`` (same shape as x).
        x0: starting points.
        xtol: absolute tolerance on x (relative tolerance on mu for x = log mu).

    Returns:
        (roots, converged).
    """
    shape = x0.shape
    a, fa = np.full(shape, -np.inf), np.full(shape, np.nan)  # func > 0 side
    b, fb = np.full(shape, np.inf), np.full(shape, np.nan)  # func < 0 side
    last_side = np.zeros(shape, dtype=int)
    x, step = x0.copy(), np.full(shape, first_step)
    done = np.zeros(shape, dtype=bool)
    root = np.full(shape, np.nan)
    for _ in range(max_iter):
        active = ~done
        if not active.any():
            break
        value = func(x, active)
        bad = active & ~np.isfinite(value)
        done |= bad
        ok = active & ~bad
        pos, neg = ok & (value >= 0), ok & (value < 0)
        # Illinois: halve the stale end when the same end moves twice in a row
        fb = np.where(pos & (last_side == 1), fb * 0.5, fb)
        fa = np.where(neg & (last_side == -1), fa * 0.5, fa)
        a, fa = np.where(pos, x, a), np.where(pos, value, fa)
        b, fb = np.where(neg, x, b), np.where(neg, value, fb)
        last_side = np.where(pos, 1, np.where(neg, -1, last_side))
        bracketed = np.isfinite(a) & np.isfinite(b)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            secant = (a * fb - b * fa) / (fb - fa)
            middle = 0.5 * (a + b)
        secant = np.where(np.isfinite(secant) & (secant > a) & (secant < b), secant, middle)
        finished = ok & bracketed & ((b - a < xtol) | (np.abs(secant - x) < 0.5 * xtol))
        root = np.where(finished, secant, root)
        done |= finished
        step = np.where(ok & ~bracketed, step * 2.0, step)
        x = np.where(bracketed, secant, np.where(np.isfinite(a), a + step, b - step))
    return root, np.isfinite(root)


def _q_asimov(problem: _LimitProblem, mu: np.ndarray) -> np.ndarray:
    """q_mu,A (N,) at internal POI values ``mu`` (conditional fits to the Asimov data)."""
    value, _, _ = _fit(problem.asimov, problem.warm_asimov[2], poi=mu)
    return np.maximum(value - problem.asimov_value, 0.0)


def _initial_guesses(problem: _LimitProblem, level: float) -> np.ndarray:
    """log mu starting points (6, N): CCGV eq. 89 with sigma_A = mu / sqrt(q_mu,A) at mu = the scale.

    The observed limit starts at the median expected one shifted by mu_hat.
    """
    n_rows = problem.free_value.size
    sigma = 1.0 / np.sqrt(np.maximum(_q_asimov(problem, np.ones(n_rows)), 1e-6))  # internal mu = 1
    factors = stats.norm.isf(level * stats.norm.cdf(BAND_SIGMAS)) + BAND_SIGMAS
    expected = sigma[None, :] * factors[:, None]
    observed = expected[2] + np.maximum(problem.free_poi, 0.0)
    return np.log(np.maximum(np.vstack([observed[None, :], expected]), 1e-3))


def _limits_of_rows(rows: _Rows, theta0: np.ndarray, *, level: float, rtol: float) -> tuple[np.ndarray, np.ndarray]:
    """Internal-unit limits (6, N) (observed, then the bands) and convergence (N,) of some rows."""
    problem = _limit_problem(rows, theta0)
    log_level = float(np.log(level))
    x0 = _initial_guesses(problem, level)
    roots, found = _decreasing_root(
        lambda x, active: _log_cls_minus_level(problem, x, active, log_level), x0, xtol=rtol
    )
    return np.exp(roots), (found & problem.converged).all(axis=0) & problem.base_converged


def upper_limits(batch: WindowBatch, *, level: float, rtol: float = 1e-5, chunk_size: int = 4096) -> BatchLimits:
    """CLs upper limits with qtilde for every hypothesis and dataset (asymptotic, CCGV).

    Per tested mu, q_mu,A comes from the conditional fit to the Asimov dataset of the
    background-only fit to the data, exactly as pyhf's ``hypotest``; the limits are the roots
    of log CLs(mu) = log(level): observed, and expected for N = -2 .. 2 (Phi(N - sqrt(q_mu,A)) /
    Phi(N) = level, i.e. CCGV eq. 89 mu_N = sigma_A (Phi^-1(1 - level Phi(N)) + N) with sigma_A =
    mu_N / sqrt(q_mu_N,A) at the band's own limit).

    Args:
        batch: models and data.
        level: CLs threshold (0.05 for 95% CL).
        rtol: relative tolerance of every limit.
        chunk_size: fits (dataset x hypothesis) processed together; bounds the memory (each
            tested POI value fits 7 rows per fit: data and Asimov for 6 limits).

    Returns:
        Observed (..., H) and expected (5, ..., H) limits in the POI's units, and a flag that
        every fit and root finding converged.
    """
    rows, scale = _rows(batch)
    theta0 = _to_internal(_initial(batch, scale.size), scale)
    parts = [
        _limits_of_rows(rows.take(slice(i, i + chunk_size)), theta0[i : i + chunk_size], level=level, rtol=rtol)
        for i in range(0, scale.size, chunk_size)
    ]
    limits = np.concatenate([p[0] for p in parts], axis=1) * scale[None, :]
    converged = np.concatenate([p[1] for p in parts])
    if not converged.all():
        log.warning("upper limits: %d of %d did not converge", int((~converged).sum()), converged.size)
    shape = batch.lead_shape + (batch.n_hypotheses,)
    return BatchLimits(limits[0].reshape(shape), limits[1:].reshape((5,) + shape), converged.reshape(shape))


# --------------------------------------------------------------------------------------------
# pseudo-data
# --------------------------------------------------------------------------------------------


def expected_data(batch: WindowBatch, parameters: np.ndarray) -> np.ndarray:
    """Expected counts (..., H, B) at ``parameters`` (..., H, P) in the POI's units."""
    rows, scale = _rows(batch)
    theta = _to_internal(np.broadcast_to(parameters, batch.aux.shape).reshape(-1, len(batch.parameters)), scale)
    return _expected_counts(rows, theta).reshape(batch.data.shape)


def sample_toys(batch: WindowBatch, n_toys: int, *, rng: np.random.Generator, mu: float = 0.0) -> WindowBatch:
    """Pseudo-datasets from the fit at fixed ``mu`` (0: background-only) to the observed data.

    Counts are Poisson around the expected counts and auxiliary data Gaussian (unit width)
    around the fitted constrained parameters, as pyhf's ``ToyCalculator`` samples the model.

    Returns:
        A batch with data (n_toys, H, B) and aux (n_toys, H, P).
    """
    if batch.lead_shape:
        raise ValueError("sample_toys needs one dataset per hypothesis")
    fit = fit_fixed_poi(batch, mu)
    expected = expected_data(batch, fit.parameters)
    data = rng.poisson(np.broadcast_to(expected, (n_toys,) + expected.shape)).astype(float)
    aux = fit.parameters + rng.standard_normal((n_toys,) + fit.parameters.shape)
    aux = np.where(batch.constrained & batch.present, aux, 0.0)
    return batch.with_data(data, aux)


# --------------------------------------------------------------------------------------------
# the pyhf cross-check
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReferenceResult:
    """pyhf's limits (observed, expected -2 .. +2 sigma) and discovery p0, Z of one spec."""

    observed: float
    expected: tuple[float, float, float, float, float]
    p0: float
    z: float


def pyhf_reference(spec: dict, level: float, *, rtol: float = 1e-4) -> ReferenceResult:
    """pyhf's own root finding for one spec (the cross-check of the engine).

    Limits: ``pyhf.infer.intervals.upper_limits.toms748_scan`` with qtilde, the POI bracket
    [0.05, 10] x its init and POI bounds [0, 1000 x init] (attempt 1 of
    ``darkscan.stats.scan._upper_limit``). p0: ``pyhf.infer.hypotest(0.0, test_stat="q0")``
    with the spec's bounds.

    Args:
        spec: a pyhf workspace spec.
        level: CLs threshold.
        rtol: relative tolerance of the TOMS 748 root finding.
    """
    import pyhf  # noqa: PLC0415  (only the cross-check needs pyhf)

    workspace = pyhf.Workspace(spec)
    model = workspace.model()
    data = workspace.data(model)
    poi = model.config.poi_index
    scale = model.config.suggested_init()[poi]
    bounds = model.config.suggested_bounds()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        p0 = float(pyhf.infer.hypotest(0.0, data, model, test_stat="q0"))
        bounds[poi] = (0.0, 1000.0 * scale)
        obs, exp = pyhf.infer.intervals.upper_limits.toms748_scan(
            data, model, 0.05 * scale, 10.0 * scale, level=level, rtol=rtol, test_stat="qtilde", par_bounds=bounds
        )
    p0 = min(max(p0, 1e-300), 0.5) if np.isfinite(p0) else 0.5
    return ReferenceResult(float(obs), tuple(float(e) for e in exp), p0, float(stats.norm.isf(p0)))
