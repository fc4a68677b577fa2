"""Detector response: acceptance, efficiencies and resolutions from the experiment config.

:func:`simulate` turns generator-level :class:`~darkscan.events.TruthEvents` (CM
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
import numexpr as ne
import numpy as np
import pandas as pd
from particle import PDGID

from darkscan.beams import Beams
from darkscan.events import PDG_PHOTON, TruthEvents
from darkscan.experiments import clustering, hermeticity
from darkscan.experiments.beams import cm_to_lab_matrix, transform
from darkscan.experiments.triggers import Reconstructed, trigger_branches


@functools.cache
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
    """Charges of an array of PDG ids (one look-up per distinct id; hash-based, no sort of the array)."""
    codes = np.sort(pd.unique(pdg.ravel()))
    table = np.array([charge_of(int(c)) for c in codes], dtype=np.int8)
    return table[np.searchsorted(codes, pdg)]


def _sin_cos(angle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sin and cos of resolution-sized angles (see :func:`_sin_cos_expressions`)."""
    sin, cos = _sin_cos_expressions("x", angle)
    return ne.evaluate(sin, {"x": angle}), ne.evaluate(cos, {"x": angle})


def _sin_cos_expressions(name: str, angle: np.ndarray) -> tuple[str, str]:
    """numexpr expressions for sin and cos of the array called ``name``: their Taylor series to
    5th/6th order when every |angle| < 0.01 rad (error < 1e-12), the exact functions otherwise."""
    if angle.size and np.max(np.abs(angle)) > 0.01:
        return f"sin({name})", f"cos({name})"
    return (
        f"({name} * (1 - {name} * {name} / 6 * (1 - {name} * {name} / 20)))",
        f"(1 - {name} * {name} / 2 * (1 - {name} * {name} / 12))",
    )


def _smeared_momentum(p4: np.ndarray, pt_new: np.ndarray, d_theta: np.ndarray, d_phi: np.ndarray) -> np.ndarray:
    """Momenta (..., 3) with transverse momentum ``pt_new`` along the direction of ``p4`` turned by
    ``d_theta`` in polar angle and ``d_phi`` in azimuth.

    Built with the angle-addition formulas from the direction cosines (no arctan2, sin or cos of
    the full angles), evaluated by numexpr in one pass per component; a particle with pT = 0 has
    azimuth 0, and |sin(theta')| is floored at 1e-9.
    """
    env = {"px": p4[..., 1], "py": p4[..., 2], "pz": p4[..., 3], "pt_new": pt_new, "dt": d_theta, "df": d_phi}
    sdt, cdt = _sin_cos_expressions("dt", d_theta)
    sdf, cdf = _sin_cos_expressions("df", d_phi)
    pt = "sqrt(px * px + py * py)"
    out = np.empty(pt_new.shape + (3,))
    out[..., 0] = ne.evaluate(f"pt_new * where({pt} > 0, (px * {cdf} - py * {sdf}) / {pt}, {cdf})", env)
    out[..., 1] = ne.evaluate(f"pt_new * where({pt} > 0, (py * {cdf} + px * {sdf}) / {pt}, {sdf})", env)
    # p_z = pT' cot(theta + dt) = pT' (pz cos dt - pt sin dt) / (pt cos dt + pz sin dt)
    denominator = f"abs({pt} * {cdt} + pz * {sdt})"
    floor = "1e-9 * sqrt(px * px + py * py + pz * pz)"
    out[..., 2] = ne.evaluate(
        f"pt_new * (pz * {cdt} - {pt} * {sdt}) / where({denominator} > {floor}, {denominator}, {floor} + 1e-300)", env
    )
    return out


def smear_tracks(p4: np.ndarray, mass: np.ndarray, tracking: dict, rng: np.random.Generator) -> np.ndarray:
    """Smear track momenta: sigma_pT/pT = a pT (+) b/beta, Gaussian angles; returns (..., 3).

    The polar angle and the azimuth get Gaussian offsets of ``theta_resolution`` (rad); pT is
    smeared with the relative resolution and the momentum rebuilt from the smeared pT and angle.
    """
    shape = p4.shape[:-1]
    env = {
        "px": p4[..., 1],
        "py": p4[..., 2],
        "pz": p4[..., 3],
        "m": mass,
        "a": tracking["pt_resolution_a"],
        "b": tracking["pt_resolution_b"],
    }
    d_theta = tracking["theta_resolution"] * rng.standard_normal(shape)
    d_phi = tracking["theta_resolution"] * rng.standard_normal(shape)
    env["g"] = rng.standard_normal(shape)
    # sigma_pT / pT = a pT (+) b / beta, beta = p / sqrt(p^2 + m^2) (floored at 1e-6; padding p = 0)
    pt_new = ne.evaluate(
        "abs(sqrt(px**2 + py**2) * (1 + g * sqrt(a**2 * (px**2 + py**2) + b**2 / "
        "where(sqrt(px**2 + py**2 + pz**2) > 1e-6 * sqrt(px**2 + py**2 + pz**2 + m**2), "
        "(px**2 + py**2 + pz**2) / (px**2 + py**2 + pz**2 + m**2), 1e-12))))",
        env,
    )
    return _smeared_momentum(p4, pt_new, d_theta, d_phi)


def smear_photons(p4: np.ndarray, calorimeter: dict, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Smear photon energies (a/E (+) b/E^1/4 (+) c (+) d/sqrt(E)) and angles; returns (E, p(...,3))."""
    if p4.size == 0:
        return np.zeros(p4.shape[:-1]), np.zeros(p4.shape[:-1] + (3,))
    env = {
        "e": np.maximum(p4[..., 0], 1e-9),
        "g": rng.standard_normal(p4.shape[:-1]),
        "a": calorimeter["energy_resolution_a"],
        "b": calorimeter["energy_resolution_b"],
        "c": calorimeter["energy_resolution_c"],
        "d": calorimeter.get("energy_resolution_d", 0.0),
    }
    e_smeared = ne.evaluate(
        "where(e * (1 + g * sqrt((a / e)**2 + b**2 / sqrt(e) + c**2 + d**2 / e)) > 0, "
        "e * (1 + g * sqrt((a / e)**2 + b**2 / sqrt(e) + c**2 + d**2 / e)), 0)",
        env,
    )
    d_theta = calorimeter["angular_resolution"] * rng.standard_normal(e_smeared.shape)
    d_phi = calorimeter["angular_resolution"] * rng.standard_normal(e_smeared.shape)
    pt, p = _pt_p(p4)
    sin_dt, cos_dt = _sin_cos(d_theta)
    sin_t = np.abs(pt * cos_dt + p4[..., 3] * sin_dt) / np.maximum(p, 1e-300)
    return e_smeared, _smeared_momentum(p4, e_smeared * sin_t, d_theta, d_phi)


def _pt_p(p4: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Transverse momentum and momentum of four-vectors (..., 4)."""
    env = {"px": p4[..., 1], "py": p4[..., 2], "pz": p4[..., 3]}
    return ne.evaluate("sqrt(px * px + py * py)", env), ne.evaluate("sqrt(px * px + py * py + pz * pz)", env)


def in_calorimeter(theta_deg: np.ndarray, calorimeter: dict) -> np.ndarray:
    """True where the polar angle (deg, lab) lies in one of the ECL regions (gaps excluded)."""
    return _in_calorimeter_cos(np.cos(np.radians(theta_deg)), calorimeter)


def _in_polar_range(cos_theta: np.ndarray, theta_min_deg: float, theta_max_deg: float) -> np.ndarray:
    """theta_min <= theta <= theta_max (degrees), tested on cos(theta) (no arccos per particle)."""
    return (cos_theta <= np.cos(np.radians(theta_min_deg))) & (cos_theta >= np.cos(np.radians(theta_max_deg)))


def _in_calorimeter_cos(cos_theta: np.ndarray, calorimeter: dict) -> np.ndarray:
    """:func:`in_calorimeter` on cos(theta) of the lab direction."""
    inside = np.zeros(cos_theta.shape, dtype=bool)
    for region in calorimeter["regions"]:
        inside |= _in_polar_range(cos_theta, region["theta_min_deg"], region["theta_max_deg"])
    return inside


def _calorimeter_response(
    p4: np.ndarray,
    pdg: np.ndarray,
    charge: np.ndarray,
    is_track: np.ndarray,
    cos_theta: np.ndarray,
    calorimeter: dict,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, ak.Array]:
    """ECL clusters and KLM hits of the particles that reach the calorimeter (lab frame).

    Returns the mask of particles with an ECL cluster above threshold, the clusters' smeared
    energies and momenta (event-major), and the KLM hits (jagged unit directions) of the true
    photons that left no ECL cluster (:mod:`darkscan.experiments.hermeticity`).
    """
    n, k = pdg.shape
    flat_p4 = p4.reshape(-1, 4)
    candidate = np.flatnonzero((pdg == PDG_PHOTON) | ((charge != 0) & ~is_track))
    energy, cos = flat_p4[candidate, 0], cos_theta.ravel()[candidate]
    seen = rng.random(candidate.size) < hermeticity.ecl_photon_probability(energy, cos, calorimeter)
    photon_e, photon_p = smear_photons(flat_p4[candidate[seen]], calorimeter, rng)
    kept = photon_e > calorimeter.get("photon_energy_min", 0.0)
    is_photon = np.zeros(n * k, dtype=bool)
    is_photon[candidate[seen][kept]] = True
    missed = ~seen & (pdg.ravel()[candidate] == PDG_PHOTON)
    if calorimeter.get("klm"):
        missed[missed] = rng.random(int(missed.sum())) < hermeticity.klm_photon_probability(
            energy[missed], cos[missed], calorimeter
        )
    else:
        missed[:] = False
    hit = candidate[missed]
    direction = flat_p4[hit, 1:] / np.maximum(np.linalg.norm(flat_p4[hit, 1:], axis=-1), 1e-300)[:, None]
    counts = np.bincount(hit // k, minlength=n)
    klm = _jagged(counts, {"px": direction[:, 0], "py": direction[:, 1], "pz": direction[:, 2]})
    return is_photon.reshape(n, k), photon_e[kept], photon_p[kept], klm


def _add_beam_background(
    n_photons: np.ndarray, photon_e: np.ndarray, photon_p: np.ndarray, calorimeter: dict, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ECL clusters with the beam-background clusters merged in, event-major."""
    counts, energy, direction = hermeticity.beam_background_clusters(len(n_photons), calorimeter, rng)
    if energy.size == 0:
        return n_photons, photon_e, photon_p
    event = np.concatenate([np.repeat(np.arange(len(n_photons)), n_photons), np.repeat(np.arange(len(counts)), counts)])
    order = np.argsort(event, kind="stable")
    merged_e = np.concatenate([photon_e, energy])[order]
    merged_p = np.concatenate([photon_p, energy[:, None] * direction])[order]
    return n_photons + counts, merged_e, merged_p


def _jagged(counts: np.ndarray, fields: dict[str, np.ndarray]) -> ak.Array:
    """Jagged records from flat per-object arrays (event-major order) and objects per event."""
    return ak.zip({name: ak.unflatten(values, counts) for name, values in fields.items()})


def simulate(events: TruthEvents, experiment: dict, rng: np.random.Generator) -> dict[str, object]:
    """Reconstruct tracks, photons and the trigger decision in the lab frame.

    Args:
        events: generator-level events (CM frame).
        experiment: validated experiment config.
        rng: the generator used for every random draw (efficiencies and smearing).

    Returns:
        Mapping of branch name to array: ``track`` (jagged: px, py, pz, charge, muon_id,
        electron_id), ``photon`` (jagged ECL clusters, beam background included, those closer
        than ``calorimeter.cluster_merging`` allows merged (:mod:`darkscan.experiments.clustering`):
        e, px, py, pz), ``klm`` (jagged unit directions of photons seen by the KLM only), one
        bool branch per registered trigger line
        (:mod:`darkscan.experiments.triggers`: ``trigger`` two-track, ``trigger_ecl`` ECL energy
        sum, then the plugins' lines), ``weight`` (fb per event),
        ``truth_invisible_{e,px,py,pz}`` (lab) and ``sqrt_s_true`` (GeV).
    """
    beams = beams_of(experiment)
    n = len(events)
    scale = 1.0 + beams.sqrt_s_spread / beams.sqrt_s * rng.standard_normal(n)
    to_lab = cm_to_lab_matrix(beams)
    # (n*k, 4) @ (4, 4) is one BLAS call; a (n, k, 4) operand would loop over small matrices.
    p4 = transform(events.p4.reshape(-1, 4), to_lab).reshape(events.p4.shape)
    p4 *= scale[:, None, None]
    invisible = transform(events.invisible, to_lab) * scale[:, None]
    pdg = events.pdg
    pt, p = _pt_p(p4)
    cos_theta = p4[..., 3] / np.maximum(p, 1e-300)

    tracking, calorimeter = experiment["tracking"], experiment["calorimeter"]
    charge = _charge(pdg)
    is_track = (charge != 0) & _in_polar_range(cos_theta, tracking["theta_min_deg"], tracking["theta_max_deg"])
    is_track &= pt > tracking.get("pt_min", 0.0)
    is_track &= rng.random(pdg.shape) < tracking.get("efficiency", 1.0)
    particle_id = experiment.get("particle_id", {})
    muon_id = rng.random(pdg.shape) < hermeticity.id_probability("muon", pdg, p, particle_id)
    electron_id = rng.random(pdg.shape) < hermeticity.id_probability("electron", pdg, p, particle_id)
    # Only the particles that make a track (or an ECL cluster) are smeared: flat arrays, event-major.
    track_index = np.flatnonzero(is_track)
    track_p4 = p4.reshape(-1, 4).take(track_index, axis=0)
    track_mass = np.sqrt(np.maximum(track_p4[:, 0] ** 2 - p.ravel().take(track_index) ** 2, 0.0))
    track_p = smear_tracks(track_p4, track_mass, tracking, rng)

    # ECL clusters: photons, and charged particles that left no track but hit the calorimeter
    # (e.g. electrons of two-photon events in the endcaps beyond the CDC acceptance), with the
    # hermeticity model's probability; photons without a cluster may be seen by the KLM.
    is_photon, photon_e, photon_p, klm = _calorimeter_response(p4, pdg, charge, is_track, cos_theta, calorimeter, rng)
    n_tracks = is_track.sum(axis=1)
    n_photons, photon_e, photon_p = _add_beam_background(is_photon.sum(axis=1), photon_e, photon_p, calorimeter, rng)
    # Photons (and beam-background clusters) too close at the crystal face make one cluster.
    clusters = clustering.Clusters(n_photons, photon_e, photon_p)
    clusters = clustering.merge_close_clusters(clusters, calorimeter.get("cluster_merging"))
    n_photons, photon_e, photon_p = clusters.counts, clusters.energy, clusters.momentum
    energy_sum = np.zeros(n)
    np.add.at(energy_sum, np.repeat(np.arange(n), n_photons), photon_e)
    reco = Reconstructed(n_tracks, n_photons, energy_sum, np.hypot(track_p[:, 0], track_p[:, 1]), photon_e)
    decisions = trigger_branches(reco, experiment.get("trigger", {}), rng)
    return {
        "track": _jagged(
            n_tracks,
            {
                "px": track_p[:, 0],
                "py": track_p[:, 1],
                "pz": track_p[:, 2],
                "charge": charge.ravel().take(track_index),
                "muon_id": muon_id.ravel().take(track_index),
                "electron_id": electron_id.ravel().take(track_index),
            },
        ),
        "photon": _jagged(n_photons, {"e": photon_e, "px": photon_p[:, 0], "py": photon_p[:, 1], "pz": photon_p[:, 2]}),
        "klm": klm,
        **decisions,
        "weight": events.weight,
        "truth_invisible_e": invisible[:, 0],
        "truth_invisible_px": invisible[:, 1],
        "truth_invisible_py": invisible[:, 2],
        "truth_invisible_pz": invisible[:, 3],
        "sqrt_s_true": beams.sqrt_s * scale,
    }
