"""Imposed escapes (darkscan.generate.escape): the weights equal the brute-force detector misses."""

import awkward as ak
import numpy as np
import pytest

from darkscan import config as cfg
from darkscan.events import TruthEvents
from darkscan.experiments.beams import lab_to_cm_matrix, transform
from darkscan.experiments.detector import simulate
from darkscan.generate.escape import Escape
from darkscan.generate.registry import get_process
from darkscan.select.variables import get_variables

BANDS = [[0.0, 20.4], [37.2, 45.3], [137.9, 144.0], [158.4, 180.0]]


@pytest.fixture(scope="module")
def belle2():
    return cfg.experiment_config(cfg.load_global(), "belle2")


def _photon_at(belle2, energy_lab, theta_lab_deg):
    """TruthEvents of one photon per event at a lab energy and polar angle (in the CM frame)."""
    t = np.radians(np.atleast_1d(theta_lab_deg))
    lab = np.stack([energy_lab * np.ones_like(t), energy_lab * np.sin(t), 0 * t, energy_lab * np.cos(t)], -1)
    cm = transform(lab, lab_to_cm_matrix(cfg.Beams(**belle2["beams"])))
    n = len(t)
    return TruthEvents(np.full((n, 1), 22, np.int32), cm[:, None, :], np.zeros((n, 4)), np.ones(n))


def test_probability_is_the_hermeticity_models(belle2):
    escape = Escape((0,), cfg.Beams(**belle2["beams"]), belle2["calorimeter"])
    # beyond the ECL (and the KLM): always missed; in the forward gap: the KLM misses 30% at 3 GeV;
    # in the barrel crystals: (1 - 0.9995) x 0.3
    p = escape.probability(_photon_at(belle2, 3.0, [8.0, 31.8, 90.0]))
    np.testing.assert_allclose(p, [1.0, 0.3, 5e-4 * 0.3], rtol=1e-6)
    moved = escape.apply(_photon_at(belle2, 3.0, [90.0]))
    assert moved.pdg[0, 0] == 0 and moved.p4[0, 0, 0] == 0 and moved.invisible[0, 0] == pytest.approx(3.0, rel=0.1)


def test_named_particles_must_be_hard_photons(belle2):
    escape = Escape((0,), cfg.Beams(**belle2["beams"]), belle2["calorimeter"], "test/sample")
    with pytest.raises(ValueError, match="test/sample: an escaping photon in the ECL has 0.2 GeV"):
        escape.probability(_photon_at(belle2, 0.2, [90.0]))
    assert escape.probability(_photon_at(belle2, 0.2, [8.0]))[0] == 1.0  # beyond the ECL: lost at any energy
    electron = _photon_at(belle2, 3.0, [90.0])
    electron.pdg[:] = 11
    with pytest.raises(ValueError, match="not all photons"):
        escape.probability(electron)


def test_imposed_escape_reproduces_the_brute_force_single_photon_yield(belle2):
    """gamma gamma (ISR) with the partner in a gap or beyond the ECL: the weighted yield of single-photon
    events with the escape imposed equals the yield of the random misses, in total and in M_X."""
    options = dict(photon_energy_min=1.8, photon_theta_min=52.0, photon_theta_max=115.0, lost_bands=BANDS)
    options |= dict(lost_energy_min=0.5, x_min=0.05)
    truth = get_process("gammagamma_isr").generate(60_000, np.random.default_rng(11), sqrt_s=10.58, **options)
    func, branches = get_variables("single_photon")

    def single(events, seed):
        reco = simulate(events, belle2, np.random.default_rng(seed))
        cols = func(ak.Array({b: reco[b] for b in branches}), belle2)
        keep = (cols["n_extra_photons"] == 0) & (cols["n_klm"] == 0) & (cols["photon_e_cm"] > 2.0)
        return cols["recoil_mass"][keep], events.weight[keep]

    m_brute, w_brute = single(truth, 1)
    m_escape, w_escape = single(Escape.of({"escapes": [1]}, belle2).apply(truth), 2)
    brute, escaped = w_brute.sum(), w_escape.sum()
    error = np.sqrt((w_brute**2).sum() + (w_escape**2).sum())
    assert 0.01 * truth.weight.sum() < brute < 0.5 * truth.weight.sum()  # ~5%: the hard ISR photon is often seen
    assert escaped == pytest.approx(brute, abs=3 * error)
    edges = np.linspace(-2.0, 9.0, 12)
    hb, _ = np.histogram(m_brute, edges, weights=w_brute)
    he, _ = np.histogram(m_escape, edges, weights=w_escape)
    eb, _ = np.histogram(m_brute, edges, weights=w_brute**2)
    ee, _ = np.histogram(m_escape, edges, weights=w_escape**2)
    filled = (eb + ee) > 0
    chi2 = (((hb - he) ** 2)[filled] / (eb + ee)[filled]).sum()
    assert chi2 < filled.sum() + 4 * np.sqrt(2 * filled.sum())
