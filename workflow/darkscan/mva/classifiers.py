"""The MVA's classifiers (channel key ``mva.method``): how a range's classifier trains, is saved
and is read back.

* ``lightgbm``: gradient-boosted trees (LightGBM, binary cross entropy, deterministic, one
  thread), saved as LightGBM text models ``range{i}.txt``;
* ``punzi_net``: Belle II's Punzi-loss network (:mod:`darkscan.mva.punzi_net`: cross entropy,
  then the differentiable Punzi figure of merit), saved as JSON ``range{i}.json`` (the
  standardisation and the weights, floats written exactly).

Both see the same training rows (:class:`TrainingSet`), and the working point of either is
chosen by :func:`darkscan.mva.training.train_range` from the scores, so the methods differ only
in the classifier. A classifier predicts like a LightGBM booster: ``predict(x, num_threads=1)``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Mapping
from typing import Any

import lightgbm
import numpy as np

from darkscan.mva import punzi_net


@dataclasses.dataclass(frozen=True)
class TrainingSet:
    """The fit rows of one range: each signal mass's events, the backgrounds and their windows."""

    signals: list[np.ndarray]  # features (n_j, k) of each signal mass
    signal_weights: list[np.ndarray]  # their weights (n_j,)
    background: np.ndarray  # features (n, k)
    background_weight: np.ndarray  # expected events (n,) at the channel luminosity
    background_fit: np.ndarray  # fit-variable values (n,)
    windows: list[tuple[float, float]]  # each signal mass's window in the fit variable
    background_scale: float  # from the fit rows to all events


@dataclasses.dataclass(frozen=True)
class Classifier:
    """How one method trains (``train(data, features=, settings=, seed=)``), saves and loads a
    range's model, and the importance of each feature (fractions)."""

    name: str
    suffix: str
    train: Callable[..., Any]
    save: Callable[[Any, str], None]
    load: Callable[[str], Any]
    importance: Callable[[Any], np.ndarray]
    version: str


def _train_lightgbm(data: TrainingSet, *, features: list[str], settings: Mapping, seed: int) -> lightgbm.Booster:
    """The signal masses normalised to one each and together to the background's total."""
    w_sig = np.concatenate([w / max(w.sum(), 1e-300) for w in data.signal_weights])
    w_sig = w_sig * data.background_weight.sum() / w_sig.sum()
    x = np.concatenate([*data.signals, data.background])
    y = np.concatenate([np.ones(len(w_sig)), np.zeros(len(data.background))])
    w = np.concatenate([w_sig, data.background_weight])
    params = {
        "objective": "binary",
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1,
        "seed": seed,
        "verbosity": -1,
        **settings["classifier"],
    }
    rounds = int(params.pop("num_boost_round"))
    return lightgbm.train(params, lightgbm.Dataset(x, y, weight=w / w.mean(), feature_name=list(features)), rounds)


def _lightgbm_importance(booster: lightgbm.Booster) -> np.ndarray:
    gain = booster.feature_importance(importance_type="gain")
    return gain / max(gain.sum(), 1e-300)


def _train_punzi_net(data: TrainingSet, *, features: list[str], settings: Mapping, seed: int) -> punzi_net.PunziNet:
    del features
    problem, mean, scale = punzi_net.punzi_problem(
        data.signals,
        data.background,
        data.background_weight,
        data.background_fit,
        data.windows,
        background_scale=data.background_scale,
    )
    options = settings["punzi_net"]
    return punzi_net.train_punzi_net(
        problem,
        mean=mean,
        scale=scale,
        seed=seed,
        hidden=int(options["hidden"]),
        bce_steps=int(options["bce_steps"]),
        punzi_steps=int(options["punzi_steps"]),
        rate=float(options["learning_rate"]),
        a=float(settings["punzi_a"]),
        b=float(settings["punzi_b"]),
    )


def _save_net(net: punzi_net.PunziNet, path: str) -> None:
    fields = {f.name: np.asarray(getattr(net, f.name)).tolist() for f in dataclasses.fields(net)}
    with open(path, "w") as out:
        json.dump({"format": "darkscan punzi_net 1", **fields}, out, indent=1)


def _load_net(path: str) -> punzi_net.PunziNet:
    with open(path) as f:
        fields = json.load(f)
    fields.pop("format")
    return punzi_net.PunziNet(**{k: (float(v) if k == "b2" else np.asarray(v, float)) for k, v in fields.items()})


CLASSIFIERS: dict[str, Classifier] = {
    "lightgbm": Classifier(
        "lightgbm",
        ".txt",
        _train_lightgbm,
        lambda booster, path: booster.save_model(path),
        lambda path: lightgbm.Booster(model_file=path),
        _lightgbm_importance,
        "lightgbm " + lightgbm.__version__,
    ),
    "punzi_net": Classifier(
        "punzi_net", ".json", _train_punzi_net, _save_net, _load_net, punzi_net.importance, "darkscan punzi_net 1"
    ),
}


def classifier(name: str) -> Classifier:
    """The classifier ``name`` (``mva.method``)."""
    if name not in CLASSIFIERS:
        raise ValueError(f"mva.method {name!r} is not one of {sorted(CLASSIFIERS)}")
    return CLASSIFIERS[name]


def model_path(model_dir: str | os.PathLike, index: int, method: str) -> str:
    """The file of range ``index``'s model."""
    return os.path.join(model_dir, f"range{index}{classifier(method).suffix}")
