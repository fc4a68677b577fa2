"""Imposed escape of photons: importance sampling of the detector's rare misses.

A search whose background is a photon the detector missed (the second photon of e+e- ->
gamma gamma in the single-photon search, the photon of mu mu gamma in a recoil search) would
need the background simulated ~1 / P(miss) times over for its MC to carry the luminosity: a
photon in the crystals is missed with ~1e-4. A background sample can name such photons instead
(``escapes: [index, ...]`` in its channel entry, the indices of its generator's particle list):
each event's weight is multiplied by the probability that every named photon leaves no ECL
cluster and no KLM hit, the hermeticity model's own numbers
(:func:`darkscan.experiments.hermeticity.ecl_photon_probability` and ``klm_photon_probability``
at the photon's lab energy and direction), and the photons become invisible (their
four-momenta move to ``invisible``). The expected distribution of every other quantity is that
of the brute-force simulation; the test (tests/generate/test_escape.py) compares both.

The probability of a cluster below the ECL threshold after smearing is not included: a named
photon that hits the crystals must be well above ``calorimeter.photon_energy_min`` (checked per
event: a softer one raises an error naming the sample); beyond the ECL any energy escapes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from darkscan.beams import Beams
from darkscan.events import PDG_PHOTON, TruthEvents
from darkscan.experiments import hermeticity
from darkscan.experiments.beams import cm_to_lab_matrix, transform

#: a named photon must have at least this many times the ECL threshold (lab)
THRESHOLD_MARGIN = 3.0


@dataclasses.dataclass(frozen=True)
class Escape:
    """Photons of a sample whose escape is imposed, with the detector that misses them."""

    particles: tuple[int, ...]
    beams: Beams
    calorimeter: Mapping
    sample: str = ""

    @classmethod
    def of(cls, entry: Mapping, experiment: Mapping, sample: str = "") -> Escape | None:
        """The escape of a channel's sample entry (None without ``escapes``)."""
        particles = tuple(int(i) for i in entry.get("escapes", ()))
        if not particles:
            return None
        return cls(particles, Beams(**experiment["beams"]), experiment["calorimeter"], sample)

    def probability(self, events: TruthEvents) -> np.ndarray:
        """Per event, the probability that every named photon leaves no ECL cluster and no KLM hit."""
        if any(i >= events.pdg.shape[1] for i in self.particles):
            raise ValueError(
                f"{self.sample}: escapes {list(self.particles)} beyond the {events.pdg.shape[1]} particles"
            )
        if len(events.weight) and not np.all(events.pdg[:, list(self.particles)] == PDG_PHOTON):
            raise ValueError(f"{self.sample}: escapes names particles {list(self.particles)} that are not all photons")
        lab = transform(events.p4[:, list(self.particles)], cm_to_lab_matrix(self.beams))
        energy = lab[..., 0]
        cos = lab[..., 3] / np.maximum(np.linalg.norm(lab[..., 1:], axis=-1), 1e-300)
        p_ecl = hermeticity.ecl_photon_probability(energy, cos, self.calorimeter)
        # where a photon hits crystals, one near the threshold could also be lost by its smearing
        threshold = THRESHOLD_MARGIN * float(self.calorimeter.get("photon_energy_min", 0.0))
        soft = (p_ecl > 0.0) & (energy < threshold)
        if soft.any():
            raise ValueError(
                f"{self.sample}: an escaping photon in the ECL has {energy[soft].min():.3g} GeV in the lab, below "
                f"{THRESHOLD_MARGIN:g} x the ECL threshold ({threshold:.3g} GeV): raise its generator energy cut"
            )
        p_klm = hermeticity.klm_photon_probability(energy, cos, self.calorimeter)
        return np.prod((1.0 - p_ecl) * (1.0 - p_klm), axis=-1)

    def apply(self, events: TruthEvents) -> TruthEvents:
        """The events with the named photons made invisible and the weights times their escape probability."""
        weight = events.weight * self.probability(events)
        pdg, p4 = events.pdg.copy(), events.p4.copy()
        invisible = events.invisible + p4[:, list(self.particles)].sum(axis=1)
        pdg[:, list(self.particles)] = 0
        p4[:, list(self.particles)] = 0.0
        return TruthEvents(pdg=pdg, p4=p4, invisible=invisible, weight=weight)
