"""Hermeticity and particle identification: where a particle leaves no trace, and what it is taken for.

The vetoes of the missing-energy searches rest on how rarely a photon escapes detection. A
photon in the lab frame is seen by the ECL with a probability that depends on its energy and
on the crystal region it hits (``calorimeter.photon_efficiency``, a number or an energy
curve, overridden per region); photons in the gaps between the regions or outside them leave
no ECL cluster. A photon without an ECL cluster can still be seen by the KLM behind it
(``calorimeter.klm``: its polar coverage and a photon-detection efficiency vs energy), which
the vetoes use. Beam backgrounds add soft clusters at random positions
(``calorimeter.beam_background``: a mean number of clusters above the threshold and the slope
of their exponential energy spectrum).

Identification efficiencies (``particle_id``) are numbers or curves in the lab momentum: the
muon ID with its KLM threshold, pion and electron misidentification as muons, the electron ID
and pion misidentification as electrons.

A curve is ``{x: [...], y: [...]}`` (x increasing; GeV), evaluated piecewise linearly and held
constant beyond its ends (:func:`evaluate_curve`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from darkscan.events import PDG_ELECTRON, PDG_MUON, PDG_PION

Curve = float | Mapping[str, list[float]]


def evaluate_curve(curve: Curve, x: np.ndarray) -> np.ndarray:
    """The value of a number or a piecewise-linear curve ``{x, y}`` at ``x`` (constant beyond its ends)."""
    x = np.asarray(x, dtype=np.float64)
    if isinstance(curve, Mapping):
        return np.interp(x, np.asarray(curve["x"], dtype=np.float64), np.asarray(curve["y"], dtype=np.float64))
    return np.full(x.shape, float(curve))


def _polar_mask(cos_theta: np.ndarray, theta_min_deg: float, theta_max_deg: float) -> np.ndarray:
    return (cos_theta <= np.cos(np.radians(theta_min_deg))) & (cos_theta >= np.cos(np.radians(theta_max_deg)))


def ecl_photon_probability(energy: np.ndarray, cos_theta: np.ndarray, calorimeter: Mapping) -> np.ndarray:
    """Probability that a photon (lab energy in GeV, lab cos(theta)) makes an ECL cluster.

    Zero outside the crystal regions and in the gaps between them; inside a region, the region's
    ``photon_efficiency`` if it has one, else the calorimeter's (numbers or energy curves).
    """
    default = calorimeter.get("photon_efficiency", 1.0)
    probability = np.zeros(np.shape(energy))
    for region in calorimeter["regions"]:
        inside = _polar_mask(cos_theta, region["theta_min_deg"], region["theta_max_deg"])
        if np.any(inside):
            probability[inside] = evaluate_curve(region.get("photon_efficiency", default), energy[inside])
    return probability


def klm_photon_probability(energy: np.ndarray, cos_theta: np.ndarray, calorimeter: Mapping) -> np.ndarray:
    """Probability that a photon the ECL did not see makes a KLM cluster (zero without ``klm``)."""
    klm = calorimeter.get("klm")
    probability = np.zeros(np.shape(energy))
    if not klm:
        return probability
    inside = _polar_mask(cos_theta, klm["theta_min_deg"], klm["theta_max_deg"])
    probability[inside] = evaluate_curve(klm["photon_efficiency"], energy[inside])
    return probability


def beam_background_clusters(
    n_events: int, calorimeter: Mapping, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Soft beam-background clusters: (counts per event, energies, lab directions (k, 3)).

    A Poisson number per event (mean ``clusters_mean``), energies above ``photon_energy_min``
    with an exponential spectrum of slope ``energy_scale`` (GeV), directions uniform in
    cos(theta) over the ECL regions and in azimuth. No draw at all without ``beam_background``.
    """
    spec = calorimeter.get("beam_background")
    if not spec or spec["clusters_mean"] <= 0:
        return np.zeros(n_events, dtype=np.int64), np.zeros(0), np.zeros((0, 3))
    counts = rng.poisson(spec["clusters_mean"], n_events)
    k = int(counts.sum())
    threshold = calorimeter.get("photon_energy_min", 0.0)
    energy = threshold + rng.exponential(spec["energy_scale"], k)
    regions = calorimeter["regions"]
    cos_hi = np.cos(np.radians([r["theta_min_deg"] for r in regions]))
    cos_lo = np.cos(np.radians([r["theta_max_deg"] for r in regions]))
    width = cos_hi - cos_lo
    region = rng.choice(len(regions), size=k, p=width / width.sum())
    cos_theta = cos_lo[region] + width[region] * rng.random(k)
    phi = 2 * np.pi * rng.random(k)
    sin_theta = np.sqrt(1 - cos_theta**2)
    direction = np.stack([sin_theta * np.cos(phi), sin_theta * np.sin(phi), cos_theta], axis=-1)
    return counts, energy, direction


#: identification hypothesis -> true species -> (particle_id key, default when the key is absent)
_ID_KEYS = {
    "muon": {
        PDG_MUON: ("muon_efficiency", 1.0),
        PDG_PION: ("pion_as_muon", 0.0),
        PDG_ELECTRON: ("electron_as_muon", 0.0),
    },
    "electron": {
        PDG_ELECTRON: ("electron_efficiency", 1.0),
        PDG_PION: ("pion_as_electron", 0.0),
        PDG_MUON: ("muon_as_electron", 0.0),
    },
}


def id_probability(hypothesis: str, pdg: np.ndarray, momentum: np.ndarray, particle_id: Mapping) -> np.ndarray:
    """Probability that a track is identified as ``hypothesis`` (``muon``, ``electron``), by true
    species and lab momentum (GeV)."""
    curves = {code: particle_id.get(key, default) for code, (key, default) in _ID_KEYS[hypothesis].items()}
    return _id_probability(pdg, momentum, curves)


def _id_probability(pdg: np.ndarray, momentum: np.ndarray, curves: Mapping[int, Curve]) -> np.ndarray:
    probability = np.zeros(np.shape(pdg))
    species = np.abs(pdg)
    for code, curve in curves.items():
        mask = species == code
        if np.any(mask):
            probability[mask] = evaluate_curve(curve, momentum[mask])
    return probability
