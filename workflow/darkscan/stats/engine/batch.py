"""The batch of models: pyhf JSON specs parsed into padded arrays (:class:`WindowBatch`).

Supported are one channel per spec and the modifiers ``normfactor``, ``normsys`` and ``histosys``
(with the interpolation codes of :mod:`darkscan.stats.engine`); anything else is refused with
the modifier's name. Parameters are identified by name across the batch, the POI first.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

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
    """Parse pyhf JSON specs into a batch (as written by
    :func:`darkscan.stats.methods.window_sidebands.model.build_spec`).

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
