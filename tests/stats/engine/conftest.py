"""Shared models of the engine tests: realistic scan models and hand-made windows.

The specs come from the workflow's own model builder (``window_inputs`` + ``build_spec``) on a
falling background spectrum: windows from ~1e4 down to ~0.5 background events, 3 bins in the
bulk and 2 at the histogram edges, and every combination of modifiers the systematics table can
produce; plus hand-made one- and two-bin windows. The data are Poisson fluctuations (excesses
and deficits) with two injected signals. The fixtures are pure data, built once per session.
"""

from __future__ import annotations

import hist
import numpy as np
import pyhf
import pytest

from darkscan.stats import engine
from darkscan.stats.methods.window_sidebands.model import WindowInputs, build_spec, signal_scale, window_inputs
from darkscan.stats.signal_model import Interpolated
from darkscan.systematics.table import Systematic

LEVEL = 0.10  # 90% CL, as the zprime_invisible and dark_higgsstrahlung channels
FINE = np.linspace(0.0, 10.0, 1001)  # 10 MeV bins
LUMINOSITY_FB = 50.0
SIGNAL = [Systematic("luminosity", "signal", "normsys", 0.02, ""), Systematic("muon_id", "signal", "normsys", 0.04, "")]
RESOLUTION = [Systematic("mass_resolution", "signal", "histosys", 0.10, "")]
MC_STAT = [Systematic("background_mc_statistics", "background", "staterror", float("nan"), "")]
BKG_NORM = [
    Systematic("background_xsec", "background", "normsys", 0.05, ""),
    Systematic("trigger", "background", "normsys", 0.10, ""),
]
SYSTEMATICS = {
    "full": SIGNAL + RESOLUTION + MC_STAT + BKG_NORM[:1],
    "none": [],
    "signal": SIGNAL + RESOLUTION,
    "mc_stat": MC_STAT,
    "background": BKG_NORM,
}
# (mass GeV, systematics set, injected signal events in the window); low masses: ~1e4 events
CASES = [
    (0.03, "full", 0.0),  # low sideband outside the histogram: 2 bins
    (0.45, "full", 0.0),
    (0.90, "none", 0.0),
    (1.60, "mc_stat", 300.0),  # excess
    (2.50, "signal", 0.0),
    (3.40, "background", 0.0),
    (4.30, "full", 40.0),
    (5.50, "mc_stat", 0.0),
    (6.60, "signal", 0.0),
    (7.70, "full", 6.0),
    (8.80, "none", 0.0),
    (9.70, "full", 0.0),  # ~0.5 background events, high sideband cut at the edge
    (9.93, "signal", 0.0),  # high sideband outside: 2 bins
]


def _resolution(mass: float) -> float:
    return 0.02 + 0.008 * mass


def _hist(values: np.ndarray, variances: np.ndarray) -> hist.Hist:
    h = hist.Hist(hist.axis.Variable(FINE), storage=hist.storage.Weight())
    h.view().value = values
    h.view().variance = variances
    return h


def _signal(mass: float, rng: np.random.Generator) -> Interpolated:
    values = mass + _resolution(mass) * rng.standard_normal(4000)
    return Interpolated(mass, 0.3, _resolution(mass), 1.0, values, np.full(values.size, 0.3 / values.size))


def scan_specs(cases=CASES, *, seed: int = 7) -> list[dict]:
    """Specs of a scan on a falling spectrum (MC weight 0.3: sumw2 = 0.3 x content)."""
    rng = np.random.default_rng(seed)
    centres = 0.5 * (FINE[1:] + FINE[:-1])
    background = 2500.0 * np.exp(-1.25 * centres)
    truth = background.copy()
    for mass, _, injected in cases:
        if injected:
            window = np.abs(centres - mass) < 2 * _resolution(mass)
            truth[window] += injected / window.sum()
    data = _hist(rng.poisson(truth).astype(float), np.zeros_like(truth))
    mc = _hist(background, 0.3 * background)
    specs = []
    for mass, systematics, _ in cases:
        syst = SYSTEMATICS[systematics]
        inputs = window_inputs(
            mass,
            _signal(mass, rng),
            data=data,
            background=mc,
            luminosity_fb=LUMINOSITY_FB,
            window_sigmas=6.0,
            signal_sigmas=2.0,
            resolution_scale=0.10,
        )
        specs.append(build_spec(inputs, syst, scale_fb=signal_scale(inputs), background_floor=1e-3))
    return specs


def direct_specs() -> list[dict]:
    """Hand-made windows: one bin with a deficit and with an excess, two bins with few events."""
    cases = [
        (np.array([0.0]), np.array([0.5]), np.array([1.5]), SIGNAL),
        (np.array([9.0]), np.array([3.2]), np.array([2.0]), SIGNAL + BKG_NORM[:1]),
        (np.array([40.0, 3.0]), np.array([38.0, 1.2]), np.array([0.4, 6.0]), SIGNAL + RESOLUTION + MC_STAT),
    ]
    specs = []
    for data, background, signal, syst in cases:
        inputs = WindowInputs(
            edges=np.arange(data.size + 1.0),
            data=data,
            background=background,
            background_sumw2=0.3 * background,
            signal=signal,
            signal_up=signal * 0.97,
            signal_down=signal * 1.02,
        )
        specs.append(build_spec(inputs, syst, scale_fb=signal_scale(inputs), background_floor=1e-3))
    return specs


@pytest.fixture(scope="session")
def specs() -> list[dict]:
    return scan_specs() + direct_specs()


@pytest.fixture(scope="session")
def batch(specs) -> engine.WindowBatch:
    return engine.batch_from_specs(specs)


@pytest.fixture(scope="session")
def limits(batch) -> engine.BatchLimits:
    return engine.upper_limits(batch, level=LEVEL)


def _pyhf(spec: dict, **model_kwargs):
    workspace = pyhf.Workspace(spec)
    model = workspace.model(**model_kwargs)
    return model, workspace.data(model)


@pytest.fixture(scope="session")
def level() -> float:
    """The CLs threshold of the tests."""
    return LEVEL


@pytest.fixture(scope="session")
def pyhf_model():
    """pyhf's model and observed data of a spec: ``pyhf_model(spec, **model_kwargs)``."""
    return _pyhf
