"""Registry of processes: the extension point through which channels name generators.

A process is registered with :func:`register_process` and looked up by the name a channel
config uses in ``samples: {<sample>: {process: <name>, ...}}``. A registered generator is a
callable::

    generate(n_events: int, rng: numpy.random.Generator, *, sqrt_s: float, **options) -> TruthEvents

``options`` are the keyword options of the sample in the channel config (e.g. ``mass``,
``coupling``, generator-level cuts). Generators return weighted events whose weights sum to
the cross section (fb) of the generated phase space, so that ``sum(weight) * lumi_fb`` is
the expected number of events.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Protocol

import numpy as np

from darkscan.events import TruthEvents
from darkscan.registry import Registry


class Generator(Protocol):
    def __call__(self, n_events: int, rng: np.random.Generator, *, sqrt_s: float, **options) -> TruthEvents: ...


@dataclasses.dataclass(frozen=True)
class Process:
    """A registered process.

    Attributes:
        name: name used in configs.
        generate: the generator callable.
        description: one line for people.
        generator_name: name of the generator recorded in file metadata.
        unweighted: True if the generator produces equal weights (e.g. Pythia).
        xsec: optional cross-section function ``xsec(*, sqrt_s, mass=None, mass2=None,
            coupling=None, theta_min=None, theta_max=None) -> CrossSection`` (closed form where one
            exists); without it :func:`cross_section` integrates the generator's weights.
        radiative: the radiative corrections the generator includes (``""``: none, tree level /
            Born), stated by ``darkscan xsec`` next to the number.
        max_mass: optional ``max_mass(sqrt_s) -> float``: the largest produced mass (GeV) a signal
            process can make at ``sqrt_s`` (e.g. sqrt(s) - 2 m_mu for e+e- -> mu+ mu- Z'); signal
            masses are checked against it before any job (:mod:`darkscan.preflight`).
    """

    name: str
    generate: Generator
    description: str
    generator_name: str
    unweighted: bool = False
    xsec: Callable | None = None
    max_mass: Callable[[float], float] | None = None
    radiative: str = ""


# Importing the process modules runs their @register_process decorators.
_PROCESSES: Registry[Process] = Registry("process", builtins=("darkscan.generate.processes",), plural="processes")


def register_process(
    name: str,
    *,
    description: str,
    generator_name: str = "darkscan",
    unweighted: bool = False,
    xsec: Callable | None = None,
    max_mass: Callable[[float], float] | None = None,
    radiative: str = "",
) -> Callable[[Generator], Generator]:
    """Decorator registering a generator under ``name``."""

    def wrap(func: Generator) -> Generator:
        _PROCESSES.add(name, Process(name, func, description, generator_name, unweighted, xsec, max_mass, radiative))
        return func

    return wrap


def get_process(name: str) -> Process:
    """Return the registered process ``name``; the error lists what is allowed."""
    return _PROCESSES.get(name)


def process_names() -> list[str]:
    return _PROCESSES.names()
