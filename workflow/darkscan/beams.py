"""The colliding beams of an experiment (the ``beams`` section of its config).

At the bottom of the package (imports nothing of darkscan): config, physics, experiments and
generate all use it. Beam kinematics (boosts, four-momenta) are in
:mod:`darkscan.experiments.beams`.
"""

from __future__ import annotations

import dataclasses
import math


@dataclasses.dataclass(frozen=True)
class Beams:
    """Beam energies (GeV) and full crossing angle (rad)."""

    electron_energy: float
    positron_energy: float
    crossing_angle: float = 0.0
    sqrt_s_spread: float = 0.0

    @property
    def sqrt_s(self) -> float:
        """CM energy in GeV (massless beams)."""
        half = self.crossing_angle / 2.0
        e1, e2 = self.electron_energy, self.positron_energy
        # e- at +half, e+ at pi - half around the y axis: p1.p2 = e1 e2 (1 + cos(crossing)).
        return math.sqrt(2.0 * e1 * e2 * (1.0 + math.cos(2.0 * half)))
