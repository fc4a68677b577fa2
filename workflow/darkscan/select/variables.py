"""Registered variable functions: the channel-specific columns that cuts and fits use.

A channel config names one with ``selection.variables``. A variable function receives the
reconstructed events of one chunk (an awkward array with the branches written by
``darkscan.experiments.detector.simulate``) and the experiment config, and returns a mapping of
column name to 1-D numpy array. Register new ones with :func:`register_variables`; this is the
extension point for new signatures.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import awkward as ak
import numpy as np

from darkscan.beams import Beams
from darkscan.experiments.beams import beam_four_momenta, lab_to_cm_matrix, transform
from darkscan.physics.constants import MUON_MASS
from darkscan.registry import Registry

VariableFunction = Callable[[ak.Array, dict], dict[str, np.ndarray]]


@dataclasses.dataclass(frozen=True)
class Column:
    """A column a variable function computes: its axis label and unit (``""``: dimensionless)."""

    label: str
    unit: str = ""


@dataclasses.dataclass(frozen=True)
class VariableSet:
    """A registered variable function with the branches it reads and the columns it returns."""

    function: VariableFunction
    branches: tuple[str, ...]
    columns: Mapping[str, Column]


# The built-in variable functions are defined below in this module.
_VARIABLES: Registry[VariableSet] = Registry("variable function")


def register_variables(
    name: str, *, branches: tuple[str, ...], columns: Mapping[str, Column]
) -> Callable[[VariableFunction], VariableFunction]:
    """Register a variable function under ``name``.

    Args:
        name: the name channel configs use (``selection.variables``).
        branches: the input branches it reads.
        columns: every column it returns, with label and unit: cut expressions and fit
            variables are checked against them before any job runs (:mod:`darkscan.preflight`).
    """

    def wrap(func: VariableFunction) -> VariableFunction:
        _VARIABLES.add(name, VariableSet(func, tuple(branches), dict(columns)))
        return func

    return wrap


def get_variables(name: str) -> tuple[VariableFunction, tuple[str, ...]]:
    """The registered variable function ``name`` and the branches it needs."""
    entry = _VARIABLES.get(name)
    return entry.function, entry.branches


def variable_columns(name: str) -> dict[str, Column]:
    """The columns (with labels and units) that the variable function ``name`` returns."""
    return dict(_VARIABLES.get(name).columns)


def variable_function_names() -> list[str]:
    """The registered variable functions."""
    return _VARIABLES.names()


def _angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cos = (a * b).sum(-1) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-12)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def _polar_deg(p: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(np.hypot(p[:, 0], p[:, 1]), p[:, 2]))


def four_vector(p3: np.ndarray, mass: float) -> np.ndarray:
    """Four-momenta (..., 4) of momenta p3 (..., 3) given ``mass`` (shared with plugin modules)."""
    return np.concatenate([np.sqrt((p3**2).sum(-1, keepdims=True) + mass**2), p3], axis=-1)


def _minkowski_square(p4: np.ndarray) -> np.ndarray:
    return p4[:, 0] ** 2 - (p4[:, 1:] ** 2).sum(-1)


_TRACK_PAD = {"px": 0.0, "py": 0.0, "pz": 0.0, "charge": 0, "muon_id": False, "electron_id": False}


def leading_two_tracks(track: ak.Array) -> dict[str, np.ndarray]:
    """The two highest-pT tracks, zero-padded: ``p`` (N, 2, 3), ``charge``, ``muon_id``,
    ``electron_id`` (N, 2) and ``n_tracks`` (N,) (shared with plugin modules)."""
    order = ak.argsort(np.hypot(track.px, track.py), ascending=False)
    padded = ak.fill_none(ak.pad_none(track[order], 2, clip=True), _TRACK_PAD)
    return {
        "p": np.stack([ak.to_numpy(padded[c]) for c in ("px", "py", "pz")], axis=-1).astype(np.float64),
        "charge": ak.to_numpy(padded.charge).astype(np.int64),
        "muon_id": ak.to_numpy(padded.muon_id).astype(bool),
        "electron_id": ak.to_numpy(padded.electron_id).astype(bool),
        "n_tracks": ak.to_numpy(ak.num(track)).astype(np.int64),
    }


_DIMUON_RECOIL_COLUMNS = {
    "n_tracks": Column("number of tracks"),
    "n_muons": Column("number of identified muons"),
    "charge_sum": Column("charge sum of the two leading tracks"),
    "trigger": Column("two-track trigger"),
    "mu1_pt": Column(r"$p_T(\mu_1)$", "GeV"),
    "mu2_pt": Column(r"$p_T(\mu_2)$", "GeV"),
    "mumu_mass": Column(r"$M(\mu\mu)$", "GeV"),
    "pt_mumu_cm": Column(r"$p^*_T(\mu\mu)$", "GeV"),
    "recoil_mass_squared": Column(r"$M^2_{\mathrm{recoil}}$", "GeV$^2$"),
    "recoil_mass": Column(r"$M_{\mathrm{recoil}}(\mu\mu)$", "GeV"),
    "recoil_p_cm": Column(r"$p^*_{\mathrm{recoil}}$", "GeV"),
    "recoil_theta_lab": Column(r"$\theta_{\mathrm{recoil}}$ (lab)", "deg"),
    "recoil_mu_angle_min": Column(r"min. angle(recoil, $\mu$) (CM)", "deg"),
    "n_photons_near_recoil": Column("photons near the recoil"),
    "n_klm_near_recoil": Column("KLM photon clusters near the recoil"),
    "extra_energy": Column(r"$E_{\mathrm{extra}}$ (lab)", "GeV"),
    "pt_thrust_max": Column(r"max. $p^*_T(\mu)$ w.r.t. the thrust axis", "GeV"),
    "pt_max_wrt_min_cm": Column(r"$p^*_T$ of the harder $\mu$ w.r.t. the softer", "GeV"),
    "pl_max_wrt_min_cm": Column(r"$p^*_L$ of the harder $\mu$ w.r.t. the softer", "GeV"),
}


def relative_momenta(mu_cm: np.ndarray) -> dict[str, np.ndarray]:
    """The Punzi-net inputs of Belle II's Z' search (https://github.com/feichtip/punzinet, example
    features ``pt_thrustFrame_max``, ``pt_max_wrt_min_CMS``, ``pl_max_wrt_min_CMS``), CM frame.

    For any two leptons ((N, 2, 4) CM four-momenta): plugin modules use it too (``emu_recoil``).

    The thrust axis of two momenta is along the longer of p1 + p2 and p1 - p2; both muons then
    have the same pT relative to it, |p1 x p2| / |axis|. The harder muon's momentum is split
    along and across the softer muon's direction.
    """
    p1, p2 = mu_cm[:, 0, 1:], mu_cm[:, 1, 1:]
    axis_len = np.maximum(np.linalg.norm(p1 + p2, axis=-1), np.linalg.norm(p1 - p2, axis=-1))
    cross = np.linalg.norm(np.cross(p1, p2), axis=-1)
    first_harder = np.linalg.norm(p1, axis=-1) >= np.linalg.norm(p2, axis=-1)
    hard = np.where(first_harder[:, None], p1, p2)
    soft = np.where(first_harder[:, None], p2, p1)
    soft_len = np.maximum(np.linalg.norm(soft, axis=-1), 1e-12)
    return {
        "pt_thrust_max": cross / np.maximum(axis_len, 1e-12),
        "pt_max_wrt_min_cm": cross / soft_len,
        "pl_max_wrt_min_cm": np.sum(hard * soft, axis=-1) / soft_len,
    }


def count_near(objects: ak.Array, direction: np.ndarray, cone_deg: float) -> np.ndarray:
    """Objects (jagged px, py, pz) within ``cone_deg`` of one direction (n, 3) per event."""
    rx, ry, rz = (ak.Array(direction[:, i]) for i in range(3))
    cos = (objects.px * rx + objects.py * ry + objects.pz * rz) / (
        np.sqrt(objects.px**2 + objects.py**2 + objects.pz**2) * np.sqrt(rx**2 + ry**2 + rz**2) + 1e-12
    )
    return ak.to_numpy(ak.sum(cos > np.cos(np.radians(cone_deg)), axis=1)).astype(np.int64)


@register_variables("dimuon_recoil", branches=("track", "photon", "klm", "trigger"), columns=_DIMUON_RECOIL_COLUMNS)
def dimuon_recoil(events: ak.Array, experiment: dict, *, photon_cone_deg: float = 15.0) -> dict[str, np.ndarray]:
    """Columns of a dimuon + missing-momentum search (recoil against the mu+ mu- pair).

    The recoil four-momentum is the initial state (nominal beams) minus the two leading tracks,
    each given the muon mass. ``recoil_mass`` is the signed square root of its mass squared.
    """
    beams = Beams(**experiment["beams"])
    tracks = leading_two_tracks(events.track)
    p, charge, n_tracks = tracks["p"], tracks["charge"], tracks["n_tracks"]
    mu = four_vector(p, MUON_MASS)  # (N, 2, 4), lab
    initial = np.sum(beam_four_momenta(beams), axis=0)
    recoil_lab = initial[None, :] - mu[:, 0] - mu[:, 1]
    to_cm = lab_to_cm_matrix(beams)
    mu_cm = transform(mu, to_cm)
    recoil_cm = transform(recoil_lab, to_cm)
    dimuon_cm = mu_cm[:, 0] + mu_cm[:, 1]
    m2 = _minkowski_square(recoil_cm)

    photon_e = ak.to_numpy(ak.sum(events.photon.e, axis=1)).astype(np.float64)
    recoil_dir = recoil_lab[:, 1:]
    two = n_tracks >= 2
    return {
        "n_tracks": n_tracks.astype(np.int64),
        "n_muons": ak.to_numpy(ak.sum(events.track.muon_id, axis=1)).astype(np.int64),
        "charge_sum": np.where(two, charge.sum(axis=1), 99),
        "trigger": ak.to_numpy(events.trigger).astype(np.int64),
        "mu1_pt": np.hypot(p[:, 0, 0], p[:, 0, 1]),
        "mu2_pt": np.hypot(p[:, 1, 0], p[:, 1, 1]),
        "mumu_mass": np.sqrt(np.maximum(_minkowski_square(dimuon_cm), 0.0)),
        "pt_mumu_cm": np.hypot(dimuon_cm[:, 1], dimuon_cm[:, 2]),
        "recoil_mass_squared": m2,
        "recoil_mass": np.sign(m2) * np.sqrt(np.abs(m2)),
        "recoil_p_cm": np.linalg.norm(recoil_cm[:, 1:], axis=-1),
        "recoil_theta_lab": _polar_deg(recoil_dir),
        "recoil_mu_angle_min": np.minimum(
            _angle_deg(recoil_cm[:, 1:], mu_cm[:, 0, 1:]), _angle_deg(recoil_cm[:, 1:], mu_cm[:, 1, 1:])
        ),
        "n_photons_near_recoil": count_near(events.photon, recoil_dir, photon_cone_deg),
        "n_klm_near_recoil": count_near(events.klm, recoil_dir, photon_cone_deg),
        "extra_energy": photon_e,
        **relative_momenta(mu_cm),
    }


#: Belle II ALP -> gamma gamma (PRL 125 (2020) 161806): the diphoton mass M(gamma gamma) is used
#: below this mass (GeV) and the mass recoiling against the third photon above it.
ALP_RECOIL_SWITCH_GEV = 6.85


_THREE_PHOTON_COLUMNS = {
    "n_photons": Column("number of photons"),
    "n_photons_hard": Column("photons above the hard-photon threshold"),
    "n_tracks": Column("number of tracks"),
    "trigger_ecl": Column("ECL trigger"),
    "m3gamma": Column(r"$M(\gamma\gamma\gamma)$", "GeV"),
    "m3gamma_over_sqrt_s": Column(r"$M(\gamma\gamma\gamma)/\sqrt{s}$"),
    "p3gamma_cm": Column(r"$p^*(\gamma\gamma\gamma)$", "GeV"),
    "e_sum_cm": Column(r"$\sum E^*_\gamma$", "GeV"),
    "extra_energy": Column(r"$E_{\mathrm{extra}}$ (lab)", "GeV"),
    "photon_theta_min": Column(r"min. $\theta_\gamma$ (lab)", "deg"),
    "photon_theta_max": Column(r"max. $\theta_\gamma$ (lab)", "deg"),
    **{f"e{k + 1}_lab": Column(rf"$E_{{\gamma_{k + 1}}}$ (lab)", "GeV") for k in range(3)},
    **{f"e{k + 1}_cm": Column(rf"$E^*_{{\gamma_{k + 1}}}$", "GeV") for k in range(3)},
    **{f"mgg_direct_{k}": Column(rf"$M(\gamma\gamma)$ without $\gamma_{k + 1}$", "GeV") for k in range(3)},
    **{f"mgg_recoil_{k}": Column(rf"$M_{{\mathrm{{recoil}}}}(\gamma_{k + 1})$", "GeV") for k in range(3)},
    **{f"mgg_{k}": Column(rf"$M_{{\gamma\gamma}}$ without $\gamma_{k + 1}$", "GeV") for k in range(3)},
}


@register_variables("three_photons", branches=("photon", "track", "trigger_ecl"), columns=_THREE_PHOTON_COLUMNS)
def three_photons(
    events: ak.Array, experiment: dict, *, photon_energy_min: float = 0.65, switch_gev: float = ALP_RECOIL_SWITCH_GEV
) -> dict[str, np.ndarray]:
    """Columns of a three-photon search (e+e- -> gamma a, a -> gamma gamma).

    The three highest-energy photons (lab) are boosted to the CM frame. ``mgg_k`` is the mass of
    the pair *without* photon k (k = 0, 1, 2 in order of decreasing CM energy): the diphoton mass
    sqrt((k_i + k_j)^2) where it is below ``switch_gev``, else the mass recoiling against photon k,
    sqrt(s - 2 sqrt(s) E*_k) (signed square root), whose resolution is better for heavy a because
    the recoil photon is soft. All three pairings enter the fit (``fit.columns``), as in the
    published analysis. ``n_photons_hard`` counts photons with E_lab > ``photon_energy_min``.
    """
    beams = Beams(**experiment["beams"])
    sqrt_s = beams.sqrt_s
    photon = events.photon
    order = ak.argsort(photon.e, ascending=False)
    padded = ak.fill_none(ak.pad_none(photon[order], 3, clip=True), {"e": 0.0, "px": 0.0, "py": 0.0, "pz": 0.0})
    lab = np.stack([ak.to_numpy(padded[c]).astype(np.float64) for c in ("e", "px", "py", "pz")], axis=-1)  # (N, 3, 4)
    cm = transform(lab, lab_to_cm_matrix(beams))
    total = cm.sum(axis=1)
    n_photons = ak.to_numpy(ak.num(photon)).astype(np.int64)
    m3 = np.sqrt(np.maximum(_minkowski_square(total), 0.0))
    columns = {
        "n_photons": n_photons,
        "n_photons_hard": ak.to_numpy(ak.sum(photon.e > photon_energy_min, axis=1)).astype(np.int64),
        "n_tracks": ak.to_numpy(ak.num(events.track)).astype(np.int64),
        "trigger_ecl": ak.to_numpy(events.trigger_ecl).astype(np.int64),
        "m3gamma": m3,
        "m3gamma_over_sqrt_s": m3 / sqrt_s,
        "p3gamma_cm": np.linalg.norm(total[:, 1:], axis=-1),
        "e_sum_cm": total[:, 0],
        "extra_energy": ak.to_numpy(ak.sum(photon.e, axis=1)).astype(np.float64) - lab[:, :, 0].sum(axis=1),
        "photon_theta_min": np.min(
            np.where(lab[:, :, 0] > 0, _polar_deg(lab[:, :, 1:].reshape(-1, 3)).reshape(-1, 3), 90.0), axis=1
        ),
        "photon_theta_max": np.max(
            np.where(lab[:, :, 0] > 0, _polar_deg(lab[:, :, 1:].reshape(-1, 3)).reshape(-1, 3), 90.0), axis=1
        ),
    }
    for k in range(3):
        columns[f"e{k + 1}_lab"] = lab[:, k, 0]
        columns[f"e{k + 1}_cm"] = cm[:, k, 0]
        i, j = [x for x in range(3) if x != k]
        direct = np.sqrt(np.maximum(_minkowski_square(cm[:, i] + cm[:, j]), 0.0))
        recoil2 = sqrt_s**2 - 2.0 * sqrt_s * cm[:, k, 0]
        recoil = np.sign(recoil2) * np.sqrt(np.abs(recoil2))
        columns[f"mgg_direct_{k}"] = direct
        columns[f"mgg_recoil_{k}"] = recoil
        columns[f"mgg_{k}"] = np.where(direct < switch_gev, direct, recoil)
    return columns
