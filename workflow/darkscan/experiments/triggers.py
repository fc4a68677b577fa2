"""Trigger lines: the extension point through which a search adds a trigger decision.

The detector simulation (:func:`darkscan.experiments.detector.simulate`) evaluates every
registered trigger on every event, after the reconstruction, and writes its decision as a bool
branch. A channel requires a trigger with a cut on that branch (``trigger == 1``), and its
variable function names the branch among the ones it reads. A trigger is a function::

    decide(reco: Reconstructed, settings: Mapping, rng: numpy.random.Generator) -> bool array

``settings`` is the experiment's ``trigger`` section (thresholds and efficiencies); a plugin
trigger reads its own keys from ``trigger.<name>`` (a mapping, open in the schema). Triggers
are evaluated in registration order (the built-ins first), each drawing from the same
generator after the reconstruction, so registering a new trigger leaves every existing branch
of a sample unchanged. A trigger that draws no random number at efficiency 1 keeps even the
later triggers' branches unchanged.

Built-in lines: ``two_track`` (branch ``trigger``: at least two reconstructed tracks times the
``two_track_efficiency``) and ``calorimeter_energy_sum`` (branch ``trigger_ecl``: the ECL
energy sum above ``calorimeter_energy_sum_min``, the Belle II "hie" bit, times
``calorimeter_efficiency``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import numpy as np

from darkscan.registry import Registry


@dataclasses.dataclass(frozen=True)
class Reconstructed:
    """What a trigger sees of the reconstructed events (lab frame, arrays over events).

    Attributes:
        n_tracks: reconstructed tracks per event.
        n_photons: ECL clusters per event.
        energy_sum: sum of the cluster energies per event (GeV).
        track_pt: transverse momenta of the tracks (GeV), flat, event-major.
        photon_e: cluster energies (GeV), flat, event-major.
    """

    n_tracks: np.ndarray
    n_photons: np.ndarray
    energy_sum: np.ndarray
    track_pt: np.ndarray
    photon_e: np.ndarray

    def __len__(self) -> int:
        return len(self.n_tracks)


Decision = Callable[[Reconstructed, Mapping, np.random.Generator], np.ndarray]


@dataclasses.dataclass(frozen=True)
class Trigger:
    """A registered trigger line: its decision function and the branch it writes."""

    name: str
    decide: Decision
    branch: str
    description: str


_TRIGGERS: Registry[Trigger] = Registry("trigger")


def register_trigger(name: str, *, branch: str, description: str) -> Callable[[Decision], Decision]:
    """Decorator registering a trigger line ``name`` that writes the bool branch ``branch``."""

    def wrap(func: Decision) -> Decision:
        if branch in {t.branch for t in _TRIGGERS.values(load=False)}:
            raise ValueError(f"trigger {name!r}: branch {branch!r} is written by another trigger")
        _TRIGGERS.add(name, Trigger(name, func, branch, description))
        return func

    return wrap


def triggers() -> list[Trigger]:
    """The registered trigger lines in evaluation order (built-ins first)."""
    return _TRIGGERS.values()


def trigger_names() -> list[str]:
    """The registered trigger lines, sorted."""
    return _TRIGGERS.names()


def trigger_branches(reco: Reconstructed, settings: Mapping, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Every trigger's decision, by branch name."""
    return {t.branch: np.asarray(t.decide(reco, settings, rng), dtype=bool) for t in triggers()}


def _with_efficiency(passed: np.ndarray, efficiency: float, rng: np.random.Generator) -> np.ndarray:
    """``passed`` thinned by ``efficiency``; no random number is drawn at efficiency 1."""
    if efficiency < 1.0:
        passed = passed & (rng.random(len(passed)) < efficiency)
    return passed


@register_trigger("two_track", branch="trigger", description="at least two reconstructed tracks (CDC trigger)")
def two_track(reco: Reconstructed, settings: Mapping, rng: np.random.Generator) -> np.ndarray:
    """Two-track trigger: two or more tracks, times ``two_track_efficiency`` (default 1)."""
    # One number per event is drawn whatever the efficiency: samples written before the trigger
    # registry drew it, and their branches stay bit-identical.
    return (reco.n_tracks >= 2) & (rng.random(len(reco)) < settings.get("two_track_efficiency", 1.0))


@register_trigger("calorimeter_energy_sum", branch="trigger_ecl", description="ECL energy sum (Belle II hie bit)")
def calorimeter_energy_sum(reco: Reconstructed, settings: Mapping, rng: np.random.Generator) -> np.ndarray:
    """ECL energy-sum trigger: sum above ``calorimeter_energy_sum_min`` (default 1 GeV), times
    ``calorimeter_efficiency`` (default 1)."""
    passed = reco.energy_sum > settings.get("calorimeter_energy_sum_min", 1.0)
    return _with_efficiency(passed, settings.get("calorimeter_efficiency", 1.0), rng)
