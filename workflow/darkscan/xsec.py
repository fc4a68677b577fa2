"""Cross sections for people and scripts: ``darkscan xsec EXPERIMENT PROCESS [...]``.

A process with a registered closed-form ``xsec`` function uses it; any other process is
integrated by Monte Carlo from its generator (sum of weights, error sqrt(sum w^2)).
"""

from __future__ import annotations

import inspect
import pathlib

import numpy as np

from darkscan import config as cfg
from darkscan.events import CrossSection
from darkscan.generate.registry import get_process

#: the repository's config directory next to the (editable) installed package
PACKAGE_CONFIG_DIR = pathlib.Path(__file__).resolve().parents[2] / "config"


def config_dir(directory: str | pathlib.Path | None = None) -> pathlib.Path:
    """``directory``, else ``./config`` when it holds experiments, else the package's own."""
    if directory is not None:
        return pathlib.Path(directory)
    local = pathlib.Path("config")
    return local if (local / "experiments").is_dir() else PACKAGE_CONFIG_DIR


def experiment_by_name(name: str, *, directory: str | pathlib.Path | None = None) -> dict:
    """The validated experiment ``<config dir>/experiments/<name>.yaml`` (``beams.sqrt_s`` applied);
    the error lists the experiments that exist."""
    experiments = config_dir(directory) / "experiments"
    path = experiments / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in experiments.glob("*.yaml"))
        raise ValueError(f"unknown experiment {name!r}; known experiments: {known} (in {experiments})")
    data = cfg.validate(cfg.load_yaml(path), "experiment", where=str(path))
    cfg.apply_sqrt_s(data["beams"], where=str(path))
    return data


def _required_options(function) -> list[str]:
    """Keyword options of a cross-section or generator function that have no usable default."""
    parameters = inspect.signature(function).parameters
    return [n for n in ("mass", "mass2", "coupling") if n in parameters and parameters[n].default is None]


def _monte_carlo(process, *, sqrt_s: float, options: dict, events: int, seed: int) -> CrossSection:
    accepted = inspect.signature(process.generate).parameters
    unknown = [k for k in options if k not in accepted and not any(p.kind == p.VAR_KEYWORD for p in accepted.values())]
    if unknown:
        raise ValueError(
            f"process {process.name!r} takes no option(s) {unknown}; "
            f"its options: {[p for p in accepted if p not in ('n_events', 'rng', 'sqrt_s')]}"
        )
    weights = process.generate(events, np.random.default_rng(seed), sqrt_s=sqrt_s, **options).weight
    return CrossSection(float(weights.sum()), float(np.sqrt((weights**2).sum())))


def cross_section_for_cli(
    experiment: str,
    process: str,
    *,
    mass: float | None = None,
    mass2: float | None = None,
    coupling: float | None = None,
    theta_min: float | None = None,
    theta_max: float | None = None,
    events: int = 200_000,
    seed: int = 1,
    config_directory: str | pathlib.Path | None = None,
) -> dict:
    """One JSON-ready dict: process, experiment, sqrt_s, xsec_fb, xsec_err_fb and the inputs."""
    exp = experiment_by_name(experiment, directory=config_directory)
    sqrt_s = cfg.Beams(**exp["beams"]).sqrt_s
    proc = get_process(process)
    arguments = {"mass": mass, "mass2": mass2, "coupling": coupling, "theta_min": theta_min, "theta_max": theta_max}
    given = {k: v for k, v in arguments.items() if v is not None}
    missing = [n for n in _required_options(proc.generate) if n not in given]
    if missing:
        flags = ", ".join(f"--{n}" for n in missing)
        raise ValueError(f"process {process!r} needs {flags} (GeV)")
    if proc.xsec is not None:
        result = proc.xsec(sqrt_s=sqrt_s, **given)
        method = "closed form"
    else:
        if "theta_min" in given or "theta_max" in given:
            raise ValueError(
                f"process {process!r} has no --theta-min/--theta-max acceptance; "
                "set its generator cuts in a channel config instead"
            )
        result = _monte_carlo(proc, sqrt_s=sqrt_s, options=given, events=events, seed=seed)
        method = f"Monte Carlo ({events} events, seed {seed})"
    return {
        "process": process,
        "experiment": experiment,
        "sqrt_s": sqrt_s,
        "xsec_fb": result.value_fb,
        "xsec_err_fb": result.error_fb,
        "method": method,
        "description": proc.description,
        "radiative_corrections": proc.radiative or "none: tree level / Born",
        "acceptance": _acceptance(given),
        **given,
    }


def _acceptance(given: dict) -> str:
    """The phase space the number covers, as a sentence for the JSON."""
    if "theta_min" in given or "theta_max" in given:
        return f"CM polar angle {given.get('theta_min', 0)}-{given.get('theta_max', 180)} deg"
    return "the generator's default phase space (its defaults for cuts and decays)"
