"""Plugin module of the single-photon search darkphoton_invisible (e+e- -> gamma A', A' -> invisible).

Registers the variable function ``single_photon``: the columns of an event with one photon and
nothing else. The photon's CM energy E* = (s - m_A'^2) / (2 sqrt(s)) for the signal, so the
mass recoiling against it, M_X^2 = s - 2 sqrt(s) E*, peaks at m_A'^2; ``recoil_mass`` is the
signed square root of M_X^2 (the fit variable, as the Z' search's recoil mass).
"""

from __future__ import annotations

import awkward as ak
import numpy as np

from darkscan.beams import Beams
from darkscan.experiments.beams import lab_to_cm_matrix, transform
from darkscan.select.variables import Column, register_variables

SINGLE_PHOTON_COLUMNS = {
    "trigger_ecl": Column("ECL trigger"),
    "n_tracks": Column("number of tracks"),
    "n_photons": Column("number of ECL clusters"),
    "n_extra_photons": Column("other ECL clusters above the extra-photon threshold"),
    "n_klm": Column("KLM clusters"),
    "extra_energy": Column(r"$E_{\mathrm{extra}}$ (lab)", "GeV"),
    "photon_e_lab": Column(r"$E_\gamma$ (lab)", "GeV"),
    "photon_theta_lab": Column(r"$\theta_\gamma$ (lab)", "deg"),
    "photon_e_cm": Column(r"$E^*_\gamma$", "GeV"),
    "photon_cos_cm": Column(r"$\cos\theta^*_\gamma$"),
    "recoil_mass_squared": Column(r"$M^2_X = s - 2\sqrt{s}E^*_\gamma$", "GeV$^2$"),
    "recoil_mass": Column(r"$M_X$ (signed $\sqrt{M^2_X}$)", "GeV"),
}


def _leading_photon(photon: ak.Array) -> np.ndarray:
    """(N, 4) lab four-momentum (e, px, py, pz) of each event's highest-energy cluster (zeros if none)."""
    order = ak.argsort(photon.e, ascending=False)
    first = ak.fill_none(ak.firsts(photon[order]), {"e": 0.0, "px": 0.0, "py": 0.0, "pz": 0.0})
    return np.stack([ak.to_numpy(first[c]).astype(np.float64) for c in ("e", "px", "py", "pz")], axis=-1)


@register_variables("single_photon", branches=("photon", "track", "klm", "trigger_ecl"), columns=SINGLE_PHOTON_COLUMNS)
def single_photon(events: ak.Array, experiment: dict, *, extra_photon_energy: float = 0.55) -> dict[str, np.ndarray]:
    """Columns of a single-photon search: the leading ECL cluster in the lab and the CM frame.

    Args:
        events: reconstructed events of one chunk.
        experiment: the experiment config (its beams define the CM frame and sqrt(s)).
        extra_photon_energy: lab energy (GeV) above which another cluster counts in
            ``n_extra_photons`` (0.55 GeV: the second-photon veto of Belle II's single-photon skim,
            basf2 ``skim/scripts/skim/WGs/dark.py``, ``SinglePhotonDark``).
    """
    beams = Beams(**experiment["beams"])
    sqrt_s = beams.sqrt_s
    lab = _leading_photon(events.photon)
    cm = transform(lab, lab_to_cm_matrix(beams))
    has_photon = lab[:, 0] > 0.0
    energy = ak.to_numpy(ak.sum(events.photon.e, axis=1)).astype(np.float64)
    m2 = np.where(has_photon, sqrt_s**2 - 2.0 * sqrt_s * cm[:, 0], sqrt_s**2)
    p_cm = np.maximum(np.linalg.norm(cm[:, 1:], axis=-1), 1e-12)
    return {
        "trigger_ecl": ak.to_numpy(events.trigger_ecl).astype(np.int64),
        "n_tracks": ak.to_numpy(ak.num(events.track)).astype(np.int64),
        "n_photons": ak.to_numpy(ak.num(events.photon)).astype(np.int64),
        "n_extra_photons": ak.to_numpy(ak.sum(events.photon.e > extra_photon_energy, axis=1)).astype(np.int64)
        - (lab[:, 0] > extra_photon_energy),
        "n_klm": ak.to_numpy(ak.num(events.klm)).astype(np.int64),
        "extra_energy": energy - lab[:, 0],
        "photon_e_lab": lab[:, 0],
        "photon_theta_lab": np.where(
            has_photon, np.degrees(np.arctan2(np.hypot(lab[:, 1], lab[:, 2]), lab[:, 3])), 0.0
        ),
        "photon_e_cm": cm[:, 0],
        "photon_cos_cm": np.where(has_photon, cm[:, 3] / p_cm, 0.0),
        "recoil_mass_squared": m2,
        "recoil_mass": np.sign(m2) * np.sqrt(np.abs(m2)),
    }
