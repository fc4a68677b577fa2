"""Registered variable functions: the channel-specific columns that cuts and fits use.

A channel config names one with ``selection.variables``. A variable function receives the
reconstructed events of one chunk (an awkward array with the branches written by
``darkscan.experiments.detector.simulate``) and the experiment config, and returns a mapping of
column name to 1-D numpy array. Register new ones with :func:`register_variables`; this is the
extension point for new signatures.
"""

from __future__ import annotations

from typing import Callable

import awkward as ak
import numpy as np

from darkscan.config import Beams
from darkscan.experiments.beams import beam_four_momenta, lab_to_cm_matrix, transform
from darkscan.physics.constants import MUON_MASS

VariableFunction = Callable[[ak.Array, dict], dict[str, np.ndarray]]
_VARIABLES: dict[str, tuple[VariableFunction, tuple[str, ...]]] = {}


def register_variables(name: str, *, branches: tuple[str, ...]) -> Callable[[VariableFunction], VariableFunction]:
    """Register a variable function under ``name``; ``branches`` are the input branches it reads."""

    def wrap(func: VariableFunction) -> VariableFunction:
        if name in _VARIABLES:
            raise ValueError(f"variable function {name!r} is already registered")
        _VARIABLES[name] = (func, branches)
        return func

    return wrap


def get_variables(name: str) -> tuple[VariableFunction, tuple[str, ...]]:
    """The registered variable function ``name`` and the branches it needs."""
    if name not in _VARIABLES:
        raise ValueError(f"unknown variable function {name!r}; registered: {sorted(_VARIABLES)}")
    return _VARIABLES[name]


def _angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cos = (a * b).sum(-1) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-12)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def _polar_deg(p: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(np.hypot(p[:, 0], p[:, 1]), p[:, 2]))


def _four_vector(p3: np.ndarray, mass: float) -> np.ndarray:
    return np.concatenate([np.sqrt((p3**2).sum(-1, keepdims=True) + mass**2), p3], axis=-1)


def _minkowski_square(p4: np.ndarray) -> np.ndarray:
    return p4[:, 0] ** 2 - (p4[:, 1:] ** 2).sum(-1)


def _leading_two_tracks(track: ak.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Momenta (N,2,3), charges (N,2), muon-ID (N,2) of the two highest-pT tracks, zero-padded."""
    pt = np.hypot(track.px, track.py)
    order = ak.argsort(pt, ascending=False)
    padded = ak.fill_none(ak.pad_none(track[order], 2, clip=True), {"px": 0.0, "py": 0.0, "pz": 0.0, "charge": 0, "muon_id": False})
    p = np.stack([ak.to_numpy(padded[c]) for c in ("px", "py", "pz")], axis=-1).astype(np.float64)
    return p, ak.to_numpy(padded.charge).astype(np.int64), ak.to_numpy(padded.muon_id).astype(bool), ak.to_numpy(ak.num(track))


@register_variables("dimuon_recoil", branches=("track", "photon", "trigger"))
def dimuon_recoil(events: ak.Array, experiment: dict, *, photon_cone_deg: float = 15.0) -> dict[str, np.ndarray]:
    """Columns of a dimuon + missing-momentum search (recoil against the mu+ mu- pair).

    The recoil four-momentum is the initial state (nominal beams) minus the two leading tracks,
    each given the muon mass. ``recoil_mass`` is the signed square root of its mass squared.
    """
    beams = Beams(**experiment["beams"])
    p, charge, _, n_tracks = _leading_two_tracks(events.track)
    mu = _four_vector(p, MUON_MASS)  # (N, 2, 4), lab
    initial = np.sum(beam_four_momenta(beams), axis=0)
    recoil_lab = initial[None, :] - mu[:, 0] - mu[:, 1]
    to_cm = lab_to_cm_matrix(beams)
    mu_cm = transform(mu, to_cm)
    recoil_cm = transform(recoil_lab, to_cm)
    dimuon_cm = mu_cm[:, 0] + mu_cm[:, 1]
    m2 = _minkowski_square(recoil_cm)

    photon_p = events.photon
    photon_e = ak.to_numpy(ak.sum(photon_p.e, axis=1)).astype(np.float64)
    recoil_dir = recoil_lab[:, 1:]
    rx, ry, rz = (ak.Array(recoil_dir[:, i]) for i in range(3))
    cos = (photon_p.px * rx + photon_p.py * ry + photon_p.pz * rz) / (
        np.sqrt(photon_p.px**2 + photon_p.py**2 + photon_p.pz**2) * np.sqrt(rx**2 + ry**2 + rz**2) + 1e-12
    )
    near = ak.to_numpy(ak.sum(cos > np.cos(np.radians(photon_cone_deg)), axis=1))
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
        "recoil_mu_angle_min": np.minimum(_angle_deg(recoil_cm[:, 1:], mu_cm[:, 0, 1:]), _angle_deg(recoil_cm[:, 1:], mu_cm[:, 1, 1:])),
        "n_photons_near_recoil": near.astype(np.int64),
        "extra_energy": photon_e,
    }
