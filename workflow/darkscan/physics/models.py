"""Theory models: how a cross-section limit becomes a limit on the model's coupling.

Each model names its coupling, the power p with which the signal cross section grows with it
(sigma = c^p sigma(c = 1): p = 2 for g' and g_agg, p = 1 for eps^2 alpha_D), and the branching
fraction of the searched decay in each scenario a channel may ask for (``coupling.scenarios.*.
branching``). A limit sigma_lim on sigma x BF becomes c_lim = (sigma_lim / (sigma(c=1) BF))^(1/p).
Register a new model with :func:`register_model`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from darkscan.physics import signals, zprime
from darkscan.physics.constants import ALPHA_EM
from darkscan.registry import Registry

Branching = Callable[[np.ndarray, np.ndarray | None], np.ndarray]


@dataclasses.dataclass(frozen=True)
class Model:
    """A theory model: coupling name, cross-section power and branching fractions per scenario."""

    name: str
    coupling: str
    power: int
    branchings: dict[str, Branching]
    mass_label: str = "Mass"
    coupling_label: str = "coupling"
    xsec_label: str = r"$\sigma\times$BF"
    #: label of the second mass of two-mass scans (e.g. m_h')
    mass2_label: str = "Mass 2"
    #: optional band of preferred couplings drawn on the coupling plot: mass grid -> (low, high)
    reference_band: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None
    reference_band_label: str = ""

    def branching(self, scenario: str, mass: np.ndarray, mass2: np.ndarray | None = None) -> np.ndarray:
        if scenario not in self.branchings:
            raise ValueError(
                f"model {self.name!r} has no branching scenario {scenario!r}; allowed: {sorted(self.branchings)}"
            )
        return np.asarray(self.branchings[scenario](np.asarray(mass, float), mass2), float)

    def coupling_limit(
        self, xsec_limit: np.ndarray, xsec_at_unit_coupling: np.ndarray, branching: np.ndarray
    ) -> np.ndarray:
        """c_lim = (sigma_lim / (sigma(c = 1) BF))^(1/p)."""
        return (np.asarray(xsec_limit, float) / (np.asarray(xsec_at_unit_coupling, float) * branching)) ** (
            1.0 / self.power
        )


# The built-in models are registered below in this module.
_MODELS: Registry[Model] = Registry("model")


def register_model(model: Model) -> Model:
    """Register ``model`` under its name (``model:`` of a channel config)."""
    return _MODELS.add(model.name, model)


def get_model(name: str) -> Model:
    """The registered model ``name`` (plugins of darkscan.channels included)."""
    return _MODELS.get(name)


def model_names() -> list[str]:
    """The registered models."""
    return _MODELS.names()


#: Delta a_mu = a_mu(exp) - a_mu(SM) = (251 +- 59) x 10^-11: Muon g-2, PRL 126 (2021) 141801, with
#: the 2020 Theory Initiative value (Phys. Rept. 887 (2020) 1)
DELTA_A_MU = 251e-11
DELTA_A_MU_ERR = 59e-11


def _gm2_band(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The L_mu - L_tau couplings g' that explain Delta a_mu within 2 sigma."""
    low = zprime.coupling_for_delta_a_mu(DELTA_A_MU - 2 * DELTA_A_MU_ERR, grid)
    return low, zprime.coupling_for_delta_a_mu(DELTA_A_MU + 2 * DELTA_A_MU_ERR, grid)


def _ones(mass, mass2=None):
    return np.ones_like(np.asarray(mass, float))


register_model(
    Model(
        name="lmu_ltau_zprime",
        coupling="g'",
        power=2,
        mass_label="$M_{Z'}$",
        coupling_label="$g'$",
        xsec_label=r"$\sigma(e^+e^-\to\mu^+\mu^-Z')\times$BF(Z'$\to$inv.)",
        branchings={
            "lmu_ltau": lambda m, m2=None: zprime.branching_fraction_invisible(m, scenario="lmu_ltau"),
            "invisible": lambda m, m2=None: zprime.branching_fraction_invisible(m, scenario="invisible"),
        },
        reference_band=_gm2_band,
        reference_band_label=r"$(g-2)_\mu$ $\pm 2\sigma$ (2021)",
    )
)
register_model(
    Model(
        name="alp",
        coupling="g_agg [GeV^-1]",
        power=2,
        branchings={"gammagamma": _ones},
        mass_label="$m_a$",
        coupling_label=r"$g_{a\gamma\gamma}$ [GeV$^{-1}$]",
        xsec_label=r"$\sigma(e^+e^-\to\gamma a)\times$BF($a\to\gamma\gamma$)",
    )
)
register_model(
    Model(
        name="dark_higgs",
        coupling="eps^2 alpha_D",
        power=1,
        mass_label="$M_{A'}$",
        mass2_label="$M_{h'}$",
        coupling_label=r"$\epsilon^2\alpha_D$",
        xsec_label=r"$\sigma(e^+e^-\to A'h')\times$BF($A'\to\mu\mu$)",
        branchings={
            # h' invisible (long-lived or invisible); A' -> mu mu from the kinetic-mixing widths
            "mumu": lambda m, m2=None: signals.darkphoton_branching_fraction(m, "mumu", scenario="visible"),
            "mumu_only": _ones,
        },
    )
)

#: the electron charge e = sqrt(4 pi alpha): a dark photon couples to the muon with g' = eps e
_E_CHARGE = float(np.sqrt(4.0 * np.pi * ALPHA_EM))


def _gm2_band_darkphoton(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The kinetic mixings eps whose one-loop Delta a_mu (that of a vector with g' = eps e,
    Pospelov, PRD 80 (2009) 095002) explains the measured Delta a_mu within 2 sigma."""
    low, high = _gm2_band(grid)
    return low / _E_CHARGE, high / _E_CHARGE


register_model(
    Model(
        name="dark_photon",
        coupling="eps",
        power=2,
        mass_label="$m_{A'}$",
        coupling_label=r"$\epsilon$",
        xsec_label=r"$\sigma(e^+e^-\to\gamma A')\times$BF($A'\to$inv.)",
        # BF(A' -> invisible) = 1: A' -> chi chi with alpha_D >> eps^2 alpha, as the searches assume
        branchings={"invisible": _ones},
        reference_band=_gm2_band_darkphoton,
        reference_band_label=r"$(g-2)_\mu$ $\pm 2\sigma$ (2021)",
    )
)
