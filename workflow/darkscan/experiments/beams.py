"""Beam geometry: the Lorentz transformation from the CM frame to the lab frame.

The lab frame has +z along the solenoid axis. With a crossing angle the e- beam (HER at
SuperKEKB) points at +alpha/2 and the e+ beam at pi - alpha/2 in the x-z plane, as in basf2's
beam parameters, so the boost has an x component (Belle II: beta*gamma = 0.287).
Generators work in the CM frame with +z along the incoming e-.
"""

from __future__ import annotations

import functools

import numpy as np

from darkscan.beams import Beams


def _boost_matrix(beta: np.ndarray) -> np.ndarray:
    """4x4 matrix of a pure boost by velocity ``beta`` acting on (E, px, py, pz)."""
    b2 = float(beta @ beta)
    gamma = 1.0 / np.sqrt(1.0 - b2)
    m = np.eye(4)
    m[0, 0] = gamma
    m[0, 1:] = m[1:, 0] = gamma * beta
    if b2 > 0:
        m[1:, 1:] += (gamma - 1.0) * np.outer(beta, beta) / b2
    return m


def _rotation_z_to(direction: np.ndarray) -> np.ndarray:
    """3x3 rotation taking +z onto the unit vector ``direction`` (Rodrigues)."""
    z = np.array([0.0, 0.0, 1.0])
    axis = np.cross(z, direction)
    s, c = np.linalg.norm(axis), float(z @ direction)
    if s < 1e-15:
        return np.eye(3) if c > 0 else np.diag([1.0, -1.0, -1.0])
    k = axis / s
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + s * kx + (1 - c) * kx @ kx


def beam_four_momenta(beams: Beams) -> tuple[np.ndarray, np.ndarray]:
    """Lab four-momenta (E, px, py, pz) of the e- and e+ beams (massless)."""
    half = beams.crossing_angle / 2.0
    e1, e2 = beams.electron_energy, beams.positron_energy
    electron = np.array([e1, e1 * np.sin(half), 0.0, e1 * np.cos(half)])
    positron = np.array([e2, e2 * np.sin(half), 0.0, -e2 * np.cos(half)])
    return electron, positron


@functools.lru_cache(maxsize=16)
def cm_to_lab_matrix(beams: Beams) -> np.ndarray:
    """4x4 matrix L with p_lab = L @ p_cm, for CM momenta with +z along the incoming e-."""
    electron, positron = beam_four_momenta(beams)
    total = electron + positron
    beta = total[1:] / total[0]
    to_cm = _boost_matrix(-beta)
    electron_cm = to_cm @ electron
    direction = electron_cm[1:] / np.linalg.norm(electron_cm[1:])
    rotation = np.eye(4)
    rotation[1:, 1:] = _rotation_z_to(direction)
    return _boost_matrix(beta) @ rotation


def lab_to_cm_matrix(beams: Beams) -> np.ndarray:
    """Inverse of :func:`cm_to_lab_matrix`."""
    return np.linalg.inv(cm_to_lab_matrix(beams))


def transform(p4: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 4x4 Lorentz matrix to four-vectors of shape (..., 4)."""
    return p4 @ matrix.T


def boost_beta_gamma(beams: Beams) -> float:
    """|beta gamma| of the CM system in the lab."""
    electron, positron = beam_four_momenta(beams)
    total = electron + positron
    return float(np.linalg.norm(total[1:]) / beams.sqrt_s)
