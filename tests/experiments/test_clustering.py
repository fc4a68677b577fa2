"""Cluster merging: photons closer than the configured separation at the ECL face make one cluster."""

import numpy as np
import pytest

from darkscan.events import TruthEvents
from darkscan.experiments import clustering
from darkscan.experiments.beams import cm_to_lab_matrix, transform
from darkscan.experiments.detector import beams_of, simulate
from darkscan.generate.processes import signals

MERGING = {"separation_cm": 11.0, "barrel_radius_cm": 125.0, "forward_z_cm": 196.0, "backward_z_cm": -102.0}


def _photon(energy: float, theta: float, phi: float) -> np.ndarray:
    return energy * np.array([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)])


def _pair(theta: float, opening: float) -> clustering.Clusters:
    """Two 2 GeV photons symmetric about polar angle ``theta``, ``opening`` rad apart in theta."""
    momenta = np.stack([_photon(2.0, theta - opening / 2, 0.3), _photon(2.0, theta + opening / 2, 0.3)])
    return clustering.Clusters(np.array([2]), np.array([2.0, 2.0]), momenta)


@pytest.mark.parametrize(
    "theta_deg, distance_cm",
    [
        (90.0, 125.0),  # barrel, perpendicular
        (50.0, 125.0 / np.sin(np.radians(50.0))),  # barrel, oblique
        (20.0, 196.0 / np.cos(np.radians(20.0))),  # forward endcap (the cylinder lies further out)
        (150.0, 102.0 / -np.cos(np.radians(150.0))),  # backward endcap
    ],
)
def test_clusters_merge_below_the_separation_at_the_face(theta_deg, distance_cm):
    threshold = MERGING["separation_cm"] / distance_cm  # rad
    theta = np.radians(theta_deg)
    merged = clustering.merge_close_clusters(_pair(theta, 0.97 * threshold), MERGING)
    apart = clustering.merge_close_clusters(_pair(theta, 1.03 * threshold), MERGING)
    assert merged.counts.tolist() == [1] and apart.counts.tolist() == [2]
    assert merged.energy == pytest.approx([4.0])
    # the merged cluster is massless along the momentum sum: here the bisector
    assert merged.momentum[0] == pytest.approx(_photon(4.0, theta, 0.3), rel=1e-9)


def test_the_most_energetic_cluster_collects_first_and_order_is_kept():
    # c (1 GeV) lies 7 cm from a (5 GeV) and 7 cm from b (2 GeV); a and b are 14 cm apart
    step = 7.0 / 125.0
    momenta = np.stack([_photon(5.0, np.pi / 2, 0.0), _photon(2.0, np.pi / 2, 2 * step), _photon(1.0, np.pi / 2, step)])
    far = _photon(3.0, 1.0, 2.0)
    clusters = clustering.Clusters(np.array([3, 0, 1]), np.array([5.0, 2.0, 1.0, 3.0]), np.vstack([momenta, far]))
    out = clustering.merge_close_clusters(clusters, MERGING)
    assert out.counts.tolist() == [2, 0, 1]
    assert out.energy == pytest.approx([6.0, 2.0, 3.0])  # c joined a, b stays; event order kept
    assert np.linalg.norm(out.momentum, axis=1) == pytest.approx(out.energy)
    assert out.momentum[2] == pytest.approx(far)


def test_nothing_merges_without_the_config_or_with_single_clusters():
    pair = _pair(np.pi / 2, 0.001)
    assert clustering.merge_close_clusters(pair, None) is pair
    single = clustering.Clusters(
        np.array([1, 1]), np.array([1.0, 2.0]), np.stack([_photon(1.0, 1, 0), _photon(2.0, 1, 0)])
    )
    assert clustering.merge_close_clusters(single, MERGING) is single


def _ideal_calorimeter(experiment: dict) -> dict:
    cal = {k: v for k, v in experiment["calorimeter"].items() if k != "beam_background"}
    cal.update(photon_efficiency=1.0, angular_resolution=0.0)
    return {**experiment, "beams": {**experiment["beams"], "sqrt_s_spread": 0.0}, "calorimeter": cal}


def _face_separation_by_hand(u_a: np.ndarray, u_b: np.ndarray, merging: dict) -> np.ndarray:
    """Opening angle (arccos) times the distance to the face along the bisector, region by region."""
    angle = np.arccos(np.clip((u_a * u_b).sum(-1), -1, 1))
    mid = u_a + u_b
    mid /= np.linalg.norm(mid, axis=-1)[:, None]
    cos_t = mid[:, 2]
    sin_t = np.sqrt(1 - cos_t**2)
    barrel = merging["barrel_radius_cm"] / sin_t
    endcap = np.where(cos_t > 0, merging["forward_z_cm"] / cos_t, merging["backward_z_cm"] / cos_t)
    return angle * np.minimum(barrel, endcap)


def test_light_alp_photons_merge_as_their_face_separation_says(experiment):
    """ALP at 0.2 GeV (opening ~ 2 m / E ~ 0.07 rad): the two decay photons make one cluster in
    the fraction of events whose truth separation at the ECL face is below 11 cm, and the rest
    keep three clusters (ideal ECL: no inefficiency, no angular smearing, no beam background)."""
    assert experiment["calorimeter"]["cluster_merging"] == MERGING  # config/experiments/belle2.yaml
    exp = _ideal_calorimeter(experiment)
    events = signals.generate_gamma_alp(
        20_000,
        np.random.default_rng(3),
        sqrt_s=10.58,
        mass=0.2,
        coupling=1.0,
        photon_theta_min=40.0,
        photon_theta_max=110.0,
    )
    lab = transform(events.p4.reshape(-1, 4), cm_to_lab_matrix(beams_of(exp))).reshape(events.p4.shape)
    unit = lab[..., 1:] / np.linalg.norm(lab[..., 1:], axis=-1)[..., None]
    decay_merged = _face_separation_by_hand(unit[:, 1], unit[:, 2], MERGING) < 11.0
    # keep events whose photons all hit crystals above threshold and whose ALP photons are far from the recoil one
    cos = unit[..., 2]
    in_barrel = np.all((cos < np.cos(np.radians(33.0))) & (cos > np.cos(np.radians(128.0))), axis=1)
    isolated = _face_separation_by_hand(unit[:, 0], unit[:, 1], MERGING) > 30.0
    isolated &= _face_separation_by_hand(unit[:, 0], unit[:, 2], MERGING) > 30.0
    hard = np.all(lab[..., 0] > 0.3, axis=1)
    keep = in_barrel & isolated & hard
    assert keep.sum() > 5000 and 0.1 < decay_merged[keep].mean() < 0.9  # the test probes the threshold
    n_clusters = np.asarray([len(p) for p in simulate(events, exp, np.random.default_rng(4))["photon"]])
    merged_fraction = np.mean(n_clusters[keep] == 2)
    assert merged_fraction == pytest.approx(decay_merged[keep].mean(), abs=0.005)
    assert set(n_clusters[keep]) <= {2, 3}
    without = {**exp, "calorimeter": {k: v for k, v in exp["calorimeter"].items() if k != "cluster_merging"}}
    n_without = np.asarray([len(p) for p in simulate(events, without, np.random.default_rng(4))["photon"]])
    assert np.all(n_without[keep] == 3)


def test_truth_events_without_photons_pass_through(experiment):
    events = TruthEvents(
        np.full((3, 1), 13, dtype=np.int32), np.tile([5.0, 0.0, 1.0, 4.0], (3, 1, 1)), np.zeros((3, 4)), np.ones(3)
    )
    out = simulate(events, _ideal_calorimeter(experiment), np.random.default_rng(1))
    assert all(len(p) == 0 for p in out["photon"])


def _merge_one_event(energy, momentum):
    """Per-event reference of the greedy merging: most energetic first, each joins the first
    more energetic live cluster within the separation."""
    order = np.argsort(-energy, kind="stable")
    e, p, alive = energy.astype(float).copy(), momentum.astype(float).copy(), np.ones(len(energy), bool)
    for j_pos in range(1, len(order)):
        j = order[j_pos]
        for i in order[:j_pos]:
            if alive[i] and alive[j] and clustering.face_separation(p[i][None], p[j][None], MERGING)[0] < 11.0:
                e[i] += e[j]
                p[i] += p[j]
                alive[j] = False
                break
    p = p * (e / np.linalg.norm(p, axis=1))[:, None]
    return e[alive], p[alive]


def test_batched_merging_equals_a_per_event_loop():
    """Random batches (0-4 clusters per event, clusters within a few degrees of each other)."""
    rng = np.random.default_rng(8)
    counts = rng.integers(0, 5, 300)
    n = counts.sum()
    theta = np.repeat(rng.uniform(0.6, 2.5, len(counts)), counts) + rng.normal(0, 0.05, n)
    phi = np.repeat(rng.uniform(0, 2 * np.pi, len(counts)), counts) + rng.normal(0, 0.05, n)
    energy = rng.uniform(0.1, 3.0, n)
    momentum = energy[:, None] * np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], 1)
    out = clustering.merge_close_clusters(clustering.Clusters(counts, energy, momentum), MERGING)
    starts = np.concatenate([[0], np.cumsum(counts)])
    out_starts = np.concatenate([[0], np.cumsum(out.counts)])
    merged = 0
    for k in range(len(counts)):
        e_ref, p_ref = _merge_one_event(energy[starts[k] : starts[k + 1]], momentum[starts[k] : starts[k + 1]])
        e_out, p_out = out.energy[out_starts[k] : out_starts[k + 1]], out.momentum[out_starts[k] : out_starts[k + 1]]
        order_ref, order_out = np.argsort(e_ref), np.argsort(e_out)
        np.testing.assert_allclose(e_out[order_out], e_ref[order_ref], rtol=1e-12)
        np.testing.assert_allclose(p_out[order_out], p_ref[order_ref], rtol=1e-9, atol=1e-12)
        merged += counts[k] - out.counts[k]
    assert merged > 50  # the batches do merge
