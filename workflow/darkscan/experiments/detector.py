"""Detector response: acceptance, efficiencies and resolutions from the experiment config.

:func:`simulate` turns generator-level :class:`~darkscan.generate.events.TruthEvents` (CM
frame) into reconstructed objects in the lab frame: tracks (with charge and a muon-ID flag)
and ECL photons, plus the trigger decision. The result is a mapping of awkward/numpy arrays
ready to be written as the TTree ``events`` of a sample file.

Particle content. Charges come from the PDG id (``particle`` package), so every charged
long-lived particle (e, mu, pi, K, p, Sigma, ...) can make a track; charged particles that
leave no track but reach the ECL make a cluster. Neutral hadrons (K_L, n, anti-n) are
ignored: no track, no ECL cluster (their hadronic showers are not modelled); neutrinos never
appear in the particle list (they are summed into ``invisible``).
"""

from __future__ import annotations

import functools

import awkward as ak
import numpy as np
from particle import PDGID

from darkscan.config import Beams
from darkscan.experiments.beams import cm_to_lab_matrix, transform
from darkscan.generate.events import PDG_ELECTRON, PDG_MUON, PDG_PHOTON, PDG_PION, TruthEvents



@functools.lru_cache(maxsize=None)
def charge_of(code: int) -> int:
    """Electric charge (units of e) of the particle with PDG id ``code``; 0 for padding or unknown ids."""
    if code == 0:
        return 0
    three_charge = PDGID(code).three_charge
    if three_charge is None:
        return 0
    return int(round(three_charge / 3))


def beams_of(experiment: dict) -> Beams:
    """The :class:`Beams` of an experiment config."""
    return Beams(**experiment["beams"])


def _charge(pdg: np.ndarray) -> np.ndarray:
    """Charges of an array of PDG ids (one look-up per distinct id)."""
    codes, inverse = np.unique(pdg, return_inverse=True)
    table = np.array([charge_of(int(c)) for c in codes], dtype=np.int8)
    return table[inverse].reshape(pdg.shape)


def _polar_deg(p4: np.ndarray) -> np.ndarray:
    pt = np.hypot(p4[..., 1], p4[..., 2])
    return np.degrees(np.arctan2(pt, p4[..., 3]))


def _from_angles(p: np.ndarray, theta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    return np.stack([p * np.sin(theta) * np.cos(phi), p * np.sin(theta) * np.sin(phi), p * np.cos(theta)], axis=-1)


def smear_tracks(p4: np.ndarray, mass: np.ndarray, tracking: dict, rng: np.random.Generator) -> np.ndarray:
    """Smear track momenta: sigma_pT/pT = a pT (+) b/beta, Gaussian angles; returns (..., 3)."""
    p = np.linalg.norm(p4[..., 1:], axis=-1)
    pt = np.hypot(p4[..., 1], p4[..., 2])
    beta = p / np.maximum(np.sqrt(p * p + mass * mass), 1e-300)  # padding slots: p = m = 0
    rel = np.hypot(tracking["pt_resolution_a"] * pt, tracking["pt_resolution_b"] / np.maximum(beta, 1e-6))
    theta = np.arctan2(pt, p4[..., 3]) + tracking["theta_resolution"] * rng.standard_normal(p.shape)
    phi = np.arctan2(p4[..., 2], p4[..., 1]) + tracking["theta_resolution"] * rng.standard_normal(p.shape)
    pt_smeared = pt * (1.0 + rel * rng.standard_normal(p.shape))
    p_smeared = pt_smeared / np.maximum(np.sin(theta), 1e-9)
    return _from_angles(np.abs(p_smeared), theta, phi)


def smear_photons(p4: np.ndarray, calorimeter: dict, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Smear photon energies (a/E (+) b/E^1/4 (+) c (+) d/sqrt(E)) and angles; returns (E, p(...,3))."""
    e = np.maximum(p4[..., 0], 1e-9)
    rel = np.sqrt((calorimeter["energy_resolution_a"] / e) ** 2 + (calorimeter["energy_resolution_b"] / e**0.25) ** 2 + calorimeter["energy_resolution_c"] ** 2
                  + calorimeter.get("energy_resolution_d", 0.0) ** 2 / e)
    e_smeared = np.maximum(e * (1.0 + rel * rng.standard_normal(e.shape)), 0.0)
    pt = np.hypot(p4[..., 1], p4[..., 2])
    theta = np.arctan2(pt, p4[..., 3]) + calorimeter["angular_resolution"] * rng.standard_normal(e.shape)
    phi = np.arctan2(p4[..., 2], p4[..., 1]) + calorimeter["angular_resolution"] * rng.standard_normal(e.shape)
    return e_smeared, _from_angles(e_smeared, theta, phi)


def in_calorimeter(theta_deg: np.ndarray, calorimeter: dict) -> np.ndarray:
    """True where the polar angle (deg, lab) lies in one of the ECL regions (gaps excluded)."""
    inside = np.zeros(theta_deg.shape, dtype=bool)
    for region in calorimeter["regions"]:
        inside |= (theta_deg >= region["theta_min_deg"]) & (theta_deg <= region["theta_max_deg"])
    return inside


def _muon_id_probability(pdg: np.ndarray, particle_id: dict) -> np.ndarray:
    prob = np.zeros(pdg.shape)
    prob[np.abs(pdg) == PDG_MUON] = particle_id.get("muon_efficiency", 1.0)
    prob[np.abs(pdg) == PDG_PION] = particle_id.get("pion_as_muon", 0.0)
    prob[np.abs(pdg) == PDG_ELECTRON] = particle_id.get("electron_as_muon", 0.0)
    return prob


def _jagged(mask: np.ndarray, fields: dict[str, np.ndarray]) -> ak.Array:
    counts = mask.sum(axis=1)
    return ak.zip({name: ak.unflatten(values[mask], counts) for name, values in fields.items()})


def calorimeter_trigger(energy_sum: np.ndarray, experiment: dict, rng: np.random.Generator) -> np.ndarray:
    """ECL energy-sum trigger: sum of cluster energies (lab) above ``trigger.calorimeter_energy_sum_min``
    (default 1 GeV, the Belle II "hie" ECL trigger bit) and efficiency ``trigger.calorimeter_efficiency``
    (default 1). No random number is drawn at efficiency 1, so the other branches of existing
    samples are unchanged by this flag."""
    trig = experiment.get("trigger", {})
    passed = energy_sum > trig.get("calorimeter_energy_sum_min", 1.0)
    efficiency = trig.get("calorimeter_efficiency", 1.0)
    if efficiency < 1.0:
        passed &= rng.random(len(energy_sum)) < efficiency
    return passed


def simulate(events: TruthEvents, experiment: dict, rng: np.random.Generator) -> dict[str, object]:
    """Reconstruct tracks, photons and the trigger decision in the lab frame.

    Args:
        events: generator-level events (CM frame).
        experiment: validated experiment config.
        rng: the generator used for every random draw (efficiencies and smearing).

    Returns:
        Mapping of branch name to array: ``track`` (jagged: px, py, pz, charge, muon_id),
        ``photon`` (jagged: e, px, py, pz), ``trigger`` (two-track, bool), ``trigger_ecl`` (ECL
        energy sum, bool), ``weight`` (fb per event),
        ``truth_invisible_{e,px,py,pz}`` (lab) and ``sqrt_s_true`` (GeV).
    """
    beams = beams_of(experiment)
    n = len(events)
    scale = 1.0 + beams.sqrt_s_spread / beams.sqrt_s * rng.standard_normal(n)
    to_lab = cm_to_lab_matrix(beams)
    p4 = transform(events.p4 * scale[:, None, None], to_lab)
    invisible = transform(events.invisible * scale[:, None], to_lab)
    pdg = events.pdg
    theta = _polar_deg(p4)

    tracking, calorimeter = experiment["tracking"], experiment["calorimeter"]
    charge = _charge(pdg)
    mass = np.sqrt(np.maximum(p4[..., 0] ** 2 - (p4[..., 1:] ** 2).sum(-1), 0.0))
    is_track = (charge != 0) & (theta >= tracking["theta_min_deg"]) & (theta <= tracking["theta_max_deg"])
    is_track &= np.hypot(p4[..., 1], p4[..., 2]) > tracking.get("pt_min", 0.0)
    is_track &= rng.random(pdg.shape) < tracking.get("efficiency", 1.0)
    track_p = smear_tracks(p4, mass, tracking, rng)
    muon_id = rng.random(pdg.shape) < _muon_id_probability(pdg, experiment.get("particle_id", {}))

    # ECL clusters: photons, and charged particles that left no track but hit the calorimeter
    # (e.g. electrons of two-photon events in the endcaps beyond the CDC acceptance).
    is_photon = ((pdg == PDG_PHOTON) | ((charge != 0) & ~is_track)) & in_calorimeter(theta, calorimeter)
    photon_e, photon_p = smear_photons(p4, calorimeter, rng)
    is_photon &= photon_e > calorimeter.get("photon_energy_min", 0.0)
    is_photon &= rng.random(pdg.shape) < calorimeter.get("photon_efficiency", 1.0)

    n_tracks = is_track.sum(axis=1)
    trigger = (n_tracks >= 2) & (rng.random(n) < experiment.get("trigger", {}).get("two_track_efficiency", 1.0))
    trigger_ecl = calorimeter_trigger(np.where(is_photon, photon_e, 0.0).sum(axis=1), experiment, rng)
    return {
        "track": _jagged(is_track, {"px": track_p[..., 0], "py": track_p[..., 1], "pz": track_p[..., 2], "charge": charge, "muon_id": muon_id}),
        "photon": _jagged(is_photon, {"e": photon_e, "px": photon_p[..., 0], "py": photon_p[..., 1], "pz": photon_p[..., 2]}),
        "trigger": trigger,
        "trigger_ecl": trigger_ecl,
        "weight": events.weight,
        "truth_invisible_e": invisible[:, 0],
        "truth_invisible_px": invisible[:, 1],
        "truth_invisible_py": invisible[:, 2],
        "truth_invisible_pz": invisible[:, 3],
        "sqrt_s_true": beams.sqrt_s * scale,
    }
