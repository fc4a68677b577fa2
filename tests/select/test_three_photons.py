"""Variables of the three-photon search (darkscan.select.variables.three_photons) and the ECL trigger."""

import awkward as ak
import numpy as np
import pytest

from darkscan import config as cfg
from darkscan.experiments.detector import simulate
from darkscan.generate.registry import get_process
from darkscan.select.variables import get_variables


@pytest.fixture(scope="module")
def belle2():
    return cfg.experiment_config(cfg.load_global(), "belle2")


def _columns(process, n, belle2, seed=1, **options):
    sqrt_s = cfg.Beams(**belle2["beams"]).sqrt_s
    truth = get_process(process).generate(n, np.random.default_rng(seed), sqrt_s=sqrt_s, **options)
    reco = simulate(truth, belle2, np.random.default_rng(seed + 100))
    func, branches = get_variables("three_photons")
    events = ak.Array({b: reco[b] for b in branches})
    return func(events, belle2), reco, sqrt_s


@pytest.mark.parametrize("mass", [0.5, 3.0, 9.0])
def test_signal_peaks_in_one_pairing(belle2, mass):
    cols, reco, sqrt_s = _columns("gamma_alp", 3000, belle2, mass=mass, decay="gammagamma")
    sel = (cols["n_photons"] == 3) & (cols["n_photons_hard"] == 3)
    assert sel.mean() > 0.5
    pairs = np.stack([cols[f"mgg_{k}"] for k in range(3)], axis=1)[sel]
    closest = pairs[np.arange(len(pairs)), np.argmin(np.abs(pairs - mass), axis=1)]
    assert np.median(np.abs(closest - mass)) < 0.03 * max(mass, 1.0)
    m3 = cols["m3gamma_over_sqrt_s"][sel]
    assert np.median(m3) == pytest.approx(1.0, abs=0.02)
    assert np.median(cols["p3gamma_cm"][sel]) < 0.2
    assert np.all(cols["n_tracks"] == 0)
    assert cols["trigger_ecl"].mean() > 0.95


def test_pairings_are_exact_for_ideal_kinematics(belle2):
    """Without smearing, M(gamma gamma) of a pair equals the mass recoiling against the third photon."""
    ideal = cfg.deep_merge(
        belle2,
        {
            "calorimeter": {
                "energy_resolution_a": 0.0,
                "energy_resolution_b": 0.0,
                "energy_resolution_c": 0.0,
                "angular_resolution": 0.0,
                "photon_efficiency": 1.0,
                "beam_background": {"clusters_mean": 0.0, "energy_scale": 0.03},
            },
            "beams": {"sqrt_s_spread": 0.0},
        },
    )
    cols, _, sqrt_s = _columns(
        "gammagammagamma", 2000, ideal, photon_energy_min=0.7, photon_theta_min=35.0, photon_theta_max=125.0
    )
    sel = cols["n_photons"] == 3
    assert sel.mean() > 0.9
    for k in range(3):
        np.testing.assert_allclose(
            cols[f"mgg_direct_{k}"][sel], np.abs(cols[f"mgg_recoil_{k}"][sel]), rtol=1e-6, atol=1e-6
        )
    np.testing.assert_allclose(cols["m3gamma"][sel], sqrt_s, rtol=1e-9)


def test_calorimeter_trigger_branch_added_without_changing_others(belle2):
    truth = get_process("mumu").generate(500, np.random.default_rng(1), sqrt_s=10.58, theta_min=40.0, theta_max=140.0)
    reco = simulate(truth, belle2, np.random.default_rng(2))
    assert reco["trigger_ecl"].dtype == bool and "trigger" in reco
    # muons inside the tracker leave no ECL cluster (no photons) -> no ECL energy
    # -> the energy-sum trigger does not fire
    assert reco["trigger_ecl"].mean() < 0.1  # only muons that lost their track deposit energy
    gg = simulate(
        get_process("gammagamma").generate(
            500, np.random.default_rng(1), sqrt_s=10.58, theta_min=40.0, theta_max=120.0
        ),
        belle2,
        np.random.default_rng(2),
    )
    assert gg["trigger_ecl"].mean() > 0.99 and not gg["trigger"].any()
