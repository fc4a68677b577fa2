"""Cluster merging: photons too close together at the calorimeter face make one cluster.

A crystal calorimeter finds one cluster per local energy maximum. Two photons whose impact
points on the crystal front face are closer than about two crystal widths (no crystal between
them) leave a single maximum: the reconstruction sees one photon with their summed energy.
This is what limits diphoton searches at small mass (the two photons of a light ALP or a fast
pi0 open by about 2 m / E).

``calorimeter.cluster_merging`` of an experiment config gives the face geometry, a cylinder
of radius ``barrel_radius_cm`` closed by planes at ``forward_z_cm`` and ``backward_z_cm``
(lab frame, the solenoid axis), and the separation below which clusters merge,
``separation_cm``. The separation of two clusters is their opening angle times the distance
from the interaction point to the face along their energy-weighted direction. Clusters are
merged greedily in each event, the most energetic first: a cluster joins the first more
energetic cluster within the separation, and the merged cluster (energy sum, direction of the
momentum sum, massless) is compared with the rest, in one pass (a merged cluster is not compared
again with more energetic ones it moved towards). Not modelled: photons below the cluster
threshold that would pass it together (merging follows the threshold), and photons merging with
the cluster of a charged track (tracked particles make no clusters here). Without
``cluster_merging`` no cluster merges.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Clusters:
    """ECL clusters of a batch of events, event-major.

    Attributes:
        counts: clusters per event, shape (n,).
        energy: cluster energies (GeV), shape (sum(counts),).
        momentum: cluster momenta (GeV), shape (sum(counts), 3), |p| = E.
    """

    counts: np.ndarray
    energy: np.ndarray
    momentum: np.ndarray


def distance_to_face(direction: np.ndarray, merging: Mapping) -> np.ndarray:
    """Distance (cm) from the interaction point to the calorimeter face along unit ``direction``
    (..., 3): the nearer of the barrel cylinder and the endcap plane on the direction's side."""
    sin_theta = np.hypot(direction[..., 0], direction[..., 1])
    cos_theta = direction[..., 2]
    with np.errstate(divide="ignore"):
        barrel = merging["barrel_radius_cm"] / sin_theta
        plane_z = np.where(cos_theta >= 0, merging["forward_z_cm"], merging["backward_z_cm"])
        endcap = np.where(cos_theta != 0, plane_z / cos_theta, np.inf)
    return np.minimum(barrel, endcap)


def face_separation(p_a: np.ndarray, p_b: np.ndarray, merging: Mapping) -> np.ndarray:
    """Separation (cm) at the calorimeter face of clusters with momenta ``p_a`` and ``p_b``
    (..., 3): opening angle times the face distance along the direction of ``p_a + p_b``."""
    unit_a = p_a / np.maximum(np.linalg.norm(p_a, axis=-1), 1e-300)[..., None]
    unit_b = p_b / np.maximum(np.linalg.norm(p_b, axis=-1), 1e-300)[..., None]
    # the angle from |a - b| and |a + b| (accurate at small angles, unlike arccos of the dot product)
    angle = 2.0 * np.arctan2(np.linalg.norm(unit_a - unit_b, axis=-1), np.linalg.norm(unit_a + unit_b, axis=-1))
    total = p_a + p_b
    direction = total / np.maximum(np.linalg.norm(total, axis=-1), 1e-300)[..., None]
    return angle * distance_to_face(direction, merging)


def merge_close_clusters(clusters: Clusters, merging: Mapping | None) -> Clusters:
    """The clusters after merging those closer than ``merging["separation_cm"]`` at the face.

    Surviving clusters keep their order within the event; an event with fewer than two
    clusters is unchanged, and so is everything when ``merging`` is None.
    """
    counts = np.asarray(clusters.counts)
    if not merging or clusters.energy.size == 0 or counts.max() < 2:
        return clusters
    # only events with two or more clusters can merge: pad those alone
    multi = counts >= 2
    event = np.repeat(np.arange(len(counts)), counts)
    in_multi = multi[event]
    sub_counts = counts[multi]
    slot = np.arange(int(sub_counts.sum())) - np.repeat(np.cumsum(sub_counts) - sub_counts, sub_counts)
    row = np.repeat(np.arange(len(sub_counts)), sub_counts)
    width = int(sub_counts.max())
    energy = np.zeros((len(sub_counts), width))
    momentum = np.zeros((len(sub_counts), width, 3))
    energy[row, slot] = clusters.energy[in_multi]
    momentum[row, slot] = clusters.momentum[in_multi]
    alive = np.zeros(energy.shape, dtype=bool)
    alive[row, slot] = True
    _merge_padded(energy, momentum, alive, merging["separation_cm"], merging)
    survived = alive[row, slot]
    new_counts = counts.copy()
    new_counts[multi] = alive.sum(axis=1)
    keep = np.ones(len(clusters.energy), dtype=bool)
    keep[np.flatnonzero(in_multi)[~survived]] = False
    new_e = clusters.energy.copy()
    new_p = clusters.momentum.copy()
    merged_e = energy[row, slot]
    total = momentum[row, slot]
    new_e[in_multi] = merged_e
    new_p[in_multi] = total * (merged_e / np.maximum(np.linalg.norm(total, axis=-1), 1e-300))[:, None]
    return Clusters(new_counts, new_e[keep], new_p[keep])


def _merge_padded(
    energy: np.ndarray, momentum: np.ndarray, alive: np.ndarray, separation_cm: float, merging: Mapping
) -> None:
    """Greedy merging in place on padded (n, width) arrays: in order of decreasing energy, each
    cluster joins the first more energetic live cluster within ``separation_cm``."""
    rows = np.arange(len(energy))[:, None]
    order = np.argsort(-np.where(alive, energy, -np.inf), axis=1, kind="stable")
    width = energy.shape[1]
    for j in range(1, width):
        cj = order[:, j]
        joined = np.zeros(len(energy), dtype=bool)
        for i in range(j):
            ci = order[:, i]
            pick = alive[rows[:, 0], ci] & alive[rows[:, 0], cj] & ~joined
            if not pick.any():
                continue
            close = np.zeros_like(pick)
            close[pick] = face_separation(momentum[pick, ci[pick]], momentum[pick, cj[pick]], merging) < separation_cm
            events = np.flatnonzero(close)
            energy[events, ci[events]] += energy[events, cj[events]]
            momentum[events, ci[events]] += momentum[events, cj[events]]
            alive[events, cj[events]] = False
            joined |= close
