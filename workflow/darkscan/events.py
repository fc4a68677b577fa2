"""The generator-level event record shared by every process.

Every generator returns :class:`TruthEvents`: final-state particles in the
centre-of-mass (CM) frame of the colliding beams, with the incoming electron
along +z, padded to a fixed number of particles per event. Detector response
(``darkscan.experiments.detector``) boosts them to the lab and smears them.
"""

from __future__ import annotations

import dataclasses

import numpy as np

#: PDG ids used by the detector simulation (signs carry the charge convention of the PDG).
PDG_ELECTRON = 11
PDG_MUON = 13
PDG_TAU = 15
PDG_PHOTON = 22
PDG_PION = 211
PDG_INVISIBLE = 0  # padding; invisible particles are summed into ``TruthEvents.invisible``


@dataclasses.dataclass(frozen=True)
class TruthEvents:
    """A chunk of generated events in the CM frame.

    Attributes:
        pdg: (N, P) int32 PDG ids of visible final-state particles, 0 marks padding.
        p4: (N, P, 4) float64 four-momenta (E, px, py, pz) in GeV, CM frame, +z = e- beam.
        invisible: (N, 4) float64 summed four-momentum of invisible particles (neutrinos,
            Z' -> invisible, ...), CM frame, GeV. Zeros when there are none.
        weight: (N,) float64 cross-section weight in fb per event: ``weight.sum()`` over a
            sample of N events is the cross section in fb of the generated phase space.
    """

    pdg: np.ndarray
    p4: np.ndarray
    invisible: np.ndarray
    weight: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.weight)
        if self.pdg.shape[0] != n or self.p4.shape[:2] != self.pdg.shape or self.p4.shape[2] != 4:
            raise ValueError(
                f"inconsistent TruthEvents shapes: pdg {self.pdg.shape}, p4 {self.p4.shape}, weight {self.weight.shape}"
            )
        if self.invisible.shape != (n, 4):
            raise ValueError(f"invisible must have shape ({n}, 4), got {self.invisible.shape}")

    def __len__(self) -> int:
        return len(self.weight)

    def take(self, index: np.ndarray) -> TruthEvents:
        """Return the events selected by a boolean mask or an index array."""
        return TruthEvents(self.pdg[index], self.p4[index], self.invisible[index], self.weight[index])


def concatenate(chunks: list[TruthEvents]) -> TruthEvents:
    """Concatenate chunks, padding to the largest particle multiplicity."""
    width = max(c.pdg.shape[1] for c in chunks)

    def pad(a: np.ndarray, extra_dims: tuple[int, ...]) -> np.ndarray:
        out = np.zeros((a.shape[0], width, *extra_dims), dtype=a.dtype)
        out[:, : a.shape[1]] = a
        return out

    return TruthEvents(
        pdg=np.concatenate([pad(c.pdg, ()) for c in chunks]),
        p4=np.concatenate([pad(c.p4, (4,)) for c in chunks]),
        invisible=np.concatenate([c.invisible for c in chunks]),
        weight=np.concatenate([c.weight for c in chunks]),
    )


@dataclasses.dataclass(frozen=True)
class CrossSection:
    """A cross section in fb with its (statistical) uncertainty."""

    value_fb: float
    error_fb: float
