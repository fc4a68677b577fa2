"""Plugin module of the LFV Z' search lfv_zprime (e+e- -> e+- mu-+ Z', Z' -> invisible).

Registers

* the variable function ``emu_recoil``: the columns of an event with one electron, one muon of
  opposite charge and missing momentum, the mass recoiling against the e mu pair in the CM frame
  (as ``dimuon_recoil`` does for the mu mu pair of the Z' search, with each track given the mass
  of its identification);
* the model ``lfv_zprime``: a vector Z' with the flavour-violating coupling g' (e-bar gamma mu +
  h.c.), sigma ~ g'^2 (process ``emu_zprime``), decaying invisibly (BF = 1: no flavour-diagonal
  coupling to decay through).

Belle II, PRL 124 (2020) 141801, gave model-independent limits on efficiency x sigma for this
signature; the model serves the limit on g' of the generated signal.
"""

from __future__ import annotations

import awkward as ak
import numpy as np

from darkscan.beams import Beams
from darkscan.experiments.beams import beam_four_momenta, lab_to_cm_matrix, transform
from darkscan.physics.constants import ELECTRON_MASS, MUON_MASS
from darkscan.physics.models import Model, register_model
from darkscan.select.variables import (
    Column,
    count_near,
    four_vector,
    leading_two_tracks,
    register_variables,
    relative_momenta,
)

EMU_RECOIL_COLUMNS = {
    "n_tracks": Column("number of tracks"),
    "n_electrons": Column("identified electrons among the two leading tracks"),
    "n_muons": Column("identified muons among the two leading tracks"),
    "emu_pair": Column("one electron and one muon (each identified as only that)"),
    "charge_sum": Column("charge sum of the two leading tracks"),
    "trigger": Column("two-track trigger"),
    "e_pt": Column(r"$p_T(e)$", "GeV"),
    "mu_pt": Column(r"$p_T(\mu)$", "GeV"),
    "emu_mass": Column(r"$M(e\mu)$", "GeV"),
    "pt_emu_cm": Column(r"$p^*_T(e\mu)$", "GeV"),
    "recoil_mass_squared": Column(r"$M^2_{\mathrm{recoil}}(e\mu)$", "GeV$^2$"),
    "recoil_mass": Column(r"$M_{\mathrm{recoil}}(e\mu)$", "GeV"),
    "recoil_p_cm": Column(r"$p^*_{\mathrm{recoil}}$", "GeV"),
    "recoil_theta_lab": Column(r"$\theta_{\mathrm{recoil}}$ (lab)", "deg"),
    "n_photons_near_recoil": Column("photons near the recoil"),
    "n_klm_near_recoil": Column("KLM photon clusters near the recoil"),
    "extra_energy": Column(r"$E_{\mathrm{extra}}$ (lab)", "GeV"),
    "pt_thrust_max": Column(r"max. $p^*_T$ w.r.t. the thrust axis", "GeV"),
    "pt_max_wrt_min_cm": Column(r"$p^*_T$ of the harder lepton w.r.t. the softer", "GeV"),
    "pl_max_wrt_min_cm": Column(r"$p^*_L$ of the harder lepton w.r.t. the softer", "GeV"),
}


def _electron_first(tracks: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The two leading tracks reordered (electron candidate, muon candidate), and whether they are an e mu pair.

    A track is an electron candidate if identified as an electron and not as a muon, a muon
    candidate the other way round; where the pair is not one of each, the order is kept.
    """
    e_only = tracks["electron_id"] & ~tracks["muon_id"]
    mu_only = tracks["muon_id"] & ~tracks["electron_id"]
    pair = (e_only[:, 0] & mu_only[:, 1]) | (mu_only[:, 0] & e_only[:, 1])
    swap = mu_only[:, 0] & e_only[:, 1]
    order = np.where(swap[:, None], [1, 0], [0, 1])
    return np.take_along_axis(tracks["p"], order[:, :, None], axis=1), pair


@register_variables("emu_recoil", branches=("track", "photon", "klm", "trigger"), columns=EMU_RECOIL_COLUMNS)
def emu_recoil(events: ak.Array, experiment: dict, *, photon_cone_deg: float = 15.0) -> dict[str, np.ndarray]:
    """Columns of an e mu + missing-momentum search (recoil against the e mu pair).

    The recoil four-momentum is the initial state (nominal beams) minus the electron candidate
    (electron mass) and the muon candidate (muon mass); ``recoil_mass`` is the signed square
    root of its mass squared in the CM frame.

    Args:
        events: reconstructed events of one chunk.
        experiment: the experiment config (its beams define the CM frame).
        photon_cone_deg: ECL and KLM clusters within this angle of the recoil (lab) are counted.
    """
    beams = Beams(**experiment["beams"])
    tracks = leading_two_tracks(events.track)
    p, pair = _electron_first(tracks)
    n_tracks = tracks["n_tracks"]
    leptons = np.stack([four_vector(p[:, 0], ELECTRON_MASS), four_vector(p[:, 1], MUON_MASS)], axis=1)  # lab: e, mu
    recoil_lab = np.sum(beam_four_momenta(beams), axis=0)[None, :] - leptons[:, 0] - leptons[:, 1]
    to_cm = lab_to_cm_matrix(beams)
    leptons_cm = transform(leptons, to_cm)
    recoil_cm = transform(recoil_lab, to_cm)
    pair_cm = leptons_cm[:, 0] + leptons_cm[:, 1]
    m2 = recoil_cm[:, 0] ** 2 - (recoil_cm[:, 1:] ** 2).sum(-1)
    recoil_dir = recoil_lab[:, 1:]
    return {
        "n_tracks": n_tracks,
        "n_electrons": tracks["electron_id"].sum(axis=1).astype(np.int64),
        "n_muons": tracks["muon_id"].sum(axis=1).astype(np.int64),
        "emu_pair": pair.astype(np.int64),
        "charge_sum": np.where(n_tracks >= 2, tracks["charge"].sum(axis=1), 99),
        "trigger": ak.to_numpy(events.trigger).astype(np.int64),
        "e_pt": np.hypot(p[:, 0, 0], p[:, 0, 1]),
        "mu_pt": np.hypot(p[:, 1, 0], p[:, 1, 1]),
        "emu_mass": np.sqrt(np.maximum(pair_cm[:, 0] ** 2 - (pair_cm[:, 1:] ** 2).sum(-1), 0.0)),
        "pt_emu_cm": np.hypot(pair_cm[:, 1], pair_cm[:, 2]),
        "recoil_mass_squared": m2,
        "recoil_mass": np.sign(m2) * np.sqrt(np.abs(m2)),
        "recoil_p_cm": np.linalg.norm(recoil_cm[:, 1:], axis=-1),
        "recoil_theta_lab": np.degrees(np.arctan2(np.hypot(recoil_dir[:, 0], recoil_dir[:, 1]), recoil_dir[:, 2])),
        "n_photons_near_recoil": count_near(events.photon, recoil_dir, photon_cone_deg),
        "n_klm_near_recoil": count_near(events.klm, recoil_dir, photon_cone_deg),
        "extra_energy": ak.to_numpy(ak.sum(events.photon.e, axis=1)).astype(np.float64),
        **relative_momenta(leptons_cm),
    }


def _invisible(mass: np.ndarray, mass2: np.ndarray | None = None) -> np.ndarray:
    return np.ones_like(np.asarray(mass, float))


register_model(
    Model(
        name="lfv_zprime",
        coupling="g'",
        power=2,
        mass_label="$M_{Z'}$",
        coupling_label=r"$g'_{e\mu}$",
        xsec_label=r"$\sigma(e^+e^-\to e^\pm\mu^\mp Z')\times$BF($Z'\to$inv.)",
        branchings={"invisible": _invisible},
    )
)
